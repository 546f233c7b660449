package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func TestPartnerCommands(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, Algorithm: "EdDSA"}}})
	run1 := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(context.Background(), append([]string{"bankbridge", "partner"}, append(args, "--data", data)...),
			func(string) string { return "" }, strings.NewReader(""), &out, &errb)
		return out.String() + errb.String(), err
	}
	add := []string{"add", "--id", "messenger", "--name", "Messenger Inc", "--lei", "5493001KJTIIGC8Y1R12",
		"--homepage", "https://messenger.example", "--security-contact", "security@messenger.example",
		"--redirect-uri", "https://messenger.example/link", "--jwks", string(jwks),
		"--purpose", "BALANCES=show balances in chat", "--purpose", "TRANSACTIONS=fraud alerts", "--signatory", "Jo Doe, CEO"}
	steps := []struct {
		name    string
		args    []string
		wantErr bool
		want    string
	}{
		{"AddRefusedWithoutAttestation", add, true, "targeted advertising"},
		{"AddWithAttestation", append(add, "--attest"), false, "registered partner messenger"},
		{"AddTwiceRefused", append(add, "--attest"), true, "already registered"},
		{"List", []string{"list"}, false, "messenger  active"},
		{"SuspendNeedsAReason", []string{"suspend", "--id", "messenger"}, true, "reason"},
		{"Suspend", []string{"suspend", "--id", "messenger", "--reason", "keys reported leaked"}, false, "suspended"},
		{"ListShowsSuspended", []string{"list"}, false, "messenger  suspended"},
		{"HistoryKeepsTheReason", []string{"history", "--id", "messenger"}, false, "keys reported leaked"},
	}
	for _, s := range steps { // in order: each step builds on the last
		out, err := run1(s.args...)
		if (err != nil) != s.wantErr {
			t.Fatalf("%s: err = %v, want error %v\n%s", s.name, err, s.wantErr, out)
		}
		got := out
		if err != nil {
			got += err.Error()
		}
		if !strings.Contains(got, s.want) {
			t.Errorf("%s: output lacks %q:\n%s", s.name, s.want, got)
		}
	}
}
