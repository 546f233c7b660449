package auditapi_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/auditapi"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// rotating signs with the first key until rotated, then with the second.
type rotating struct {
	keys    [2]ed25519.PrivateKey
	rotated atomic.Bool
}

func (r *rotating) SigningKey(context.Context) (ed25519.PrivateKey, error) {
	if r.rotated.Load() {
		return r.keys[1], nil
	}
	return r.keys[0], nil
}

func (r *rotating) PublicKeys(context.Context) ([]ed25519.PublicKey, error) {
	return []ed25519.PublicKey{r.keys[0].Public().(ed25519.PublicKey), r.keys[1].Public().(ed25519.PublicKey)}, nil
}

func TestKeysAfterRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ks := &rotating{}
	for i := range ks.keys {
		_, ks.keys[i], _ = ed25519.GenerateKey(nil)
	}
	l := audit.New(db.Audit(), audit.Options{Keys: ks, SealEvery: time.Hour})
	t.Cleanup(l.Close)
	var heads []audit.SignedHead
	for i := range 2 {
		if _, err := l.Append(ctx, audit.Record{Kind: audit.DataAccess, Partner: "p", Customer: 1, RequestID: fmt.Sprint("r", i)}); err != nil {
			t.Fatal(err)
		}
		h, err := l.Seal(ctx)
		if err != nil {
			t.Fatal(err)
		}
		heads = append(heads, h)
		ks.rotated.Store(true)
	}
	srv := httptest.NewServer(auditapi.New(l, nil))
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv}

	var sth auditapi.STH
	if code, _ := f.get(t, "/audit/v1/sth", &sth); code != 200 {
		t.Fatalf("sth: %d", code)
	}
	if sth.KeyID != audit.KeyID(ks.keys[1].Public().(ed25519.PublicKey)) || sth.Verify(sth.PublicKey) != nil {
		t.Errorf("sth after rotation: key_id %s; want the new key's, with that key beside it", sth.KeyID)
	}
	var keys auditapi.Keys
	if code, h := f.get(t, "/audit/v1/keys", &keys); code != 200 || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("keys: %d", code)
	}
	if len(keys.Keys) != 2 {
		t.Fatalf("keys: %d listed, want 2", len(keys.Keys))
	}
	byID := map[audit.Hash]ed25519.PublicKey{}
	for _, k := range keys.Keys {
		if k.KeyID != audit.KeyID(k.PublicKey) {
			t.Errorf("key %s listed with the id of another", k.KeyID)
		}
		byID[k.KeyID] = k.PublicKey
	}
	for _, h := range heads { // every head verifies under the key its key_id names
		if err := h.Verify(byID[h.KeyID]); err != nil {
			t.Errorf("head of size %d (key %s): %v", h.Size, h.KeyID, err)
		}
	}
	if heads[0].KeyID == heads[1].KeyID {
		t.Error("the heads before and after the rotation name the same key")
	}
	rep, err := audit.Verify(ctx, db.Audit(), byID[heads[1].KeyID])
	if err != nil || rep.OK() {
		t.Errorf("Verify with the new key alone passed: the old head must name a key not given")
	}
	pubs, _ := ks.PublicKeys(ctx)
	if rep, err := audit.Verify(ctx, db.Audit(), pubs...); err != nil || !rep.OK() {
		t.Errorf("Verify with the whole history: %v %v", err, rep.Problems)
	}
}
