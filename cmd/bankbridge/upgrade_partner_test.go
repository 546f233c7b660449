package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// TestMessengerPartnerOfAnEarlierVersionIsMoved: a data folder from before
// the bank took Messenger's OAuth redirect itself holds the "messenger"
// partner registered with the platform's own account-linking redirect. On
// start the bank moves it to its callback, once (a second start finds it
// done), with the reason in the partner's history, and the channel is on;
// a partner registered for another address stays as it is, the channel
// off.
func TestMessengerPartnerOfAnEarlierVersionIsMoved(t *testing.T) {
	if testing.Short() {
		t.Skip("runs serve")
	}
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	port := freePort(t)
	base := fmt.Sprintf("http://localhost:%d", port)
	args := []string{"--addr", fmt.Sprintf("127.0.0.1:%d", port), "--public-url", base, "--data", dir, "--demo-customers", "15"}
	callback := base + "/channels/messenger/link/callback"
	platform := base + "/sim/account_linking/redirect" // the embedded emulator's redirect_uri, which earlier versions registered

	// setRedirects makes the data folder what an earlier version (or staff)
	// left: the partner with these redirect URIs.
	setRedirects := func(to []string) {
		t.Helper()
		db, err := sqlite.Open(ctx, filepath.Join(dir, "bankbridge.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		p, err := db.Consent().Partner(ctx, "messenger")
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := db.Consent().ReplacePartnerRedirects(ctx, "messenger", p.RedirectURIs, to,
			consent.PartnerEvent{Partner: "messenger", Action: consent.ActionRegistered, Reason: "as an earlier version left it", By: "test", At: time.Now()}); !ok || err != nil {
			t.Fatalf("set the redirects: %v %v", ok, err)
		}
	}
	partner := func() (consent.Partner, []consent.PartnerEvent) {
		t.Helper()
		db, err := sqlite.Open(ctx, filepath.Join(dir, "bankbridge.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		p, err := db.Consent().Partner(ctx, "messenger")
		if err != nil {
			t.Fatal(err)
		}
		evs, err := db.Consent().PartnerEvents(ctx, "messenger")
		if err != nil {
			t.Fatal(err)
		}
		return p, evs
	}
	moves := func(evs []consent.PartnerEvent) int {
		n := 0
		for _, e := range evs {
			if e.Action == consent.ActionRedirects {
				n++
			}
		}
		return n
	}
	// The channel is on when its webhook answers the verification.
	channelOn := func(addr string) bool {
		t.Helper()
		res, err := http.Get(addr + "/channels/messenger/webhook?hub.mode=subscribe&hub.verify_token=demo-verify-token&hub.challenge=42")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode == http.StatusOK && string(b) == "42"
	}

	addr, stop := startServer(t, nil, args...) // a new folder: the partner registered with the callback
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	setRedirects([]string{platform})
	for start := 1; start <= 2; start++ {
		addr, stop = startServer(t, nil, args...)
		on := channelOn(addr)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		p, evs := partner()
		if !on || !slices.Equal(p.RedirectURIs, []string{callback}) || moves(evs) != 1 {
			t.Errorf("start %d after the upgrade: channel on %v, redirects %v, %d moves in the history; want on, [%s], 1",
				start, on, p.RedirectURIs, moves(evs), callback)
		}
	}

	// Registered for another address: not the platform's redirect of an
	// earlier version; left to staff, the channel off.
	setRedirects([]string{"https://elsewhere.example/callback"})
	addr, stop = startServer(t, nil, args...)
	on := channelOn(addr)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if p, _ := partner(); on || !slices.Equal(p.RedirectURIs, []string{"https://elsewhere.example/callback"}) {
		t.Errorf("a partner for another address: channel on %v, redirects %v; want off and unchanged", on, p.RedirectURIs)
	}
}
