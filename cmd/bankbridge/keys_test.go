package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/auditapi"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/keyring"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// appendRecord writes one audit record without sealing it (a log with no
// key), so the test decides which instance signs the next head.
func appendRecord(t *testing.T, c app.Config, id string) {
	t.Helper()
	ctx := context.Background()
	b, err := app.OpenBackend(ctx, &c)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// Through the log with the fleet's MAC keys, as an instance writes: a
	// record without its MAC is a forgery the sealer refuses.
	ring, err := openKeyring(ctx, &c, b, slog.New(slog.DiscardHandler), "")
	if err != nil {
		t.Fatal(err)
	}
	l := audit.New(b.Audit, audit.Options{MACs: auditMACs{ring}})
	defer l.Close()
	if _, err := l.Append(context.Background(), audit.Record{Kind: audit.PartnerChange, Partner: "p-" + id, Actor: "test", RequestID: id}); err != nil {
		t.Fatal(err)
	}
}

func sth(t *testing.T, base string) auditapi.STH {
	t.Helper()
	code, body, _ := get(t, base+"/audit/v1/sth")
	var h auditapi.STH
	if code != 200 || json.Unmarshal([]byte(body), &h) != nil {
		t.Fatalf("/audit/v1/sth = %d %s", code, body)
	}
	return h
}

// waitHead waits until base serves a head of at least size records.
func waitHead(t *testing.T, base string, size uint64) auditapi.STH {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body, _ := get(t, base+"/audit/v1/sth")
		var h auditapi.STH
		if code == 200 && json.Unmarshal([]byte(body), &h) == nil && h.Size >= size {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("no head of size %d from %s: %d %s", size, base, code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestFleetSignsWithOneKey is two instances as two machines would run them:
// their own data folders, one PostgreSQL database, one key file. Each signs
// heads; `audit verify` accepts all of them from either data folder. A key
// file that does not open the database's keys is refused at start.
func TestFleetSignsWithOneKey(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	keyFile := filepath.Join(t.TempDir(), "fleet.kek")
	dirA, dirB := t.TempDir(), t.TempDir()
	common := []string{"--database", url, "--key-file", keyFile, "--demo=false"}
	baseA, stopA := startServer(t, nil, append([]string{"--data", dirA}, common...)...)
	headA := waitHead(t, baseA, 1) // the messenger partner's registration, signed by A
	baseB, stopB := startServer(t, nil, append([]string{"--data", dirB}, common...)...)
	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	appendRecord(t, app.Config{Data: dirA, Database: url, KeyFile: keyFile}, "after-a")
	headB := waitHead(t, baseB, headA.Size+1) // only B runs: B signed it
	if headA.KeyID != headB.KeyID || !headA.PublicKey.Equal(headB.PublicKey) {
		t.Errorf("instances sign with different keys: %s and %s", headA.KeyID, headB.KeyID)
	}
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{dirA, dirB} {
		out, err := runCmd(t, "audit", "verify", "--data", dir, "--database", url, "--key-file", keyFile)
		if err != nil || !strings.Contains(out, "audit OK") {
			t.Errorf("audit verify from %s: %v\n%s", dir, err, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dirB, app.KEKFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an instance given --key-file made a key file in its data folder: %v", err)
	}

	t.Run("WrongKeyFileRefused", func(t *testing.T) {
		wrong := filepath.Join(t.TempDir(), "other.kek")
		raw, _ := keyring.GenerateKEK()
		if err := keyring.WriteKEKFile(wrong, raw); err != nil {
			t.Fatal(err)
		}
		other, _ := keyring.NewFileKEK(raw)
		fleet, err := keyring.LoadKEKFile(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"BANKBRIDGE_KEY_FILE": wrong}
		err = run(context.Background(), []string{"bankbridge", "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--database", url, "--demo=false"},
			func(k string) string { return env[k] }, nil, io.Discard, io.Discard)
		want := fmt.Sprintf("BANKBRIDGE_KEY_FILE %s: does not open key audit/%s sealed in the database (KEK id %s, database expects %s)",
			wrong, headA.KeyID, other.ID(), fleet.ID())
		if err == nil || err.Error() != want {
			t.Errorf("serve with another key file: %v\nwant %s", err, want)
		}
	})
	t.Run("NoKeyFileRefusedNotRegenerated", func(t *testing.T) {
		dir := t.TempDir()
		err := run(context.Background(), []string{"bankbridge", "serve", "--addr", "127.0.0.1:0", "--data", dir, "--database", url, "--demo=false"},
			func(string) string { return "" }, nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "no such file, and the database's keys are sealed") {
			t.Errorf("serve without the fleet's key file: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, app.KEKFile)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a key file was made for a database whose keys are sealed under another: %v", err)
		}
	})
}

// TestOldDataFolderMigrates opens a data folder made before the keyring
// (the log's key in audit-ed25519.pem with heads it signed, the OAuth key in
// plaintext in the database, the messenger partner's key in a PEM file): the
// keys are imported with their kids, the old heads verify, the plaintext
// OAuth key is gone.
func TestOldDataFolderMigrates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := auditData(t, 6) // the old audit key file and heads signed by it
	oldAudit, err := audit.LoadKey(filepath.Join(dir, audit.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	oldAuditID := audit.KeyID(oldAudit.Public().(ed25519.PublicKey))
	oauthKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	oauthKID, _ := keyring.KeyID(&oauthKey.PublicKey)
	jwk, _ := (&jose.JSONWebKey{Key: oauthKey, KeyID: oauthKID, Algorithm: "ES256", Use: "sig"}).MarshalJSON()
	msgKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	msgKID, _ := keyring.KeyID(&msgKey.PublicKey)
	der, _ := x509.MarshalPKCS8PrivateKey(msgKey)
	if err := os.WriteFile(filepath.Join(dir, app.MessengerKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "bankbridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Consent().SigningKey(ctx, "as-es256-1", jwk, time.Now()); err != nil { // how oauth kept it
		t.Fatal(err)
	}
	db.Close()

	out, err := runCmd(t, "audit", "verify", "--data", dir)
	if err != nil || !strings.Contains(out, "audit OK") || !strings.Contains(out, oldAuditID.String()) {
		t.Fatalf("audit verify of a migrated folder: %v\n%s", err, out)
	}
	out, err = runCmd(t, "keys", "list", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, kid := range []string{oldAuditID.String(), oauthKID, msgKID} {
		if !regexp.MustCompile(regexp.QuoteMeta(kid) + `\s+signs`).MatchString(out) {
			t.Errorf("keys list does not show imported key %s signing:\n%s", kid, out)
		}
	}
	db, err = sqlite.Open(ctx, filepath.Join(dir, "bankbridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Keys().LegacyOAuthKey(ctx); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("the OAuth key is still in plaintext in the database: %v", err)
	}
	db.Close()

	base, stop := startServer(t, nil, "--data", dir, "--demo=false")
	if h := sth(t, base); h.KeyID != oldAuditID || h.Verify(h.PublicKey) != nil {
		t.Errorf("/audit/v1/sth after migration: key %s, want %s", h.KeyID, oldAuditID)
	}
	if _, body, _ := get(t, base+"/oauth/jwks"); !strings.Contains(body, oauthKID) {
		t.Errorf("JWKS lacks the imported OAuth key %s: %s", oauthKID, body)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestKeysRotate rotates the log's key: heads after the rotation name the
// new key, the old heads still verify, `audit key` lists both, and retiring
// the old key keeps the history verifiable.
func TestKeysRotate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := auditData(t, 4)
	before, err := runCmd(t, "keys", "list", "--name", "audit", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, "keys", "rotate", "--name", "audit", "--in", "0s", "--data", dir)
	if err != nil || !strings.Contains(out, "new audit key") {
		t.Fatalf("rotate: %v\n%s", err, out)
	}
	appendRecord(t, app.Config{Data: dir}, "after-rotation")
	if out, err := runCmd(t, "audit", "seal", "--data", dir); err != nil {
		t.Fatalf("seal: %v\n%s", err, out)
	}
	out, err = runCmd(t, "audit", "key", "--data", dir)
	if err != nil || strings.Count(out, "public key") != 2 {
		t.Fatalf("audit key after a rotation: %v\n%s", err, out)
	}
	if out, err := runCmd(t, "audit", "verify", "--data", dir); err != nil || !strings.Contains(out, "audit OK") {
		t.Fatalf("verify across the rotation: %v\n%s", err, out)
	}
	old := strings.Fields(strings.Split(strings.TrimSpace(before), "\n")[1])[2]
	if out, err := runCmd(t, "keys", "retire", "--name", "audit", "--kid", old, "--data", dir); err != nil {
		t.Fatalf("retire: %v\n%s", err, out)
	}
	if out, err := runCmd(t, "audit", "verify", "--data", dir); err != nil || !strings.Contains(out, "audit OK") {
		t.Errorf("verify after retiring the old key: %v\n%s", err, out)
	}
	var heads []audit.SignedHead
	db, _ := sqlite.Open(ctx, filepath.Join(dir, "bankbridge.db"))
	defer db.Close()
	db.Audit().Heads(ctx, func(h audit.SignedHead) error { heads = append(heads, h); return nil })
	if len(heads) < 2 || heads[0].KeyID.String() != old || heads[len(heads)-1].KeyID.String() == old {
		t.Errorf("heads do not name the old key, then the new one")
	}
	if out, err := runCmd(t, "keys", "rotate", "--name", "nope", "--data", dir); err == nil {
		t.Errorf("rotate of an unknown name passed:\n%s", out)
	}
}

// TestMessengerRotationKeepsTheChannel rotates the messenger partner's key:
// the partner is registered with the previous key, so serve goes on with
// that one instead of turning the channel off.
func TestMessengerRotationKeepsTheChannel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	args := []string{"--data", dir, "--demo=false", "--public-url", "http://localhost:9"} // one redirect URI across starts
	channelOn := func() bool {
		base, stop := startServer(t, nil, args...)
		code, _, _ := get(t, base+"/channels/messenger/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		return code == 403 // 404 when the channel is off (not mounted)
	}
	if !channelOn() {
		t.Fatal("the messenger channel is off on first start")
	}
	if out, err := runCmd(t, "keys", "rotate", "--name", "messenger", "--in", "0s", "--data", dir); err != nil {
		t.Fatalf("rotate: %v\n%s", err, out)
	}
	if !channelOn() {
		t.Error("the messenger channel went off after a rotation")
	}
}
