package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/auditapi"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/witness"
)

func init() {
	commands["witness"] = command{"run a witness of a bank's disclosure log: cosigns each checkpoint that extends the last it saw", witnessCmd}
}

// witnessCmd runs a witness apart from the bank: its own data folder (its
// key and its state), the bank's log keys pinned at start.
func witnessCmd(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("witness", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	data := fs.String("data", "witness-data", "the witness's own folder: its key ("+witnessKeyFile+") and the last checkpoint it cosigned ("+witnessStateFile+")")
	addr := fs.String("addr", ":7380", "listen address; the bank posts checkpoints to <url>/add-checkpoint")
	name := fs.String("name", "witness.example/w1", "the witness's name in its cosignatures (a schema-less URL)")
	bank := fs.String("bank", "", "the bank's base URL: its log keys are read once from <bank>/audit/v1/keys (pin them with --log-key instead to trust nothing at start)")
	var logKeys stringList
	fs.Var(&logKeys, "log-key", "the bank's audit public key, base64 or hex (repeatable: the key history, `bankbridge audit key`)")
	origin := fs.String("origin", audit.DefaultOrigin, "the log's origin line")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return app.UsageError(err.Error())
	}
	var pubs []ed25519.PublicKey
	for _, k := range logKeys {
		p, err := parsePublicKey(k)
		if err != nil {
			return err
		}
		pubs = append(pubs, p)
	}
	if len(pubs) == 0 && *bank != "" {
		var err error
		if pubs, err = fetchLogKeys(ctx, *bank); err != nil {
			return err
		}
	}
	if len(pubs) == 0 {
		return app.UsageError("witness needs the bank's log keys: --log-key KEY (repeatable) or --bank URL")
	}
	key, err := audit.LoadOrCreateKey(filepath.Join(*data, witnessKeyFile))
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	signer := witness.NewSigner(*name, key, nil)
	state := &audit.FileMemory{Path: filepath.Join(*data, witnessStateFile)}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	ws := witness.NewServer(*origin, pubs, signer, state, log)
	srv := &http.Server{Handler: ws, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	errc := serveOn(srv, ln)
	if len(logKeys) == 0 && *bank != "" {
		// Keys read from the bank are read again every minute, so a
		// rotation (announced there before the new key signs) reaches the
		// witness; pinned keys (--log-key) are not.
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		defer func() { cancel(); <-done }()
		go func() {
			defer close(done)
			every(rctx, time.Minute, func() {
				if keys, err := fetchLogKeys(rctx, *bank); err == nil {
					ws.SetLogKeys(keys)
				} else if rctx.Err() == nil {
					log.Warn("witness: could not read the bank's keys again; keeping the ones it has", "err", err)
				}
			})
		}()
	}
	fmt.Fprintf(e.stdout, "witness %s of log %s is running on http://%s/add-checkpoint\n  verifier key: %s\nRun the bank with --witness http://<this host>:%d, and verify with --witness %s\n",
		*name, *origin, ln.Addr(), witness.VerifierKey(*name, key.Public().(ed25519.PublicKey)), ln.Addr().(*net.TCPAddr).Port,
		witness.VerifierKey(*name, key.Public().(ed25519.PublicKey)))
	return untilDone(ctx, srv, errc)
}

// The witness's files in its own folder.
const (
	witnessKeyFile   = "witness-ed25519.pem"
	witnessStateFile = "witness-state.json"
)

// fetchLogKeys reads the bank's key history from /audit/v1/keys.
func fetchLogKeys(ctx context.Context, bank string) ([]ed25519.PublicKey, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(bank, "/")+"/audit/v1/keys", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("--bank: %w", err)
	}
	defer resp.Body.Close()
	var ks auditapi.Keys
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&ks) != nil {
		return nil, fmt.Errorf("--bank: %s/audit/v1/keys answered %d", bank, resp.StatusCode)
	}
	var out []ed25519.PublicKey
	for _, k := range ks.Keys {
		out = append(out, k.PublicKey)
	}
	return out, nil
}
