package sqlstore

import (
	"context"
	"fmt"
)

// Deployment returns the id this database generated when it was first
// migrated (migration 0011): the default cluster name of every instance
// that shares it (alerts/stream.Identity).
func (s Stores) Deployment(ctx context.Context) (string, error) {
	db := s.db
	var id string
	if err := db.R().QueryRow(ctx, `SELECT cluster FROM deployment WHERE id = 1`).Scan(&id); err != nil {
		return "", fmt.Errorf("%s: deployment: %w", db.d.Name, err)
	}
	return id, nil
}
