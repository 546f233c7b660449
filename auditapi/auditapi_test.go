package auditapi_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/auditapi"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/problem"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// fixture is a log of 37 records sealed at sizes 20 and 37, behind the API.
type fixture struct {
	srv   *httptest.Server
	recs  []audit.Record
	heads []audit.SignedHead
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key, err := audit.LoadOrCreateKey(t.TempDir() + "/" + audit.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	l := audit.New(db.Audit(), audit.Options{Key: key, SealEvery: time.Hour, Now: func() time.Time { now = now.Add(time.Second); return now },
		Memory: &audit.FileMemory{Path: t.TempDir() + "/" + audit.HeadFile}})
	t.Cleanup(l.Close)
	f := &fixture{}
	for i := range 37 {
		r, err := l.Append(ctx, audit.Record{Kind: audit.DataAccess, Partner: "budgetapp", Customer: 7, RequestID: fmt.Sprint("r", i)})
		if err != nil {
			t.Fatal(err)
		}
		f.recs = append(f.recs, r)
		if i == 19 || i == 36 {
			h, err := l.Seal(ctx)
			if err != nil {
				t.Fatal(err)
			}
			f.heads = append(f.heads, h)
		}
	}
	f.srv = httptest.NewServer(auditapi.New(l, nil))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) get(t *testing.T, path string, v any) (int, http.Header) {
	t.Helper()
	resp, err := http.Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, resp.Header
}

func TestEndpointsProveWhatTheySay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var sth auditapi.STH
	if code, h := f.get(t, "/audit/v1/sth", &sth); code != 200 || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("sth: %d %v", code, h)
	}
	if sth.Size != 37 || sth.Root != f.heads[1].Root {
		t.Fatalf("sth is of size %d, root %s; want the head at 37", sth.Size, sth.Root)
	}
	if err := sth.Verify(sth.PublicKey); err != nil {
		t.Fatalf("the published head does not verify with the published key: %v", err)
	}
	for _, i := range []int{0, 13, 19, 36} {
		r := f.recs[i]
		b64, _ := r.LeafHash.MarshalText()
		for _, form := range []string{hex.EncodeToString(r.LeafHash[:]), string(b64)} {
			var p audit.InclusionProof
			code, _ := f.get(t, "/audit/v1/proof/inclusion?leaf_hash="+url.QueryEscape(form), &p)
			if code != 200 || audit.VerifyInclusion(r.LeafHash, r.Seq, sth.Size, p.Path, sth.Root) != nil {
				t.Fatalf("record %d (%s): %d, proof %+v does not verify", i, form, code, p)
			}
		}
		if i < 20 {
			var p audit.InclusionProof
			code, h := f.get(t, fmt.Sprintf("/audit/v1/proof/inclusion?leaf_hash=%x&tree_size=20", r.LeafHash[:]), &p)
			if code != 200 || audit.VerifyInclusion(r.LeafHash, r.Seq, 20, p.Path, f.heads[0].Root) != nil || h.Get("Cache-Control") == "no-cache" {
				t.Fatalf("record %d in tree 20: %d %+v", i, code, p)
			}
		}
	}
	var c audit.ConsistencyProof
	if code, _ := f.get(t, "/audit/v1/proof/consistency?first=20&second=37", &c); code != 200 ||
		audit.VerifyConsistency(20, 37, f.heads[0].Root, f.heads[1].Root, c.Path) != nil {
		t.Fatalf("consistency 20 -> 37: %d %+v", code, c)
	}
}

func TestErrorsAreProblems(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	leaf := hex.EncodeToString(f.recs[25].LeafHash[:])
	for _, c := range []struct {
		name, path string
		status     int
		code       string
	}{
		{"NoLeafHash", "/audit/v1/proof/inclusion", 400, "invalid_parameter"},
		{"BadLeafHash", "/audit/v1/proof/inclusion?leaf_hash=xyz", 400, "invalid_parameter"},
		{"UnknownLeaf", "/audit/v1/proof/inclusion?leaf_hash=" + hex.EncodeToString(make([]byte, 32)), 404, "audit_record_not_found"},
		{"TreeTooLarge", "/audit/v1/proof/inclusion?leaf_hash=" + leaf + "&tree_size=38", 400, "audit_tree_size"},
		{"LeafNotInTree", "/audit/v1/proof/inclusion?leaf_hash=" + leaf + "&tree_size=20", 400, "audit_leaf_not_in_tree"},
		{"NegativeSize", "/audit/v1/proof/inclusion?leaf_hash=" + leaf + "&tree_size=-1", 400, "invalid_parameter"},
		{"ZeroFirst", "/audit/v1/proof/consistency?first=0&second=37", 400, "invalid_parameter"},
		{"FirstAfterSecond", "/audit/v1/proof/consistency?first=30&second=20", 400, "audit_tree_size"},
		{"SecondTooLarge", "/audit/v1/proof/consistency?first=3&second=99", 400, "audit_tree_size"},
		{"NoSuchEndpoint", "/audit/v1/entries", 404, "not_found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var d problem.Details
			code, h := f.get(t, c.path, &d)
			if code != c.status || d.Code != c.code || h.Get("Content-Type") != "application/problem+json" {
				t.Errorf("GET %s = %d %q (%s); want %d %q problem+json", c.path, code, d.Code, h.Get("Content-Type"), c.status, c.code)
			}
		})
	}
}

func TestNoHeadYet(t *testing.T) {
	t.Parallel()
	db, err := sqlite.Open(context.Background(), testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := audit.New(db.Audit(), audit.Options{})
	defer l.Close()
	rec := httptest.NewRecorder()
	auditapi.New(l, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/audit/v1/sth", nil))
	if rec.Code != 404 {
		t.Errorf("sth before the first seal: %d %s", rec.Code, rec.Body)
	}
}
