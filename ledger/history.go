package ledger

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
)

// ErrCursor reports a page cursor that was not made by this ledger.
var ErrCursor = bankbridge.E(bankbridge.Invalid, "cursor_invalid", "the page cursor is not valid")

// ErrLimit reports a page size outside 1..500.
var ErrLimit = bankbridge.E(bankbridge.Invalid, "limit_invalid", "the page size must be between 1 and 500")

// HistoryLimit returns the page size for q.Limit: 50 by default, at most 500.
func HistoryLimit(n int) (int, error) {
	switch {
	case n == 0:
		return 50, nil
	case n < 0 || n > 500:
		return 0, ErrLimit
	}
	return n, nil
}

// Trim cuts a page read with limit+1 rows to limit and sets Next when there
// was a row past the page.
func (p *HistoryPage) Trim(limit int) {
	if len(p.Entries) <= limit {
		p.Next = nil
		return
	}
	p.Entries = p.Entries[:limit]
	last := p.Entries[limit-1].Transfer
	p.Next = &Cursor{At: last.Created, ID: last.ID}
}

// String encodes the cursor as an opaque URL-safe token.
func (c Cursor) String() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(c.At.UnixMicro()))
	binary.BigEndian.PutUint64(b[8:], uint64(c.ID))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ParseCursor decodes a token made by Cursor.String.
func ParseCursor(s string) (Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return Cursor{}, ErrCursor
	}
	at := int64(binary.BigEndian.Uint64(b[:8]))
	id := int64(binary.BigEndian.Uint64(b[8:]))
	if at <= 0 || id <= 0 {
		return Cursor{}, ErrCursor
	}
	return Cursor{At: time.UnixMicro(at).UTC(), ID: TransferID(id)}, nil
}

// EscapeLike escapes s for a LIKE pattern with ESCAPE '\'.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
