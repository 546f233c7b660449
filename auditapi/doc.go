// Package auditapi is the public HTTP face of the audit log: the JSON
// endpoints anyone may call to check the log without trusting the bank
// (RFC 9162 §2.1's proofs, in the spirit of Certificate Transparency's
// get-sth, get-proof-by-hash and get-sth-consistency):
//
//	GET /audit/v1/sth                                         the latest signed tree head and the key that signed it (its key_id)
//	GET /audit/v1/checkpoint                                  the latest head as a C2SP tlog-checkpoint signed note (text/plain), from the signer's memory
//	GET /audit/v1/keys                                        every key that signed heads, oldest first (keys rotate)
//	GET /audit/v1/proof/inclusion?leaf_hash=H&tree_size=N     the audit path of a record's leaf (N optional: the latest head)
//	GET /audit/v1/proof/consistency?first=M&second=N          the proof that tree M is a prefix of tree N
//
// Hashes are standard base64 in answers; leaf_hash is read as hex or
// base64. Errors are RFC 9457 problem+json. Nothing here reveals a record's
// content: a leaf hash is a SHA-256 over fields that include a random
// request id.
//
// What it must never do: import a store or another edge; serve a proof for
// a tree larger than the latest signed head.
package auditapi
