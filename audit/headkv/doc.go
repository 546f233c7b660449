// Package headkv keeps the disclosure log's signer's memory (audit.Memory)
// in a NATS JetStream key-value bucket, so every instance of a fleet sees
// the last head any of them signed without trusting the database.
//
// What it owns: one bucket per cluster, bankbridge_<cluster>_audit_head
// (the cluster name namespaces it, as it does the alerts' stream), one key,
// "head", holding the audit.Remembered as JSON. Advance is a
// compare-and-set on the key's revision (KV Update with the last
// revision; Create for the first), so two signers cannot both move the
// memory on from one head.
//
// What it must never do: read or write the database; trust a value it
// cannot parse.
//
// Known limits: the memory is as trustworthy as the NATS servers; whoever
// administers both NATS and the database can roll both back together;
// witnesses that run apart (package witness) close that. The bucket keeps a short history (8 revisions) for operators.
package headkv
