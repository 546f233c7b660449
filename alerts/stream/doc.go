// Package stream relays the ledger's outbox to NATS JetStream and feeds
// alert workers from it, for deployments with more than one instance
// (`--events nats://...`).
//
// Everything a deployment puts on NATS is namespaced by its cluster name
// (Deployment.Cluster: --cluster, or by default the id its database
// generated when first migrated, so every instance on one database agrees):
// the stream BANKBRIDGE_<cluster>_LEDGER, its subject
// bankbridge.<cluster>.ledger.events, the durable consumer <cluster>_alerts
// and the message ids <cluster>.<seq>. Two deployments on one NATS server
// therefore never see each other's events, and neither's events are taken
// for the other's duplicates. The stream's description names the database
// whose events it carries; Dial refuses a second database under the same
// cluster name.
//
// The relay reads the outbox after its persisted cursor (alerts.Store's
// cursor named "relay") and publishes each event with its message id, so a
// relay that dies between publishing and saving its cursor republishes
// events the stream then drops as duplicates (within the stream's
// Duplicates window, 10 minutes). It wakes when the ledger commits (wire
// Relay's wake to ledger.Options.OnBatch) and polls as a fallback. Consume
// runs the durable pull consumer shared by every instance's alert worker:
// each message goes to one worker, is processed (alerts.Service.Process,
// which is idempotent) and acknowledged after its alerts are committed; a
// batch that fails is handed back with a growing delay (logged, counted in
// Stats); a worker that dies leaves its messages to be redelivered after
// AckWait.
//
// It must never import a store or net/http. Known limits: every instance
// runs a relay, and all but the first to read an event only publish
// duplicates the stream drops; a relay stopped for longer than the
// Duplicates window that then replays relies on the alerts' own dedupe, not
// the stream's; events left unconsumed in a stream under another name (the
// fixed names before cluster names, or a renamed cluster) stay there: drain
// the consumer before renaming.
package stream
