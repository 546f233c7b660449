package headkv_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/bankbridge/bankbridge/internal/testdb"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/audit/headkv"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsURL is the machine's NATS server (testdb.NATSURL).
func natsURL(t *testing.T) string { return testdb.NATSURL(t) }

// TestTwoSignersCannotBothAdvance: two instances read the same memory;
// the first to advance it wins, the second is told (ErrMemoryMoved) and,
// reading again, sees the winner's head. Another cluster's bucket is apart.
func TestTwoSignersCannotBothAdvance(t *testing.T) {
	t.Parallel()
	url := natsURL(t)
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	cluster := "t" + hex.EncodeToString(b)
	t.Cleanup(func() { // the shared server keeps buckets: remove ours
		nc, err := nats.Connect(url)
		if err != nil {
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		js.DeleteKeyValue(context.Background(), headkv.Bucket(cluster))
		js.DeleteKeyValue(context.Background(), headkv.Bucket(cluster+"x"))
	})
	a, err := headkv.Dial(ctx, url, cluster)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	c, err := headkv.Dial(ctx, url, cluster)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := a.Last(ctx); !errors.Is(err, audit.ErrNoHead) {
		t.Fatalf("Last on a new bucket = %v, want ErrNoHead", err)
	}
	head := func(size uint64) audit.Remembered {
		return audit.Remembered{Head: audit.SignedHead{Size: size, Root: audit.Hash{byte(size)}}, Checkpoint: "cp"}
	}
	r1, err := a.Advance(ctx, 0, head(10))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Advance(ctx, 0, head(11)); !errors.Is(err, audit.ErrMemoryMoved) {
		t.Fatalf("a second first head = %v, want ErrMemoryMoved", err)
	}
	got, err := c.Last(ctx)
	if err != nil || got.Head.Size != 10 || got.Rev != r1 {
		t.Fatalf("Last = %+v, %v; want size 10 at revision %d", got, err, r1)
	}
	if _, err := a.Advance(ctx, r1, head(20)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Advance(ctx, r1, head(21)); !errors.Is(err, audit.ErrMemoryMoved) {
		t.Fatalf("advancing from a stale revision = %v, want ErrMemoryMoved", err)
	}
	if got, _ := c.Last(ctx); got.Head.Size != 20 {
		t.Fatalf("after the race the memory holds %d, want 20", got.Head.Size)
	}
	other, err := headkv.Dial(ctx, url, cluster+"x")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Last(ctx); !errors.Is(err, audit.ErrNoHead) {
		t.Fatalf("another cluster sees a head: %v", err)
	}
}
