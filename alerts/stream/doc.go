// Package stream relays the ledger's outbox to NATS JetStream and feeds
// alert workers from it, for deployments with more than one instance
// (`--events nats://...`).
//
// The relay reads the outbox after its persisted cursor (alerts.Store's
// cursor named "relay") and publishes each event with the JetStream message
// id set to its sequence, so a relay that dies between publishing and
// saving its cursor republishes events the stream then drops as duplicates
// (within the stream's Duplicates window, 10 minutes). Consume runs a
// durable pull consumer shared by every instance's alert worker: each
// message goes to one worker, is processed (alerts.Service.Process, which
// is idempotent) and acknowledged after its alerts are committed; a worker
// that dies leaves its messages to be redelivered after AckWait.
//
// It must never import a store or net/http. Known limits: one relay should
// run at a time (two would only publish duplicates the stream drops); a
// relay stopped for longer than the Duplicates window that then replays
// relies on the alerts' own dedupe, not the stream's.
package stream
