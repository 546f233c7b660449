package sqlite_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// BenchmarkAuditAppend commits two data-access records per op, the batch the
// log's appender makes at 2,000 API calls a second, after 20,000 records
// spread over 200 customers. Besides ns/op it reports the WAL written per
// commit and the process's CPU per commit (user and system, from
// getrusage): CPU is the steadier figure on a shared machine.
//
//	go test ./store/sqlite -run '^$' -bench AuditAppend -count 5
func BenchmarkAuditAppend(b *testing.B) {
	ctx := context.Background()
	path := testdb.SQLitePath(b)
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st := db.Audit()
	n := 0
	rec := func() audit.Record {
		n++
		c := n % 200
		return audit.Record{Kind: audit.DataAccess, Partner: "bench-app", Consent: fmt.Sprintf("consent-%028d", c), Customer: bankbridge.CustomerID(1000 + c),
			Accounts: []ledger.AccountID{ledger.AccountID(5000 + c)}, Clusters: []string{"ACCOUNT_BASIC", "BALANCES"}, Fields: []string{"balances"},
			Detail: "GET /fdx/v6/accounts/{accountId}/balances", Purpose: "show your balance in the app", Actor: "partner:bench-app",
			Outcome: audit.OK, RequestID: fmt.Sprintf("%032x", n), Time: time.Now().UTC()}
	}
	for range 40 {
		recs := make([]audit.Record, 500)
		for i := range recs {
			recs[i] = rec()
		}
		if err := st.Append(ctx, recs, nil); err != nil {
			b.Fatal(err)
		}
	}
	// Frames in the WAL: mxFrame of the wal-index header in the -shm file
	// (offset 16, native byte order). The checkpointer restarts the WAL now
	// and then, so a smaller count means a restart and all of it is new.
	shm, err := os.Open(sqlite.AuditPath(path) + "-shm")
	if err != nil {
		b.Fatal(err)
	}
	defer shm.Close()
	frames := func() int64 {
		var h [4]byte
		if _, err := shm.ReadAt(h[:], 16); err != nil {
			b.Fatal(err)
		}
		return int64(binary.NativeEndian.Uint32(h[:]))
	}
	var written, last int64 = 0, frames()
	var r0, r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	for b.Loop() {
		if err := st.Append(ctx, []audit.Record{rec(), rec()}, nil); err != nil {
			b.Fatal(err)
		}
		f := frames()
		if f >= last {
			written += f - last
		} else {
			written += f
		}
		last = f
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	ops := float64(b.N)
	// The page size is in the database header, big-endian at offset 16.
	hdr := make([]byte, 18)
	if f, err := os.Open(sqlite.AuditPath(path)); err != nil {
		b.Fatal(err)
	} else if _, err := f.ReadAt(hdr, 0); err != nil {
		b.Fatal(err)
	} else {
		f.Close()
	}
	pageSize := int64(binary.BigEndian.Uint16(hdr[16:]))
	b.ReportMetric(float64(written*(pageSize+24))/1024/ops, "wal-KiB/op")
	b.ReportMetric(float64(r1.Utime.Nano()-r0.Utime.Nano())/1e3/ops, "user-µs/op")
	b.ReportMetric(float64(r1.Stime.Nano()-r0.Stime.Nano())/1e3/ops, "sys-µs/op")
}

// BenchmarkAuditVerifyMACs is Verify over 200,000 data-access records
// with MACs, checking them or not: what the MAC check adds per record.
//
//	go test ./store/sqlite -run '^$' -bench AuditVerifyMACs -benchtime 3x
func BenchmarkAuditVerifyMACs(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, testdb.SQLitePath(b))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st := db.Audit()
	key := audit.MACKey(make([]byte, 32))
	const total = 200_000
	for i := 0; i < total; i += 10_000 {
		recs := make([]audit.Record, 10_000)
		for j := range recs {
			n := i + j
			recs[j] = audit.Record{Kind: audit.DataAccess, Partner: "bench-app", Consent: fmt.Sprintf("consent-%028d", n%200), Customer: bankbridge.CustomerID(1000 + n%200),
				Accounts: []ledger.AccountID{ledger.AccountID(5000 + n%200)}, Clusters: []string{"ACCOUNT_BASIC", "BALANCES"}, Fields: []string{"balances"},
				Detail: "GET /fdx/v6/accounts/{accountId}/balances", Purpose: "show your balance in the app", Actor: "partner:bench-app",
				Outcome: audit.OK, RequestID: fmt.Sprintf("%032x", n), Time: time.Now().UTC()}
		}
		if err := st.Append(ctx, recs, key.Tagger()); err != nil {
			b.Fatal(err)
		}
	}
	for _, macs := range []bool{false, true} {
		b.Run(fmt.Sprintf("macs=%v", macs), func(b *testing.B) {
			o := audit.VerifyOptions{}
			if macs {
				o.MACs = []audit.MACKey{key}
			}
			for b.Loop() {
				rep, err := audit.VerifyWith(ctx, st, o)
				if err != nil || rep.Records != total {
					b.Fatal(err, rep.Records)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/total, "ns/record")
		})
	}
}
