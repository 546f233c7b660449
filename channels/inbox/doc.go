// Package inbox holds what the chat channels keep in storage beside the
// assistant's store: the inbox of platform events stored before a webhook
// is answered (Event, Store), and the records of account linkings in
// progress (LinkAttempt, LinkAttempts). package channels uses them;
// store/sqlstore implements them, once for both engines.
//
// It owns types and contracts only: it must never do I/O of its own nor
// import HTTP, so that a store may implement it and know no HTTP. Known
// limits: none of its own; see channels for the processing.
package inbox
