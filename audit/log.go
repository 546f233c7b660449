package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge"
)

// Options tune a Log. The zero value works (without sealing: see Key).
type Options struct {
	// Keys gives the key to sign heads with and the keys past heads were
	// signed with (a fleet's keyring, so that rotation reaches every
	// instance). Without Keys and Key this instance appends and serves
	// proofs but does not seal; another instance (or `bankbridge audit
	// seal`) must.
	Keys Keys
	// Key is one fixed signing key, for tests and tools: used when Keys is nil.
	Key ed25519.PrivateKey
	// PublicKey is the key exports name when there is no Key (an instance
	// or a command that only reads).
	PublicKey ed25519.PublicKey
	// History adds the keys of past heads to Key or PublicKey (used when
	// Keys is nil): after a rotation, a reader knows every key.
	History []ed25519.PublicKey
	// MaxBatch bounds the records in one database transaction. Default 1024.
	MaxBatch int
	// Linger is how long the appender may hold a batch open, after its
	// first record, for more records to share its commit: a commit costs
	// about the same CPU (and on SQLite an fsync) for one record as for
	// many, and at a thousand calls a second without a wait most commits
	// carry one. Each record waits at most Linger longer. When a wait
	// gathers nothing (a lone caller, a quiet hour) the next lingerRest
	// batches do not wait. Default 0: commit at once.
	Linger time.Duration
	// SealEvery is how often the sealer signs a new head. Default 2s.
	SealEvery time.Duration
	// Refresh is how often an unchanged head is re-signed so its time stays
	// fresh. Default one minute.
	Refresh time.Duration
	// CacheNodes bounds the subtree hashes kept for proofs. Default 1<<16.
	CacheNodes int
	// Now returns the time; tests inject a clock. Default time.Now.
	Now func() time.Time
	// Logger receives errors nobody waits for (sealing, fire-and-forget
	// appends). Default: discarded.
	Logger *slog.Logger
	// Lease, when set, gates the sealer: this instance seals only while it
	// holds the lease SealerLease, so a fleet has one sealer at a time,
	// and another instance's takes over when the holder dies. Appends and
	// proofs work on every instance. Nil: this Log seals whenever it has a
	// Key (one process, or a command).
	Lease Lease
	// Memory, when set, is the signer's memory of the last head it signed,
	// kept outside the database: Seal refuses a tree that does not extend it
	// (ErrRolledBack, ErrTampered) and advances it with every head. Nil: the
	// sealer trusts the database's latest head (tests and tools).
	Memory Memory
	// MACs, when set, tags every record appended (Record.MAC) and the sealer
	// signs only records whose tag verifies (ErrForged). Nil: records carry
	// no tag and the sealer checks none.
	MACs MACKeys
	// Origin names the log in its checkpoints. Default DefaultOrigin.
	Origin string
	// Cosigners are witnesses asked to cosign each checkpoint before it is
	// remembered (and served); one that fails is logged and skipped.
	Cosigners []Cosigner
}

// Cosigner is a witness that runs apart from the bank (C2SP tlog-witness):
// given a checkpoint and a way to prove the tree extends the size it last
// cosigned, it returns its cosignature lines, or refuses.
type Cosigner interface {
	Cosign(ctx context.Context, checkpoint []byte, proof func(ctx context.Context, old uint64) ([]Hash, error)) ([]byte, error)
}

// Lease runs work that must run on one instance of a fleet at a time
// (store/postgres: an advisory lock; store/sqlite: always granted).
type Lease interface {
	// RunExclusive waits until the caller holds the lease called name,
	// runs fn with a context cancelled if the lease is lost, releases the
	// lease when fn returns, and returns fn's error, or why it could not.
	RunExclusive(ctx context.Context, name string, fn func(context.Context) error) error
}

// SealerLease is the name of the lease the sealer runs under.
const SealerLease = "audit-sealer"

// Keys is where a Log gets its keys.
type Keys interface {
	// SigningKey returns the key to sign a head with now.
	SigningKey(ctx context.Context) (ed25519.PrivateKey, error)
	// PublicKeys returns every key that signed, or will sign, heads of this
	// log, oldest first: the history a verifier needs.
	PublicKeys(ctx context.Context) ([]ed25519.PublicKey, error)
}

// fixedKeys is Options.Key (and Options.PublicKey) as Keys.
type fixedKeys struct {
	key     ed25519.PrivateKey
	pub     ed25519.PublicKey
	history []ed25519.PublicKey
}

func (f fixedKeys) SigningKey(context.Context) (ed25519.PrivateKey, error) {
	if f.key == nil {
		return nil, ErrNoKey
	}
	return f.key, nil
}

func (f fixedKeys) PublicKeys(context.Context) ([]ed25519.PublicKey, error) {
	out := append([]ed25519.PublicKey(nil), f.history...)
	if f.key != nil {
		return append(out, f.key.Public().(ed25519.PublicKey)), nil
	}
	if f.pub != nil {
		return append(out, f.pub), nil
	}
	return out, nil
}

// Log is the audit log's front door: it validates records, group-commits
// them (many callers to one transaction, each answered only once its record
// is durable), seals the tree every few seconds and serves proofs.
type Log struct {
	st    Store
	opts  Options
	queue chan *call
	tree  *tree

	sealMu sync.Mutex // held for a whole seal; guards front
	front  *Frontier  // the tree at the last head this instance checked

	wg      sync.WaitGroup
	once    sync.Once
	done    chan struct{}
	drained chan struct{} // closed when the appender has written the last record
}

type call struct {
	rec Record
	res chan result // nil: fire-and-forget
	err error       // set before queueing, for Pending
}

type result struct {
	rec Record
	err error
}

// The log's errors. Compare with errors.Is.
var (
	ErrClosed     = bankbridge.E(bankbridge.Unavailable, "audit_unavailable", "the audit log is not accepting records; try again")
	ErrNoKey      = bankbridge.E(bankbridge.Internal, "audit_no_key", "this instance has no signing key")
	ErrTampered   = bankbridge.E(bankbridge.Internal, "audit_tampered", "the stored log does not match its last signed tree head")
	ErrTreeSize   = bankbridge.E(bankbridge.Invalid, "audit_tree_size", "the tree size must be between 1 and the latest signed tree head's size")
	ErrLeafBeyond = bankbridge.E(bankbridge.Invalid, "audit_leaf_not_in_tree", "that record is not in a tree of that size; ask for a larger tree_size")
	ErrNotDurable = bankbridge.E(bankbridge.Invalid, "audit_disclosure_needs_wait", "a disclosure of data must be appended with Append, which waits until it is durable")
)

// New returns a Log over st and starts its appender and, when opts.Keys or
// opts.Key is set, its sealer; Close stops them.
func New(st Store, opts Options) *Log {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1024
	}
	if opts.SealEvery <= 0 {
		opts.SealEvery = 2 * time.Second
	}
	if opts.Refresh <= 0 {
		opts.Refresh = time.Minute
	}
	if opts.CacheNodes <= 0 {
		opts.CacheNodes = 1 << 16
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Origin == "" {
		opts.Origin = DefaultOrigin
	}
	l := &Log{st: st, opts: opts, queue: make(chan *call, 4*opts.MaxBatch), tree: newTree(st, opts.CacheNodes), done: make(chan struct{}),
		drained: make(chan struct{})}
	l.wg.Add(1)
	go l.appender()
	if opts.Keys == nil {
		opts.Keys = fixedKeys{opts.Key, opts.PublicKey, opts.History}
		l.opts.Keys = opts.Keys
	}
	if l.signs() {
		l.wg.Add(1)
		go l.sealer()
	}
	return l
}

// Store returns the store the log writes to.
func (l *Log) Store() Store { return l.st }

// signs reports whether this log seals: it has Keys or a Key.
func (l *Log) signs() bool {
	f, fixed := l.opts.Keys.(fixedKeys)
	return !fixed || f.key != nil
}

// PublicKeys returns every key heads of this log were signed with, oldest
// first.
func (l *Log) PublicKeys(ctx context.Context) ([]ed25519.PublicKey, error) {
	return l.opts.Keys.PublicKeys(ctx)
}

// ErrUnknownKey reports a head signed by a key that is not in the log's
// key history.
var ErrUnknownKey = bankbridge.E(bankbridge.NotFound, "audit_unknown_key", "no key with that id signed this log")

// KeyFor returns the key whose id is id: the key a head names in its
// key_id. ErrUnknownKey.
func (l *Log) KeyFor(ctx context.Context, id Hash) (ed25519.PublicKey, error) {
	keys, err := l.PublicKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if KeyID(k) == id {
			return k, nil
		}
	}
	return nil, ErrUnknownKey.WithOp("audit.KeyFor", fmt.Errorf("key %s", id))
}

// Close stops accepting records, commits those queued, seals once more
// (with a key, and the lease if the Log has one) and returns.
func (l *Log) Close() {
	l.once.Do(func() { close(l.done) })
	l.wg.Wait()
}

// Pending is a record on its way to the database: Wait returns once it is
// durable. It lets a caller overlap the commit with its own work (read the
// data, encode the response) and wait only before it sends the data.
type Pending struct {
	c   *call
	res *result
}

// Start validates rec, fills in what is missing (Time from the log's clock,
// Actor and RequestID from ctx, Outcome OK) and queues it. Call Wait before
// disclosing anything.
func (l *Log) Start(ctx context.Context, rec Record) *Pending {
	c := &call{rec: rec, res: make(chan result, 1)}
	c.err = l.prepare(ctx, &c.rec)
	if c.err == nil {
		c.err = l.enqueue(ctx, c)
	}
	return &Pending{c: c}
}

// Wait returns the record as stored (with Seq and LeafHash) once it is
// durable, or the error that kept it from being written. If ctx ends first
// the record may still be written.
func (p *Pending) Wait(ctx context.Context) (Record, error) {
	if p.c.err != nil {
		return Record{}, p.c.err
	}
	if p.res == nil {
		select {
		case r := <-p.c.res:
			p.res = &r
		case <-ctx.Done():
			return Record{}, ctx.Err()
		}
	}
	return p.res.rec, p.res.err
}

// Append writes rec and returns once it is durable: the record as stored,
// with its leaf index (Seq) and LeafHash. Every disclosure of data goes
// through Append (or Start and Wait) so that nothing is disclosed unlogged.
func (l *Log) Append(ctx context.Context, rec Record) (Record, error) {
	return l.Start(ctx, rec).Wait(ctx)
}

// Post queues rec and returns at once, without waiting for the commit: for
// events that disclose no data (consent revoked, partner suspended). A
// commit failure is logged, not returned. Disclosure kinds are refused
// (ErrNotDurable).
func (l *Log) Post(ctx context.Context, rec Record) error {
	if rec.Kind.Disclosure() {
		return ErrNotDurable.WithOp("audit.Post", nil)
	}
	c := &call{rec: rec}
	if err := l.prepare(ctx, &c.rec); err != nil {
		return err
	}
	return l.enqueue(ctx, c)
}

func (l *Log) prepare(ctx context.Context, r *Record) error {
	if r.Outcome == "" {
		r.Outcome = OK
	}
	if r.Time.IsZero() {
		r.Time = l.opts.Now()
	}
	r.Time = time.UnixMicro(r.Time.UnixMicro()).UTC()
	if r.Actor == "" {
		r.Actor = ActorString(bankbridge.ActorFrom(ctx))
	}
	if r.RequestID == "" {
		r.RequestID = bankbridge.RequestID(ctx)
	}
	r.Seq, r.LeafHash, r.Pruned = 0, Hash{}, false
	return r.Validate()
}

func (l *Log) enqueue(ctx context.Context, c *call) error {
	select {
	case <-l.done:
		return ErrClosed.WithOp("audit.Append", errors.New("log closed"))
	default:
	}
	select {
	case l.queue <- c:
		return nil
	case <-l.done:
		return ErrClosed.WithOp("audit.Append", errors.New("log closed"))
	case <-ctx.Done():
		return ctx.Err()
	}
}

// appender takes the first waiting record, then whatever else is queued up
// to MaxBatch, and commits them in one transaction: under light load a
// batch is one record (the latency of one commit), under heavy load batches
// grow while the previous commit runs. After Close it drains the queue.
func (l *Log) appender() {
	defer l.wg.Done()
	defer close(l.drained)
	batch := make([]*call, 0, l.opts.MaxBatch)
	recs := make([]Record, 0, l.opts.MaxBatch)
	var linger *time.Timer
	if l.opts.Linger > 0 {
		linger = time.NewTimer(time.Hour)
		linger.Stop()
		defer linger.Stop()
	}
	rest := 0 // batches left before the next wait (see Options.Linger)
	for {
		batch, recs = batch[:0], recs[:0]
		select {
		case c := <-l.queue:
			batch = append(batch, c)
		case <-l.done:
			// Drain: records already accepted are still written.
			for {
				select {
				case c := <-l.queue:
					batch = append(batch, c)
					if len(batch) == l.opts.MaxBatch {
						l.commit(batch, recs[:0])
						batch = batch[:0]
					}
				default:
					if len(batch) > 0 {
						l.commit(batch, recs[:0])
					}
					return
				}
			}
		}
	fill:
		for len(batch) < l.opts.MaxBatch {
			select {
			case c := <-l.queue:
				batch = append(batch, c)
			default:
				break fill
			}
		}
		if linger != nil && len(batch) < l.opts.MaxBatch {
			if rest > 0 {
				rest--
			} else {
				n := len(batch)
				if l.linger(linger, &batch); len(batch) == n {
					rest = lingerRest
				}
			}
		}
		l.commit(batch, recs)
	}
}

// lingerRest is how many batches commit at once after a wait that gathered
// nothing.
const lingerRest = 16

// linger adds to batch what arrives within Options.Linger, up to MaxBatch,
// or until the log closes.
func (l *Log) linger(t *time.Timer, batch *[]*call) {
	t.Reset(l.opts.Linger)
	defer t.Stop()
	for len(*batch) < l.opts.MaxBatch {
		select {
		case c := <-l.queue:
			*batch = append(*batch, c)
		case <-t.C:
			return
		case <-l.done:
			return
		}
	}
}

// commit writes one batch, retrying a bounded number of times when the
// store reports a transient failure, and answers every caller. Callers'
// contexts are not used: once queued, a record is written whatever its
// caller does, so no cancellation can abort its neighbours. A caller
// waiting for its record (Append) is answered after three quick tries; the
// records no one waits for (Post) are tried again for about 8 s more
// (postedTries: a database that refuses connections for a few seconds
// under load), and only then logged as lost.
func (l *Log) commit(batch []*call, recs []Record) {
	for _, c := range batch {
		recs = append(recs, c.rec)
	}
	var tag Tagger
	var err error
	if l.opts.MACs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var key MACKey
		key, err = l.opts.MACs.MACKey(ctx) // the keyring's cache: no I/O
		cancel()
		tag = key.Tagger()
	}
	keyed := err == nil
	if keyed {
		err = l.append(recs, tag, 3)
	}
	var posted []*call
	if keyed && err != nil && bankbridge.ErrorKind(err) == bankbridge.Unavailable {
		for _, c := range batch {
			if c.res == nil {
				posted = append(posted, c)
			}
		}
	}
	if err != nil {
		err = ErrClosed.WithOp("audit.commit", err)
	}
	for i, c := range batch {
		switch {
		case c.res != nil && err != nil:
			c.res <- result{err: err}
		case c.res != nil:
			c.res <- result{rec: recs[i]}
		case err != nil && len(posted) == 0:
			l.opts.Logger.Error("audit: record lost", "kind", c.rec.Kind, "request_id", c.rec.RequestID, "err", err)
		}
	}
	if len(posted) == 0 {
		return
	}
	again := make([]Record, 0, len(posted))
	for _, c := range posted {
		again = append(again, c.rec)
	}
	if err := l.append(again, tag, postedTries); err != nil {
		for _, c := range posted {
			l.opts.Logger.Error("audit: record lost", "kind", c.rec.Kind, "request_id", c.rec.RequestID, "err", err)
		}
	}
}

// postedTries bounds the tries of records no one waits for: with append's
// backoff (5 ms doubling, at most a second between tries) about 8 s in all.
const postedTries = 16

// append stores recs, trying up to tries times while the store reports a
// transient failure (Unavailable), waiting 5 ms, 10 ms, 20 ms ... (at most
// a second) between tries, or until the log closes.
func (l *Log) append(recs []Record, tag Tagger, tries int) error {
	var err error
	wait := 5 * time.Millisecond
	for i := 0; i < tries; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = l.st.Append(ctx, recs, tag)
		cancel()
		if err == nil || bankbridge.ErrorKind(err) != bankbridge.Unavailable || i == tries-1 {
			return err
		}
		select {
		case <-time.After(wait):
		case <-l.done:
			if i >= 2 {
				return err // closing: no more patience than a caller gets
			}
		}
		wait = min(2*wait, time.Second)
	}
	return err
}

// sealer seals every SealEvery until Close, then once more after the last
// record is written. With a Lease it does so only while it holds
// SealerLease, and waits for the lease again when it loses it.
func (l *Log) sealer() {
	defer l.wg.Done()
	if l.opts.Lease == nil {
		l.sealEvery(context.Background())
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-l.done:
			cancel() // stop waiting for the lease
		case <-ctx.Done():
		}
	}()
	for {
		err := l.opts.Lease.RunExclusive(ctx, SealerLease, func(ctx context.Context) error {
			l.opts.Logger.Info("audit: this instance seals the log", "lease", SealerLease)
			return l.sealEvery(ctx)
		})
		if ctx.Err() != nil {
			return
		}
		l.opts.Logger.Warn("audit: the sealer lost its lease, or could not take it; waiting for it again", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// sealEvery is the sealer's work while ctx lasts (while it holds the lease).
func (l *Log) sealEvery(ctx context.Context) error {
	t := time.NewTicker(l.opts.SealEvery)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			l.finalSeal()
			return nil
		case <-ctx.Done():
			select {
			case <-l.done: // Close cancelled ctx: still the holder, so seal
				l.finalSeal()
				return nil
			default:
				return ctx.Err() // the lease is lost: stop at once
			}
		case <-t.C:
			sctx, cancel := context.WithTimeout(ctx, time.Minute)
			if _, err := l.Seal(sctx); err != nil && ctx.Err() == nil {
				l.opts.Logger.Error("audit: seal", "err", err)
			}
			cancel()
		}
	}
}

// finalSeal seals what the appender wrote before it stopped.
func (l *Log) finalSeal() {
	<-l.drained
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := l.Seal(ctx); err != nil {
		l.opts.Logger.Error("audit: final seal", "err", err)
	}
}

// sealChunk bounds the leaves folded into one head, so that catching up
// after a long outage writes bounded transactions.
const sealChunk = 1 << 20

// Seal folds the records committed since the last head into the tree,
// stores the new subtree hashes and signs a head. It first checks that the
// stored leaves still give the last signed root (ErrTampered) and, with
// Options.Memory, that the database's heads reach the last head this signer
// signed (ErrRolledBack) and that the tree extends it; with Options.MACs it
// signs no record whose MAC does not verify (ErrForged). With nothing new
// it re-signs the last head once it is older than Options.Refresh, else
// returns it.
func (l *Log) Seal(ctx context.Context) (SignedHead, error) {
	if !l.signs() {
		return SignedHead{}, ErrNoKey.WithOp("audit.Seal", nil)
	}
	// The key active now, asked for each seal: a rotation reaches this
	// instance without a restart.
	key, err := l.opts.Keys.SigningKey(ctx)
	if err != nil {
		return SignedHead{}, fmt.Errorf("audit: signing key: %w", err)
	}
	var macs *tagChecker
	if l.opts.MACs != nil {
		keys, err := l.opts.MACs.MACKeys(ctx)
		if err != nil {
			return SignedHead{}, fmt.Errorf("audit: MAC keys: %w", err)
		}
		macs = newTagChecker(keys)
	}
	l.sealMu.Lock()
	defer l.sealMu.Unlock()
	last, err := l.st.LatestHead(ctx)
	switch {
	case errors.Is(err, ErrNoHead):
		last = SignedHead{Root: EmptyRoot}
	case err != nil:
		return SignedHead{}, err
	}
	mem, err := l.remembered(ctx, last)
	if err != nil {
		return SignedHead{}, err
	}
	if macs != nil && l.opts.Memory != nil && mem.Rev == 0 {
		// The first seal with a memory is the upgrade to MACs: records
		// appended before it and not yet sealed (a crash, not a clean stop)
		// have none, and refusing them would stop sealing for good. From
		// the first remembered head on, every record needs its MAC.
		macs.untagged = true
	}
	if err := l.catchUp(ctx, mem.Head, mem.Rev > 0); err != nil {
		return SignedHead{}, err
	}
	if last.Size > mem.Head.Size {
		// A head the memory has not seen: a seal cut off between the
		// database and the memory, or another instance's whose memory is
		// elsewhere. Taken only if one of this log's keys signed it and its
		// tree extends the remembered one.
		if err := l.adopt(ctx, last); err != nil {
			return SignedHead{}, err
		}
	}
	size, err := l.st.Size(ctx)
	if err != nil {
		return SignedHead{}, err
	}
	if size < last.Size {
		return SignedHead{}, ErrTampered.WithOp("audit.Seal", fmt.Errorf("the log holds %d records, its signed head %d", size, last.Size))
	}
	now := l.opts.Now()
	if size == last.Size {
		if last.Signature != nil && now.Sub(last.Time) < l.opts.Refresh && (l.opts.Memory == nil || mem.Rev > 0 && mem.Head.Size == last.Size && mem.Head.Root == last.Root) {
			return last, nil
		}
		h := Sign(key, size, l.front.Root(), now)
		if err := l.st.Seal(ctx, nil, h); err != nil {
			return SignedHead{}, err
		}
		return h, l.remember(ctx, key, &mem, h)
	}
	var h SignedHead
	for l.front.Size() < size {
		end := min(size, l.front.Size()+sealChunk)
		next := l.front.Clone()
		nodes, err := l.grow(ctx, next, end, macs)
		if err != nil {
			return SignedHead{}, err
		}
		h = Sign(key, end, next.Root(), now)
		// The database first, then the memory: a seal cut off in between
		// leaves the database one head ahead, which the next seal adopts
		// (its signature and its extension checked); the other order would
		// leave the memory ahead, which looks like deleted heads.
		if err := l.st.Seal(ctx, nodes, h); err != nil {
			return SignedHead{}, err
		}
		l.front = next
		if err := l.remember(ctx, key, &mem, h); err != nil {
			return SignedHead{}, err
		}
	}
	return h, nil
}

// remembered reads the signer's memory and checks the database's latest
// head against it: a database whose heads stop before the remembered one
// lost heads or records (deleted, or an older copy restored). Without a
// memory, or on its first use, it is the database's latest head (rev 0).
func (l *Log) remembered(ctx context.Context, last SignedHead) (Remembered, error) {
	if l.opts.Memory == nil {
		return Remembered{Head: last}, nil
	}
	mem, err := l.opts.Memory.Last(ctx)
	if errors.Is(err, ErrNoHead) {
		if last.Size > 0 {
			l.opts.Logger.Warn("audit: the signer has no memory of a head yet; trusting the database's latest head this once",
				"tree_size", last.Size, "root", last.Root.String())
		}
		return Remembered{Head: last}, nil
	}
	if err != nil {
		return mem, err
	}
	switch {
	case last.Size < mem.Head.Size:
		has := fmt.Sprintf("its latest signed head is of size %d", last.Size)
		if last.Signature == nil {
			has = "it holds no signed head"
		}
		return mem, ErrRolledBack.WithOp("audit.Seal", fmt.Errorf("the database is behind the signer's memory: %s, but this signer signed a head of size %d (root %s) at %s: heads (and perhaps records) were deleted or an older copy of the database restored; refusing to sign",
			has, mem.Head.Size, mem.Head.Root, mem.Head.Time.Format(time.RFC3339)))
	case last.Size == mem.Head.Size && last.Root != mem.Head.Root:
		return mem, ErrTampered.WithOp("audit.Seal", fmt.Errorf("the database's head of size %d has root %s, but the head this signer signed at that size (in its memory) has root %s: the head was replaced; refusing to sign",
			last.Size, last.Root, mem.Head.Root))
	}
	return mem, nil
}

// adopt takes a database head newer than the memory once it is signed by
// one of this log's keys and extends the tree at l.front.
func (l *Log) adopt(ctx context.Context, h SignedHead) error {
	pub, err := l.KeyFor(ctx, h.KeyID)
	if err == nil {
		err = h.Verify(pub)
	}
	if err != nil {
		return ErrTampered.WithOp("audit.Seal", fmt.Errorf("the database's head of size %d is past the signer's memory (%d) and its signature does not verify: %v", h.Size, l.front.Size(), err))
	}
	next := l.front.Clone()
	if _, err := l.grow(ctx, next, h.Size, nil); err != nil {
		return err
	}
	if next.Root() != h.Root {
		return ErrTampered.WithOp("audit.Seal", fmt.Errorf("the database's head of size %d does not extend the head of size %d this signer remembers: records %d..%d do not give its root", h.Size, l.front.Size(), l.front.Size(), h.Size-1))
	}
	l.front = next
	return nil
}

// remember advances the signer's memory to h, with h as a signed
// checkpoint note.
func (l *Log) remember(ctx context.Context, key ed25519.PrivateKey, mem *Remembered, h SignedHead) error {
	if l.opts.Memory == nil {
		return nil
	}
	note, err := SignCheckpoint(l.opts.Origin, key, h)
	if err != nil {
		return err
	}
	note = l.cosign(ctx, note, h)
	rev, err := l.opts.Memory.Advance(ctx, mem.Rev, Remembered{Head: h, Checkpoint: string(note)})
	if err != nil {
		return fmt.Errorf("audit: the head of size %d is stored but the signer's memory did not take it: %w", h.Size, err)
	}
	*mem = Remembered{Head: h, Checkpoint: string(note), Rev: rev}
	return nil
}

// cosign asks each witness to cosign note, the checkpoint of h, and
// returns note with the cosignatures it got. Proofs come from the nodes
// just stored with h.
func (l *Log) cosign(ctx context.Context, note []byte, h SignedHead) []byte {
	proof := func(ctx context.Context, old uint64) ([]Hash, error) {
		if old == 0 || old == h.Size {
			return nil, nil
		}
		if old > h.Size {
			return nil, ErrTreeSize.WithOp("audit.cosign", fmt.Errorf("the witness has seen %d records, the log signs %d", old, h.Size))
		}
		p, err := l.tree.consistency(ctx, old, h.Size)
		return p.Path, err
	}
	out := note
	for _, c := range l.opts.Cosigners {
		sigs, err := c.Cosign(ctx, note, proof)
		if err != nil {
			l.opts.Logger.Warn("audit: a witness did not cosign the checkpoint", "tree_size", h.Size, "err", err)
			continue
		}
		out = append(out[:len(out):len(out)], sigs...)
	}
	return out
}

// Checkpoint returns the latest head as a signed checkpoint note (C2SP
// tlog-checkpoint), from the signer's memory; ErrNoHead without one.
func (l *Log) Checkpoint(ctx context.Context) (Remembered, error) {
	if l.opts.Memory == nil {
		return Remembered{}, ErrNoHead.WithOp("audit.Checkpoint", errors.New("this log keeps no signer's memory"))
	}
	return l.opts.Memory.Last(ctx)
}

// Origin is the log's name in its checkpoints.
func (l *Log) Origin() string { return l.opts.Origin }

// catchUp brings the sealer's frontier to the last head (another instance
// may have sealed since), rebuilding it from stored nodes on first use, and
// checks that it gives the head's root. remembered says the head comes
// from the signer's memory rather than the database.
func (l *Log) catchUp(ctx context.Context, last SignedHead, remembered bool) error {
	if l.front == nil || l.front.Size() > last.Size {
		f, err := l.frontierAt(ctx, last.Size)
		if err != nil {
			return err
		}
		l.front = f
	}
	if l.front.Size() < last.Size {
		next := l.front.Clone()
		if _, err := l.grow(ctx, next, last.Size, nil); err != nil {
			return err
		}
		l.front = next
	}
	if got := l.front.Root(); got != last.Root {
		l.front = nil
		whose := "its signed head says"
		if remembered {
			whose = "the head this signer signed (in its memory) says"
		}
		return ErrTampered.WithOp("audit.Seal", fmt.Errorf("the tree of %d records has root %s, %s %s: a record below %d was changed after it was signed; refusing to sign", last.Size, got, whose, last.Root, last.Size))
	}
	return nil
}

// grow pushes the stored leaf hashes of [f.Size(), end) onto f and returns
// the subtree hashes completed at stored levels. With macs (records no head
// covers yet) it reads the records themselves and checks each one's leaf
// hash and MAC before it is signed.
func (l *Log) grow(ctx context.Context, f *Frontier, end uint64, macs *tagChecker) ([]Node, error) {
	var nodes []Node
	emit := func(level uint8, index uint64, h Hash) {
		if level%NodeStride == 0 {
			nodes = append(nodes, Node{Level: level, Index: index, Hash: h})
		}
	}
	if macs != nil {
		from := f.Size()
		err := l.st.Scan(ctx, from, end, func(r *Record) error {
			if r.Seq != f.Size() {
				return ErrTampered.WithOp("audit.Seal", fmt.Errorf("record %d is missing", f.Size()))
			}
			if err := checkRecord(r, macs); err != nil {
				return err
			}
			f.Push(r.LeafHash, emit)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if f.Size() != end {
			return nil, ErrTampered.WithOp("audit.Seal", fmt.Errorf("records %d..%d: only %d stored", from, end-1, f.Size()-from))
		}
		return nodes, nil
	}
	const step = 1 << 16
	for f.Size() < end {
		to := min(end, f.Size()+step)
		hs, err := l.st.LeafHashes(ctx, f.Size(), to)
		if err != nil {
			return nil, err
		}
		if uint64(len(hs)) != to-f.Size() {
			return nil, ErrTampered.WithOp("audit.Seal", fmt.Errorf("records %d..%d: %d leaf hashes stored", f.Size(), to-1, len(hs)))
		}
		for _, h := range hs {
			f.Push(h, emit)
		}
	}
	return nodes, nil
}

// frontierAt rebuilds the frontier of the tree of size leaves from stored
// subtree hashes: one perfect subtree per set bit of size.
func (l *Log) frontierAt(ctx context.Context, size uint64) (*Frontier, error) {
	f := &Frontier{size: size}
	var start uint64
	for level := 63; level >= 0; level-- {
		if size&(1<<level) == 0 {
			continue
		}
		h, err := l.tree.perfect(ctx, node{uint8(level), start >> level})
		if err != nil {
			return nil, err
		}
		f.nodes = append(f.nodes, h)
		start += 1 << level
	}
	return f, nil
}

// Head returns the latest signed tree head; ErrNoHead before the first seal.
func (l *Log) Head(ctx context.Context) (SignedHead, error) { return l.st.LatestHead(ctx) }

// HeadAt returns the signed head of exactly size; ErrNoHead if there is none.
func (l *Log) HeadAt(ctx context.Context, size uint64) (SignedHead, error) {
	return l.st.Head(ctx, size)
}

// sizeOK checks that size is within the latest signed head.
func (l *Log) sizeOK(ctx context.Context, size uint64) (SignedHead, error) {
	h, err := l.st.LatestHead(ctx)
	if err != nil {
		return SignedHead{}, err
	}
	if size == 0 || size > h.Size {
		return SignedHead{}, ErrTreeSize.WithOp("audit.proof", fmt.Errorf("size %d, latest head %d", size, h.Size))
	}
	return h, nil
}

// Inclusion returns the inclusion proof of leaf index in the tree of size
// leaves, which must not pass the latest signed head.
func (l *Log) Inclusion(ctx context.Context, index, size uint64) (InclusionProof, error) {
	if _, err := l.sizeOK(ctx, size); err != nil {
		return InclusionProof{}, err
	}
	if index >= size {
		return InclusionProof{}, ErrLeafBeyond.WithOp("audit.Inclusion", nil)
	}
	return l.tree.inclusion(ctx, index, size)
}

// InclusionByHash finds the record with leaf hash h and returns its
// inclusion proof in the tree of size leaves (0: the latest signed head).
func (l *Log) InclusionByHash(ctx context.Context, h Hash, size uint64) (InclusionProof, error) {
	if size == 0 {
		head, err := l.st.LatestHead(ctx)
		if err != nil {
			return InclusionProof{}, err
		}
		size = head.Size
	}
	rec, err := l.st.RecordByLeafHash(ctx, h)
	if err != nil {
		return InclusionProof{}, err
	}
	return l.Inclusion(ctx, rec.Seq, size)
}

// Consistency returns the proof that the tree of first leaves is a prefix
// of the tree of second leaves (second at most the latest head's size).
func (l *Log) Consistency(ctx context.Context, first, second uint64) (ConsistencyProof, error) {
	if _, err := l.sizeOK(ctx, second); err != nil {
		return ConsistencyProof{}, err
	}
	if first == 0 || first > second {
		return ConsistencyProof{}, ErrTreeSize.WithOp("audit.Consistency", fmt.Errorf("first %d, second %d", first, second))
	}
	return l.tree.consistency(ctx, first, second)
}

// Records returns one page of records, newest first.
func (l *Log) Records(ctx context.Context, q Query) (Page, error) {
	return l.st.Records(ctx, NormalizeQuery(q))
}
