package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"
)

// TestBenchAuditSmall runs the audit benchmark on a small log and checks
// that its verify phase is the real one: records tagged with MACs that
// verify checks, a kept early checkpoint the log is proved to extend, and
// a consistency proof from it that verifies.
func TestBenchAuditSmall(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := run(context.Background(), []string{"bankbridge-bench", "audit", "--json", "--clients", "2", "--duration", "100ms", "--records", "30000", "--seal-every", "20000"},
		func(string) string { return "" }, nil, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var res auditBenchResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	// 30,000/30 rounds up to the first batch: heads at 10,000, 20,000, 30,000.
	if !res.Verified || res.Records != 30000 || res.Heads != 3 || res.EarlySize != 10000 {
		t.Errorf("verified %v, records %d, heads %d, early checkpoint %d; want true, 30000, 3, 10000", res.Verified, res.Records, res.Heads, res.EarlySize)
	}
	// A checkpoint is four lines and one Ed25519 signature line: ~200 bytes.
	if res.CheckpointBytes < 150 || res.CheckpointBytes > 300 {
		t.Errorf("checkpoint of %d bytes, want about 200", res.CheckpointBytes)
	}
	if res.ConsistencyHashes == 0 || res.ConsistencyP50 <= 0 || res.VerifyNoMACSec <= 0 || res.MACCheckUS <= 0 || res.Ed25519VerifyUS <= 0 {
		t.Errorf("consistency proof of %d hashes in %.3f ms; verify without MACs %.3f s; cpu %.2f / %.2f µs: want all positive",
			res.ConsistencyHashes, res.ConsistencyP50, res.VerifyNoMACSec, res.MACCheckUS, res.Ed25519VerifyUS)
	}
}
