package headkv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// key is the one key of the bucket.
const key = "head"

// Memory is audit.Memory in a JetStream key-value bucket.
type Memory struct {
	nc *nats.Conn
	kv jetstream.KeyValue
}

var _ audit.Memory = (*Memory)(nil)

// Bucket is the bucket of cluster (a name stream.ValidCluster accepts).
func Bucket(cluster string) string { return "bankbridge_" + cluster + "_audit_head" }

// Dial connects to url and creates, or binds to, cluster's bucket.
func Dial(ctx context.Context, url, cluster string) (*Memory, error) {
	nc, err := nats.Connect(url, nats.Name("bankbridge-"+cluster+"-audit"), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("headkv: connect %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("headkv: jetstream: %w", err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: Bucket(cluster), History: 8,
		Description: "the disclosure log's last signed head (docs/audit.md)", Storage: jetstream.FileStorage})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("headkv: bucket %s: %w", Bucket(cluster), err)
	}
	return &Memory{nc: nc, kv: kv}, nil
}

// Close closes the connection.
func (m *Memory) Close() { m.nc.Close() }

// Last returns the remembered head with Rev the key's revision;
// audit.ErrNoHead when the bucket has none yet.
func (m *Memory) Last(ctx context.Context) (audit.Remembered, error) {
	var r audit.Remembered
	e, err := m.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return r, audit.ErrNoHead.WithOp("headkv.Last", err)
	}
	if err != nil {
		return r, fmt.Errorf("headkv: get: %w", err)
	}
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return r, fmt.Errorf("headkv: the remembered head (revision %d): %w", e.Revision(), err)
	}
	r.Rev = e.Revision()
	return r, nil
}

// Advance stores next if the key is still at revision prev (0: absent),
// and returns the new revision; audit.ErrMemoryMoved if another signer
// wrote first.
func (m *Memory) Advance(ctx context.Context, prev uint64, next audit.Remembered) (uint64, error) {
	next.Rev = 0
	b, err := json.Marshal(next)
	if err != nil {
		return 0, err
	}
	var rev uint64
	if prev == 0 {
		rev, err = m.kv.Create(ctx, key, b)
	} else {
		rev, err = m.kv.Update(ctx, key, b, prev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return 0, audit.ErrMemoryMoved.WithOp("headkv.Advance", err)
	}
	if err != nil {
		return 0, fmt.Errorf("headkv: advance from revision %d: %w", prev, err)
	}
	return rev, nil
}
