// Package witness is a transparency-log witness for the disclosure log,
// in the shape of C2SP tlog-witness (https://c2sp.org/tlog-witness) with
// Ed25519 cosignatures of C2SP tlog-cosignature
// (https://c2sp.org/tlog-cosignature, cosignature/v1), and the bank's
// client of it.
//
// What it owns: Server, which runs apart from the bank (its own key, its
// own state file, its own data folder: `bankbridge witness`), takes POST
// /add-checkpoint (old size, consistency proof, checkpoint), checks the
// bank's signature, that the old size is the one it last cosigned, and
// the RFC 6962 consistency proof (golang.org/x/mod/sumdb/tlog), persists
// the new checkpoint, and only then answers with its cosignature; Client,
// the audit.Cosigner the bank's sealer calls after each head; and the
// cosignature signer and verifier (note.Signer, note.Verifier).
//
// What it must never do: cosign a checkpoint that does not extend the last
// one it cosigned (a rollback, a fork), or answer before its state is on
// disk; read the bank's database.
//
// Known limits: the bank pushes (the C2SP shape) rather than the witness
// polling; a witness that is down costs the checkpoints of that time
// their cosignature (logged), not the seal. One log per witness process.
package witness
