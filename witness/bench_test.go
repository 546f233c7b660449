package witness_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/witness"
)

// BenchmarkSeal is the seal's latency (100 new records a head, MACs
// checked, the signer's memory written) without and with one witness over
// loopback HTTP, on SQLite; it reports p50/p99 and the checkpoint's size.
func BenchmarkSeal(b *testing.B) {
	for _, witnesses := range []int{0, 1} {
		b.Run(fmt.Sprintf("witnesses=%d", witnesses), func(b *testing.B) {
			ctx := context.Background()
			db, err := sqlite.Open(ctx, testdb.SQLitePath(b))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			logPub, logKey, _ := ed25519.GenerateKey(nil)
			mac := audit.FixedMAC(make([]byte, 32))
			opts := audit.Options{Key: logKey, MACs: mac, SealEvery: time.Hour,
				Memory: &audit.FileMemory{Path: filepath.Join(b.TempDir(), audit.HeadFile)}}
			if witnesses > 0 {
				_, wKey, _ := ed25519.GenerateKey(nil)
				srv := httptest.NewServer(witness.NewServer(audit.DefaultOrigin, []ed25519.PublicKey{logPub},
					witness.NewSigner("w", wKey, nil), &audit.FileMemory{Path: filepath.Join(b.TempDir(), "w.json")}, nil))
				defer srv.Close()
				opts.Cosigners = []audit.Cosigner{&witness.Client{URL: srv.URL}}
			}
			l := audit.New(db.Audit(), opts)
			defer l.Close()
			var lat []time.Duration
			i := 0
			for b.Loop() {
				b.StopTimer()
				for range 100 {
					i++
					if err := l.Post(ctx, audit.Record{Kind: audit.ConsentGranted, Partner: "p", RequestID: fmt.Sprint(i)}); err != nil {
						b.Fatal(err)
					}
				}
				for {
					if n, _ := db.Audit().Size(ctx); n == uint64(i) {
						break
					}
					time.Sleep(100 * time.Microsecond)
				}
				b.StartTimer()
				t0 := time.Now()
				if _, err := l.Seal(ctx); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
			m, err := l.Checkpoint(ctx)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(m.Checkpoint)), "checkpoint_bytes")
		})
	}
}
