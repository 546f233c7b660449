// Package audit owns the disclosure log: an append-only record of every
// disclosure of customer data (data API calls, messages with customer data
// sent to a platform, consent events, staff views, partner changes), made
// tamper-evident by a Merkle tree in the manner of RFC 9162 (Certificate
// Transparency 2.0) with Ed25519-signed tree heads.
//
// What it owns:
//   - Record and its canonical leaf encoding (LeafInput), so anyone can
//     recompute a leaf hash from an exported record;
//   - the tree hashing of RFC 9162 §2.1.1 (leaf = SHA-256(0x00 || leaf),
//     node = SHA-256(0x01 || left || right), the MTH split at the largest
//     power of two below n), inclusion and consistency proofs (§2.1.3,
//     §2.1.4) and their verifiers;
//   - Log: a group-committing appender (many records per database
//     transaction; Append answers only once its record is durable) and a
//     sealer that, every few seconds, folds the new leaves into the tree,
//     materialises subtree hashes for fast proofs and signs a tree head
//     (with Options.Lease, on one instance of a fleet at a time);
//   - Verify, which recomputes every leaf from its stored fields and the whole
//     tree from the leaves, checks every signed head, and names each record
//     that was edited, reordered or deleted;
//   - exports (CSV and JSON, each record with its inclusion proof) and
//     retention (Prune keeps every leaf hash, so the log still verifies).
//
// What it must never do: import net/http or a store; answer Append before
// the record is committed; sign a tree that does not extend the last signed
// head; record personal data in Detail (it is the operation, not the data).
//
// Beyond the database: with Options.Memory the signer remembers its last
// head (and the head as a C2SP checkpoint note) outside the database and
// refuses a database that does not reach it or a tree that does not
// extend it; with Options.MACs every record carries a MAC under a key the
// database does not hold and the sealer signs no record whose MAC fails.
// VerifyWith checks both, the unsigned tail and earlier checkpoints.
//
// Known limits: leaf indexes are assigned under one lock per log (a counter
// row), so appends from many instances serialise on it (one short
// transaction per batch, not per record). The log takes its keys from
// Options.Keys (the fleet's keyring: the private key sealed in the database
// under a key-encryption key that is not there): an attacker with only
// database access cannot re-sign a rewritten log, but one who also holds the
// key-encryption key can; publish heads and keys (GET /audit/v1/sth,
// /audit/v1/keys) so outsiders keep evidence. Keys rotate: each head names
// its key in key_id and Verify takes the whole history. When a record's fields and its stored leaf hash are both
// rewritten consistently, Verify still fails (the signed heads no longer
// match) but can only name the range between the last head that verifies
// and the first that does not.
package audit
