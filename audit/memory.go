package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/bankbridge/bankbridge"
)

// Memory is where the signer remembers the last head it signed, outside the
// database: the sealer refuses to sign a tree that does not extend it, so
// deleting heads, cutting the tail or restoring an older copy of the
// database does not get a rewritten log signed. It also keeps the head as a
// signed checkpoint note, which /audit/v1/checkpoint serves.
//
// One process keeps it in a file beside its key (FileMemory); a fleet in a
// store every instance reads without trusting the database (a NATS
// JetStream key-value bucket; docs/decisions.md).
type Memory interface {
	// Last returns what was remembered last; ErrNoHead before the first.
	Last(ctx context.Context) (Remembered, error)
	// Advance replaces the remembered head of revision prev (0: none yet)
	// with next, unless another signer advanced it first (ErrMemoryMoved):
	// two signers cannot both move the memory on from one head.
	Advance(ctx context.Context, prev uint64, next Remembered) (uint64, error)
}

// Remembered is a signed head as the signer's memory keeps it.
type Remembered struct {
	Head       SignedHead `json:"head"`
	Checkpoint string     `json:"checkpoint"` // the head as a signed note (C2SP tlog-checkpoint)
	Rev        uint64     `json:"rev"`        // set by the Memory
}

// The memory's errors. Compare with errors.Is.
var (
	ErrMemoryMoved = bankbridge.E(bankbridge.Conflict, "audit_memory_moved", "another signer advanced the signer's memory first")
	ErrRolledBack  = bankbridge.E(bankbridge.Internal, "audit_rolled_back", "the database's log is behind the last head this signer signed")
)

// HeadFile is the name of the signer's memory in the data folder.
const HeadFile = "audit-head.json"

// FileMemory keeps the memory in one file, replaced atomically (written
// beside it, synced, renamed): for one process. Two processes sharing the
// folder are serialised by the sealer's lease, not by the file.
type FileMemory struct {
	Path string
	mu   sync.Mutex
}

var _ Memory = (*FileMemory)(nil)

// Last reads the file; ErrNoHead when there is none yet.
func (m *FileMemory) Last(context.Context) (Remembered, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.read()
}

func (m *FileMemory) read() (Remembered, error) {
	var r Remembered
	b, err := os.ReadFile(m.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, ErrNoHead.WithOp("audit.FileMemory", err)
	}
	if err != nil {
		return r, fmt.Errorf("audit: signer's memory: %w", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("audit: signer's memory %s: %w", m.Path, err)
	}
	return r, nil
}

// Advance writes next if the file is still at revision prev.
func (m *FileMemory) Advance(_ context.Context, prev uint64, next Remembered) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, err := m.read()
	if err != nil && !errors.Is(err, ErrNoHead) {
		return 0, err
	}
	if cur.Rev != prev {
		return 0, ErrMemoryMoved.WithOp("audit.FileMemory", fmt.Errorf("revision %d, expected %d", cur.Rev, prev))
	}
	next.Rev = prev + 1
	b, err := json.MarshalIndent(next, "", "  ")
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(m.Path), 0o750); err != nil {
		return 0, fmt.Errorf("audit: signer's memory: %w", err)
	}
	tmp := m.Path + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, fmt.Errorf("audit: signer's memory: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync() // on disk before it replaces the old one
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, m.Path)
	}
	if err != nil {
		return 0, fmt.Errorf("audit: signer's memory: %w", err)
	}
	if d, err := os.Open(filepath.Dir(m.Path)); err == nil {
		d.Sync() // the rename itself survives a crash
		d.Close()
	}
	return next.Rev, nil
}
