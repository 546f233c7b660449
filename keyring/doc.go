// Package keyring owns the fleet's signing keys: the disclosure log's
// Ed25519 key ("audit"), the OAuth server's ES256 key ("oauth") and the
// messenger partner's ES256 key ("messenger"). Every instance of a fleet
// reads the same keys from the shared database, so they all sign with one
// key and verify with one history.
//
// What it owns:
//   - KEK, the key-encryption key: one method pair, Seal and Open. Private
//     keys reach the database only sealed under it (AES-256-GCM, the key's
//     name and kid as associated data, so a sealed key cannot be moved to
//     another name or kid). FileKEK reads it from a file (BANKBRIDGE_KEY_FILE);
//     a KMS slots in as another KEK (envelope encryption: docs/keys.md).
//   - Ring: the keys of each name with their kid, version, creation and
//     activation times and retired state; the key active at a moment;
//     rotation with overlap (a new key is published before it signs, old
//     ones keep verifying) and retirement.
//   - The first key of a name, made once for the fleet: insert-if-absent
//     under a unique (name, version) constraint, then read back, so
//     instances starting together end with the same key. Keys kept the old
//     way (a PEM file in the data folder, a plaintext JWK in the database)
//     are imported with their kids, so what they signed still verifies.
//
// What it must never do: store or log a private key in the clear; trust a
// public key it did not derive from a private key it opened with the KEK
// (whoever can write the database alone must not be able to add a key that
// verifies a rewritten log); make a fresh key when the KEK does not open the
// stored ones (that is a refusal to start, naming both KEK ids).
//
// Known limits: a KEK is one key for every sealed key; rotating the KEK
// itself means re-sealing every key (not built: see docs/keys.md).
// Instances learn of a rotation by reading the store again, at most every
// Options.Refresh (30 s), so a rotation activates after a delay longer than
// that.
package keyring
