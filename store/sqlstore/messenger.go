package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/consent"
)

// MessengerStore implements assistant.Store: chat links, account linkings in
// progress, inbound event ids, conversations, transcripts and settings.
// Writes go through the writer; the atomic steps (taking a pending
// link, recording an event id) are single conditional statements.
type MessengerStore struct{ db *DB }

var _ assistant.Store = (*MessengerStore)(nil)

// Messenger returns the messenger store over db.
func (s Stores) Messenger() *MessengerStore { return &MessengerStore{db: s.db} }

// SaveLink stores l, replacing any link of the same key.
func (s *MessengerStore) SaveLink(ctx context.Context, l assistant.Link) error {
	_, err := s.db.W().Exec(ctx, `INSERT INTO chat_links (platform, user_id, customer_id, grant_id, linked_at) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (platform, user_id) DO UPDATE SET customer_id = excluded.customer_id, grant_id = excluded.grant_id, linked_at = excluded.linked_at`,
		l.Platform, l.User, int64(l.Customer), string(l.Grant), micros(l.Linked))
	return s.db.Err("sqlstore.SaveLink", err, nil)
}

const linkCols = `platform, user_id, customer_id, grant_id, linked_at`

func scanLink(r Scanner) (assistant.Link, error) {
	var l assistant.Link
	var c, at int64
	var g string
	if err := r.Scan(&l.Platform, &l.User, &c, &g, &at); err != nil {
		return l, err
	}
	l.Customer, l.Grant, l.Linked = bankbridge.CustomerID(c), consent.GrantID(g), fromMicros(at)
	return l, nil
}

// Link returns the link of k; assistant.ErrNotLinked.
func (s *MessengerStore) Link(ctx context.Context, k assistant.Key) (assistant.Link, error) {
	l, err := scanLink(s.db.R().QueryRow(ctx, `SELECT `+linkCols+` FROM chat_links WHERE platform = $1 AND user_id = $2`, k.Platform, k.User))
	if errors.Is(err, sql.ErrNoRows) {
		return l, assistant.ErrNotLinked
	}
	return l, s.db.Err("sqlstore.Link", err, nil)
}

// DeleteLink removes the link of k and reports whether there was one.
func (s *MessengerStore) DeleteLink(ctx context.Context, k assistant.Key) (bool, error) {
	res, err := s.db.W().Exec(ctx, `DELETE FROM chat_links WHERE platform = $1 AND user_id = $2`, k.Platform, k.User)
	if err != nil {
		return false, s.db.Err("sqlstore.DeleteLink", err, nil)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (s *MessengerStore) links(ctx context.Context, op, where string, arg any) ([]assistant.Link, error) {
	rows, err := s.db.R().Query(ctx, `SELECT `+linkCols+` FROM chat_links WHERE `+where+` ORDER BY linked_at, platform, user_id`, arg)
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	defer rows.Close()
	var out []assistant.Link
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, s.db.Err(op, err, nil)
		}
		out = append(out, l)
	}
	return out, s.db.Err(op, rows.Err(), nil)
}

// LinksByGrant lists the links made under a consent.
func (s *MessengerStore) LinksByGrant(ctx context.Context, g consent.GrantID) ([]assistant.Link, error) {
	return s.links(ctx, "sqlstore.LinksByGrant", "grant_id = $1", string(g))
}

// LinksByCustomer lists a customer's links, oldest first.
func (s *MessengerStore) LinksByCustomer(ctx context.Context, c bankbridge.CustomerID) ([]assistant.Link, error) {
	return s.links(ctx, "sqlstore.LinksByCustomer", "customer_id = $1", int64(c))
}

// SavePendingLink stores p, replacing any of the same key.
func (s *MessengerStore) SavePendingLink(ctx context.Context, p assistant.PendingLink) error {
	_, err := s.db.W().Exec(ctx, `INSERT INTO chat_link_pending (platform, user_id, verifier, expires_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (platform, user_id) DO UPDATE SET verifier = excluded.verifier, expires_at = excluded.expires_at`,
		p.Platform, p.User, p.Verifier, micros(p.Expires))
	return s.db.Err("sqlstore.SavePendingLink", err, nil)
}

// TakePendingLink deletes and returns the pending link of k in one
// statement, so one of concurrent callers gets it.
func (s *MessengerStore) TakePendingLink(ctx context.Context, k assistant.Key, now time.Time) (assistant.PendingLink, error) {
	p := assistant.PendingLink{Key: k}
	var exp int64
	err := s.db.W().QueryRow(ctx, `DELETE FROM chat_link_pending WHERE platform = $1 AND user_id = $2 RETURNING verifier, expires_at`,
		k.Platform, k.User).Scan(&p.Verifier, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return p, assistant.ErrNoPendingLink
	}
	if err != nil {
		return p, s.db.Err("sqlstore.TakePendingLink", err, nil)
	}
	p.Expires = fromMicros(exp)
	if !now.Before(p.Expires) {
		return assistant.PendingLink{Key: k}, assistant.ErrNoPendingLink
	}
	return p, nil
}

// FirstDelivery records an inbound event id and reports whether it is new;
// ids older than keep are purged now and then.
func (s *MessengerStore) FirstDelivery(ctx context.Context, platform, id string, at time.Time, keep time.Duration) (bool, error) {
	res, err := s.db.W().Exec(ctx, `INSERT INTO chat_events (platform, event_id, seen_at) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING`,
		platform, id, micros(at))
	if err != nil {
		return false, s.db.Err("sqlstore.FirstDelivery", err, nil)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	// Purge on about one insert in 256, cheaply bounded by the index.
	if n > 0 && keep > 0 && at.UnixMicro()&0xff == 0 {
		if _, err := s.db.W().Exec(ctx, `DELETE FROM chat_events WHERE seen_at < $1`, micros(at.Add(-keep))); err != nil {
			return true, s.db.Err("sqlstore.FirstDelivery", err, nil)
		}
	}
	return n > 0, nil
}

// ForgetDelivery implements assistant.Store.
func (s *MessengerStore) ForgetDelivery(ctx context.Context, platform, id string) error {
	_, err := s.db.W().Exec(ctx, `DELETE FROM chat_events WHERE platform = $1 AND event_id = $2`, platform, id)
	return s.db.Err("sqlstore.ForgetDelivery", err, nil)
}

// ClaimSend implements assistant.Store: one statement inserts the claim or
// takes over a stale one (ON CONFLICT ... DO UPDATE ... WHERE, the same on
// SQLite and PostgreSQL), so of concurrent claimers one wins.
func (s *MessengerStore) ClaimSend(ctx context.Context, platform, id string, now time.Time, lease time.Duration) (assistant.SendClaim, error) {
	res, err := s.db.W().Exec(ctx, `INSERT INTO chat_events (platform, event_id, seen_at, sending) VALUES ($1,$2,$3,1)
		ON CONFLICT (platform, event_id) DO UPDATE SET seen_at = excluded.seen_at
		WHERE chat_events.sending = 1 AND chat_events.seen_at < $4`,
		platform, id, micros(now), micros(now.Add(-lease)))
	if err != nil {
		return assistant.SendInFlight, s.db.Err("sqlstore.ClaimSend", err, nil)
	}
	if n, err := res.RowsAffected(); err != nil {
		return assistant.SendInFlight, err
	} else if n > 0 {
		return assistant.SendClaimed, nil
	}
	var sending int64
	err = s.db.W().QueryRow(ctx, `SELECT sending FROM chat_events WHERE platform = $1 AND event_id = $2`, platform, id).Scan(&sending)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return assistant.SendInFlight, nil // forgotten between the two statements: a failed send, retried later
	case err != nil:
		return assistant.SendInFlight, s.db.Err("sqlstore.ClaimSend", err, nil)
	case sending == 0:
		return assistant.SendDone, nil
	}
	return assistant.SendInFlight, nil
}

// SentDelivery implements assistant.Store.
func (s *MessengerStore) SentDelivery(ctx context.Context, platform, id string) error {
	_, err := s.db.W().Exec(ctx, `UPDATE chat_events SET sending = 0 WHERE platform = $1 AND event_id = $2`, platform, id)
	return s.db.Err("sqlstore.SentDelivery", err, nil)
}

const convCols = `platform, user_id, mode, pending, last_in_at, last_out_at, handed_at, updated_at`

func scanConversation(r Scanner) (assistant.Conversation, error) {
	var c assistant.Conversation
	var mode, pending string
	var in, out, handed, updated int64
	if err := r.Scan(&c.Platform, &c.User, &mode, &pending, &in, &out, &handed, &updated); err != nil {
		return c, err
	}
	c.Mode = assistant.Mode(mode)
	if pending != "" {
		c.Pending = new(assistant.Pending)
		if err := json.Unmarshal([]byte(pending), c.Pending); err != nil {
			return c, err
		}
		c.Pending.Expires = c.Pending.Expires.UTC()
	}
	c.LastIn, c.LastOut, c.HandedAt, c.Updated = fromMicros(in), fromMicros(out), fromMicros(handed), fromMicros(updated)
	return c, nil
}

func pendingText(p *assistant.Pending) string {
	if p == nil {
		return ""
	}
	return jsonText(p)
}

// Conversation returns the conversation of k; assistant.ErrNoConversation.
func (s *MessengerStore) Conversation(ctx context.Context, k assistant.Key) (assistant.Conversation, error) {
	c, err := scanConversation(s.db.R().QueryRow(ctx, `SELECT `+convCols+` FROM chat_conversations WHERE platform = $1 AND user_id = $2`, k.Platform, k.User))
	if errors.Is(err, sql.ErrNoRows) {
		return c, assistant.ErrNoConversation
	}
	return c, s.db.Err("sqlstore.Conversation", err, nil)
}

// SaveConversation stores c, replacing the one of the same key.
func (s *MessengerStore) SaveConversation(ctx context.Context, c assistant.Conversation) error {
	_, err := s.db.W().Exec(ctx, `INSERT INTO chat_conversations (`+convCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
		ON CONFLICT (platform, user_id) DO UPDATE SET mode = excluded.mode, pending = excluded.pending, last_in_at = excluded.last_in_at,
		last_out_at = excluded.last_out_at, handed_at = excluded.handed_at, updated_at = excluded.updated_at`,
		c.Platform, c.User, string(c.Mode), pendingText(c.Pending), micros(c.LastIn), micros(c.LastOut), micros(c.HandedAt), micros(c.Updated))
	return s.db.Err("sqlstore.SaveConversation", err, nil)
}

// HandedOver lists conversations a person has, longest waiting first.
func (s *MessengerStore) HandedOver(ctx context.Context, limit int) ([]assistant.Conversation, error) {
	rows, err := s.db.R().Query(ctx, `SELECT `+convCols+` FROM chat_conversations WHERE mode = 'human' ORDER BY handed_at, platform, user_id LIMIT $1`, limit)
	if err != nil {
		return nil, s.db.Err("sqlstore.HandedOver", err, nil)
	}
	defer rows.Close()
	var out []assistant.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, s.db.Err("sqlstore.HandedOver", err, nil)
		}
		out = append(out, c)
	}
	return out, s.db.Err("sqlstore.HandedOver", rows.Err(), nil)
}

// AppendMessage adds m to its conversation's transcript.
func (s *MessengerStore) AppendMessage(ctx context.Context, m assistant.Message) error {
	_, err := s.db.W().Exec(ctx, `INSERT INTO chat_messages (platform, user_id, at, direction, author, body) VALUES ($1,$2,$3,$4,$5,$6)`,
		m.Platform, m.User, micros(m.At), string(m.Dir), m.Author, m.Text)
	return s.db.Err("sqlstore.AppendMessage", err, nil)
}

// Messages returns the last limit messages of k, oldest first.
func (s *MessengerStore) Messages(ctx context.Context, k assistant.Key, limit int) ([]assistant.Message, error) {
	rows, err := s.db.R().Query(ctx, `SELECT at, direction, author, body FROM
		(SELECT id, at, direction, author, body FROM chat_messages WHERE platform = $1 AND user_id = $2 ORDER BY id DESC LIMIT $3) AS recent ORDER BY id`,
		k.Platform, k.User, limit)
	if err != nil {
		return nil, s.db.Err("sqlstore.Messages", err, nil)
	}
	defer rows.Close()
	var out []assistant.Message
	for rows.Next() {
		m := assistant.Message{Key: k}
		var at int64
		var dir string
		if err := rows.Scan(&at, &dir, &m.Author, &m.Text); err != nil {
			return nil, s.db.Err("sqlstore.Messages", err, nil)
		}
		m.At, m.Dir = fromMicros(at), assistant.Direction(dir)
		out = append(out, m)
	}
	return out, s.db.Err("sqlstore.Messages", rows.Err(), nil)
}

// Settings returns the customer's settings, or the defaults.
func (s *MessengerStore) Settings(ctx context.Context, c bankbridge.CustomerID) (assistant.Settings, error) {
	st := assistant.Settings{Customer: c}
	var privacy, lang string
	var alerts, updated int64
	err := s.db.R().QueryRow(ctx, `SELECT privacy, alerts, language, updated_at FROM chat_settings WHERE customer_id = $1`, int64(c)).Scan(&privacy, &alerts, &lang, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return assistant.DefaultSettings(c), nil
	}
	if err != nil {
		return st, s.db.Err("sqlstore.Settings", err, nil)
	}
	st.Privacy, st.Alerts, st.Language, st.Updated = assistant.PrivacyMode(privacy), alerts == 1, assistant.Language(lang), fromMicros(updated)
	return st, nil
}

// SaveSettings stores st.
func (s *MessengerStore) SaveSettings(ctx context.Context, st assistant.Settings) error {
	if !st.Language.Valid() {
		return bankbridge.E(bankbridge.Invalid, "chat_language_invalid", "the language is en, es or unset")
	}
	_, err := s.db.W().Exec(ctx, `INSERT INTO chat_settings (customer_id, privacy, alerts, language, updated_at) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (customer_id) DO UPDATE SET privacy = excluded.privacy, alerts = excluded.alerts, language = excluded.language, updated_at = excluded.updated_at`,
		int64(st.Customer), string(st.Privacy), boolInt(st.Alerts), string(st.Language), micros(st.Updated))
	return s.db.Err("sqlstore.SaveSettings", err, nil)
}

// Language is the customer's chosen language, "" when none: the same
// column Settings reads, so chat, web and e-mail share one choice.
func (s *MessengerStore) Language(ctx context.Context, c bankbridge.CustomerID) (assistant.Language, error) {
	st, err := s.Settings(ctx, c)
	return st.Language, err
}

// SetLanguage stores only the language, in one statement: a concurrent
// change of privacy or alerts is kept, and a customer without settings
// gets the defaults beside it.
func (s *MessengerStore) SetLanguage(ctx context.Context, c bankbridge.CustomerID, l assistant.Language, at time.Time) error {
	if !l.Valid() {
		return bankbridge.E(bankbridge.Invalid, "chat_language_invalid", "the language is en, es or unset")
	}
	d := assistant.DefaultSettings(c)
	_, err := s.db.W().Exec(ctx, `INSERT INTO chat_settings (customer_id, privacy, alerts, language, updated_at) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (customer_id) DO UPDATE SET language = excluded.language, updated_at = excluded.updated_at`,
		int64(c), string(d.Privacy), boolInt(d.Alerts), string(l), micros(at))
	return s.db.Err("sqlstore.SetLanguage", err, nil)
}

var _ assistant.Languages = (*MessengerStore)(nil)

// TimeZone implements assistant.TimeZones.
func (s *MessengerStore) TimeZone(ctx context.Context, c bankbridge.CustomerID) (string, error) {
	var zone string
	err := s.db.R().QueryRow(ctx, `SELECT time_zone FROM chat_settings WHERE customer_id = $1`, int64(c)).Scan(&zone)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return zone, s.db.Err("sqlstore.TimeZone", err, nil)
}

// SetTimeZone implements assistant.TimeZones: only the time zone, in one
// statement, as SetLanguage stores only the language. SaveSettings never
// writes it.
func (s *MessengerStore) SetTimeZone(ctx context.Context, c bankbridge.CustomerID, zone string, at time.Time) error {
	if zone != "" {
		if _, err := assistant.ParseTimeZone(zone); err != nil {
			return err
		}
	}
	d := assistant.DefaultSettings(c)
	_, err := s.db.W().Exec(ctx, `INSERT INTO chat_settings (customer_id, privacy, alerts, language, time_zone, updated_at) VALUES ($1,$2,$3,$4,$5,$6)
		ON CONFLICT (customer_id) DO UPDATE SET time_zone = excluded.time_zone, updated_at = excluded.updated_at`,
		int64(c), string(d.Privacy), boolInt(d.Alerts), string(d.Language), zone, micros(at))
	return s.db.Err("sqlstore.SetTimeZone", err, nil)
}

var _ assistant.TimeZones = (*MessengerStore)(nil)
