package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge/channels/inbox"
	"github.com/bankbridge/bankbridge/consent"
)

// The chat channels' inbox and linkings in progress (migration
// 0023_chat_inbox.sql), on the messenger store.
var (
	_ inbox.Store        = (*MessengerStore)(nil)
	_ inbox.LinkAttempts = (*MessengerStore)(nil)
)

// Enqueue implements inbox.Store: one multi-row insert, in one
// statement (so one transaction); a (platform, event id) already there is
// skipped by the unique constraint.
func (s *MessengerStore) Enqueue(ctx context.Context, evs []inbox.Event) (int, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO chat_inbox (platform, conversation, event_id, body, received_at) VALUES `)
	args := make([]any, 0, 5*len(evs))
	for i, e := range evs {
		if i > 0 {
			q.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5)
		args = append(args, e.Platform, e.Conversation, e.EventID, string(e.Body), micros(e.Received))
	}
	q.WriteString(` ON CONFLICT (platform, event_id) DO NOTHING`)
	res, err := s.db.W().Exec(ctx, q.String(), args...)
	if err != nil {
		return 0, s.db.Err("sqlstore.Inbox.Enqueue", err, nil)
	}
	n, err := res.RowsAffected()
	return int(n), s.db.Err("sqlstore.Inbox.Enqueue", err, nil)
}

// Claim implements inbox.Store. Only the head of a conversation (its
// oldest unprocessed event) is ever claimable, and only while it is not
// leased, so a conversation is processed by one worker at a time and in
// order. On PostgreSQL SKIP LOCKED lets instances claim at once without
// waiting on each other's rows; a head another claimer has locked is
// skipped, and the events behind it are not heads. On SQLite the one
// writer serialises claims.
func (s *MessengerStore) Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]inbox.Event, error) {
	rows, err := s.db.W().Query(ctx, `UPDATE chat_inbox SET owner = $1, lease_until = $2, attempts = attempts + 1
WHERE id IN (SELECT i.id FROM chat_inbox i WHERE i.done_at = 0 AND i.lease_until < $3
  AND NOT EXISTS (SELECT 1 FROM chat_inbox j WHERE j.platform = i.platform AND j.conversation = i.conversation AND j.done_at = 0 AND j.id < i.id)
  ORDER BY i.id LIMIT $4`+s.db.ClaimLock()+`)
RETURNING id, platform, conversation, event_id, body, received_at, attempts`, owner, micros(now.Add(lease)), micros(now), limit)
	if err != nil {
		return nil, s.db.Err("sqlstore.Inbox.Claim", err, nil)
	}
	evs, err := Collect(rows, func(r Scanner) (inbox.Event, error) {
		var e inbox.Event
		var body string
		var at, attempts int64
		err := r.Scan(&e.ID, &e.Platform, &e.Conversation, &e.EventID, &body, &at, &attempts)
		e.Body, e.Received, e.Attempts = []byte(body), fromMicros(at), int(attempts)
		return e, err
	})
	if err != nil {
		return nil, s.db.Err("sqlstore.Inbox.Claim", err, nil)
	}
	slices.SortFunc(evs, func(a, b inbox.Event) int { return int(a.ID - b.ID) })
	return evs, nil
}

// Done implements inbox.Store.
func (s *MessengerStore) Done(ctx context.Context, id int64, at time.Time, failure string) error {
	_, err := s.db.W().Exec(ctx, `UPDATE chat_inbox SET done_at = $1, failure = $2, owner = '', lease_until = 0 WHERE id = $3`, micros(at), failure, id)
	return s.db.Err("sqlstore.Inbox.Done", err, nil)
}

// Purge implements inbox.Store.
func (s *MessengerStore) Purge(ctx context.Context, before time.Time) (int, error) {
	res, err := s.db.W().Exec(ctx, `DELETE FROM chat_inbox WHERE done_at > 0 AND done_at < $1`, micros(before))
	if err != nil {
		return 0, s.db.Err("sqlstore.Inbox.Purge", err, nil)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// SaveLinkAttempt implements inbox.LinkAttempts; records that expired a
// day before this one's expiry are purged on the way.
func (s *MessengerStore) SaveLinkAttempt(ctx context.Context, a inbox.LinkAttempt) error {
	if _, err := s.db.W().Exec(ctx, `DELETE FROM chat_link_attempts WHERE expires_at < $1`, micros(a.Expires.Add(-24*time.Hour))); err != nil {
		return s.db.Err("sqlstore.SaveLinkAttempt", err, nil)
	}
	_, err := s.db.W().Exec(ctx, `INSERT INTO chat_link_attempts (platform, id, user_id, verifier, redirect_uri, grant_id, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7)
		ON CONFLICT (platform, id) DO UPDATE SET user_id = excluded.user_id, verifier = excluded.verifier, redirect_uri = excluded.redirect_uri,
		grant_id = excluded.grant_id, expires_at = excluded.expires_at`,
		a.Platform, a.ID, a.User, a.Verifier, a.RedirectURI, string(a.Grant), micros(a.Expires))
	return s.db.Err("sqlstore.SaveLinkAttempt", err, nil)
}

// TakeLinkAttempt implements inbox.LinkAttempts: one DELETE ...
// RETURNING, so one of concurrent callers gets the record.
func (s *MessengerStore) TakeLinkAttempt(ctx context.Context, platform, id string, now time.Time) (inbox.LinkAttempt, error) {
	a := inbox.LinkAttempt{Platform: platform, ID: id}
	var g string
	var exp int64
	err := s.db.W().QueryRow(ctx, `DELETE FROM chat_link_attempts WHERE platform = $1 AND id = $2 RETURNING user_id, verifier, redirect_uri, grant_id, expires_at`,
		platform, id).Scan(&a.User, &a.Verifier, &a.RedirectURI, &g, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return inbox.LinkAttempt{}, inbox.ErrLinkAttempt
	}
	if err != nil {
		return inbox.LinkAttempt{}, s.db.Err("sqlstore.TakeLinkAttempt", err, nil)
	}
	a.Grant, a.Expires = consent.GrantID(g), fromMicros(exp)
	if !now.Before(a.Expires) {
		return inbox.LinkAttempt{}, inbox.ErrLinkAttempt
	}
	return a, nil
}
