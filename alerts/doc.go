// Package alerts owns real-time alerts over ledger events: rules per
// customer (large debit, low balance, card purchase, deposit received,
// payment sent, and suspicious activity that asks "was this you?"), the
// status changes of payments to other banks (PaymentChanged, told by the
// wiring rather than read from the outbox), the
// customers' alert settings, the notification centre, delivery to every
// linked channel with retries, dead letters and deduplication, and the
// bank's one case queue (casework.go, dispute.go): fraud cases a "no"
// opens, cards the customer reports lost or stolen (frozen at once), and
// disputes of card payments with the network's reason code and deadline;
// cases carry an assignee and notes by staff or the customer. An alert is
// dated by its ledger event, not by when it was evaluated.
//
// Flow: ledger.Store.Apply writes an event for every transfer in the batch's
// own transaction (the outbox). A Worker reads the outbox from a persisted
// cursor (or, with several instances, from NATS JetStream through the same
// Source interface), evaluates the rules, and commits in one store
// transaction the alerts, one delivery per (alert, channel), the customers'
// updated spending profiles and the new cursor. Alert and delivery ids are
// derived from (event, rule, customer[, channel]), so re-reading an event
// after a crash inserts nothing new: delivery is at least once and
// deduplicated. A dispatcher claims due deliveries with a lease, hands each
// to its Channel with the delivery id (the channel's own dedupe key), and
// marks it delivered, or retries it with exponential backoff, or after
// MaxAttempts stores it as a dead letter staff can see and requeue. A
// delivery on a channel this instance lacks (off here, on another instance
// of the fleet; e-mail too, with FleetEmail) is still stored; dispatchers
// claim their own channels' deliveries first, and one without the channel
// claims a delivery only once it is overdue, and hands it back for one that
// has the channel; after two minutes and 2*MaxAttempts claims with none it
// is a dead letter that says so: logged and counted (Stats), never dropped.
//
// Messages are minimised per the customer's privacy mode before they leave
// the bank: full shows amounts and merchants; minimal only says an alert is
// waiting in the bank's app (and still asks "was this you?", which reveals
// nothing); off sends nothing to third-party platforms. The bank's own
// notification centre always holds the full text.
//
// An alert keeps what it says as data (Facts): each delivery's text is
// written from them in the customer's language at the time it is sent
// (Options.Language, Text), so an e-mail or a chat message to a customer
// who reads Spanish is Spanish throughout. Notices (Tell) carry their texts
// in both languages, written by the package that owns their words.
//
// It must never import net/http, a store, or an edge package (channels,
// web): it declares what it needs (Store, Ledger, Channel, Links, Source)
// and cmd/bankbridge wires the implementations.
//
// Known limits: low balance is judged on the balance when the event is
// evaluated (milliseconds after posting), not the balance right after that
// transfer; spending profiles are per customer, last writer wins when two
// instances evaluate the same customer at once; a channel that cannot
// dedupe by delivery id may show a message twice if the process dies between
// sending and recording it (the window is one send). Disputes are offered
// for 120 days after processing whatever the reason (the networks allow
// longer for goods expected later); sanctions holds are not cases here.
package alerts
