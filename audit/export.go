package audit

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Entry is a record with the proof that it is in the log: its inclusion
// proof in the tree of the export's signed head. Proof is nil for a record
// newer than that head (it is sealed within seconds; export again).
type Entry struct {
	Record
	Proof *InclusionProof `json:"inclusion_proof"`
}

// Export is a set of records with what anyone needs to check them: the
// signed head the proofs lead to and the key that signed it.
type Export struct {
	Head      SignedHead        `json:"tree_head"`
	PublicKey ed25519.PublicKey `json:"public_key"` // 32 bytes, base64
	Entries   []Entry           `json:"records"`
}

// maxExport bounds one export held in memory.
const maxExport = 100_000

// ErrExportTooLarge reports an export past maxExport records.
var ErrExportTooLarge = ErrInvalid.WithMessage("more than 100000 records match; narrow the time range")

// Export collects every record matching q (newest first, q.Before and
// q.Limit ignored) with its inclusion proof in the latest signed head.
func (l *Log) Export(ctx context.Context, q Query) (Export, error) {
	head, err := l.st.LatestHead(ctx)
	if err != nil && !errors.Is(err, ErrNoHead) {
		return Export{}, err
	}
	x := Export{Head: head, Entries: []Entry{}}
	if head.Signature != nil {
		// The key that signed this head, which after a rotation is not
		// the one signing now.
		if x.PublicKey, err = l.KeyFor(ctx, head.KeyID); err != nil {
			return Export{}, err
		}
	}
	q.Before, q.Limit = 0, 1000
	for {
		p, err := l.st.Records(ctx, q)
		if err != nil {
			return Export{}, err
		}
		for _, r := range p.Records {
			if len(x.Entries) == maxExport {
				return Export{}, ErrExportTooLarge.WithOp("audit.Export", nil)
			}
			e := Entry{Record: r}
			if r.Seq < head.Size {
				pr, err := l.tree.inclusion(ctx, r.Seq, head.Size)
				if err != nil {
					return Export{}, err
				}
				e.Proof = &pr
			}
			x.Entries = append(x.Entries, e)
		}
		if p.Next == 0 {
			return x, nil
		}
		q.Before = p.Next
	}
}

// Check verifies one entry against the export's head and key: the record's
// fields give its leaf hash, the proof leads from it to the head's root,
// and the head's signature verifies.
func (x Export) Check(e Entry) error {
	if e.Proof == nil {
		return fmt.Errorf("record %d: no proof yet", e.Seq)
	}
	if got := e.ComputeLeafHash(); got != e.LeafHash {
		return fmt.Errorf("record %d: fields do not give the leaf hash: %w", e.Seq, ErrProof)
	}
	if e.Proof.TreeSize != x.Head.Size || e.Proof.LeafIndex != e.Seq {
		return fmt.Errorf("record %d: the proof is for another tree or leaf: %w", e.Seq, ErrProof)
	}
	if err := VerifyInclusion(e.LeafHash, e.Seq, x.Head.Size, e.Proof.Path, x.Head.Root); err != nil {
		return fmt.Errorf("record %d: %w", e.Seq, err)
	}
	return x.Head.Verify(x.PublicKey)
}

// WriteJSON writes x as one indented JSON document.
func (x Export) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(x)
}

// CSVHeader is the first line of a CSV export.
var CSVHeader = []string{"seq", "time", "kind", "partner", "consent", "customer", "accounts", "clusters", "fields",
	"purpose", "actor", "outcome", "request_id", "detail", "leaf_hash", "leaf_index", "tree_size", "inclusion_path",
	"tree_root", "tree_head_time", "tree_head_signature", "public_key"}

// WriteCSV writes x as CSV (RFC 4180), one record a row, each row carrying
// its proof and the signed head so that a row can be checked on its own.
// Lists are space-separated; hashes and signatures are base64.
func (x Export) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	b64 := base64.StdEncoding.EncodeToString
	for _, e := range x.Entries {
		accts := make([]string, len(e.Accounts))
		for i, a := range e.Accounts {
			accts[i] = strconv.FormatInt(int64(a), 10)
		}
		var idx, size, path, root, at, sig, key string
		if e.Proof != nil {
			idx, size = strconv.FormatUint(e.Proof.LeafIndex, 10), strconv.FormatUint(e.Proof.TreeSize, 10)
			ps := make([]string, len(e.Proof.Path))
			for i, p := range e.Proof.Path {
				ps[i] = b64(p[:])
			}
			path = strings.Join(ps, " ")
			root, at, sig, key = b64(x.Head.Root[:]), x.Head.Time.Format(time.RFC3339Nano), b64(x.Head.Signature), b64(x.PublicKey)
		}
		row := []string{strconv.FormatUint(e.Seq, 10), e.Time.Format(time.RFC3339Nano), string(e.Kind), csvSafe(e.Partner), csvSafe(e.Consent),
			strconv.FormatInt(int64(e.Customer), 10), strings.Join(accts, " "), strings.Join(e.Clusters, " "), strings.Join(e.Fields, " "),
			csvSafe(e.Purpose), csvSafe(e.Actor), string(e.Outcome), csvSafe(e.RequestID), csvSafe(e.Detail), b64(e.LeafHash[:]),
			idx, size, path, root, at, sig, key}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses spreadsheet formulas (OWASP "CSV injection"): a cell
// starting with = + - @ or a tab or CR gets a leading apostrophe. The value
// in the leaf hash is the original; the JSON export carries it unchanged.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
