// Package assistant is conversational banking for messaging platforms,
// independent of any of them: it reads free text and quick replies into
// intents (balances, recent activity, spending by category and period,
// paying a saved payee, transfers between the customer's own accounts,
// reporting a card payment as fraud, freezing and unfreezing cards, alert,
// privacy and language settings, talking to a person, unlinking, help), in
// English and Spanish, and answers them as Replies that a channel renders
// in its platform's format, in the language the customer chose
// (docs/assistant.md).
//
// What it owns: the deterministic parser (Parse, ParsePayload), the
// dialogue (Assistant.Handle), the links between platform users and
// customers (Link, each under a consent the customer gave the platform's
// partner), conversations with their pending confirmation and hand-over
// state, transcripts for the staff inbox, and each customer's platform
// settings (privacy: full, minimal by default, or off; alerts on or off;
// the language of replies).
// Storage is behind Store, implemented in store/sqlite and store/postgres
// and held to store/storetest.Messenger.
//
// Rules it keeps: money moves only after an explicit confirmation of a
// request it showed, through ledger.Service with an idempotency key minted
// when the confirmation was asked, so a confirmation that arrives twice
// books one transfer; above the step-up limit it sends the customer to the
// bank's own page; anything it does not understand gets help, never a
// guess. Data is disclosed only while the chat's link and its consent are
// in force, only for accounts and clusters the consent covers, and every
// reply carrying data says so (Reply.Disclosure) so the channel records it
// in the audit log before sending. It says it is automated at the start of
// a conversation, after a long pause and when a person hands back.
//
// It must never import net/http, a store or a channel. Known limits: a
// parser of words, so phrasings unlike any it knows get help (held-out
// phrasings were understood at 77% before they were added); full-text
// alerts stay English; payees are matched by exact nickname or name (no
// fuzzy matching of people); payments from checking or savings, to a
// payee at another bank only through Deps.Rails (a standard ACH credit: no
// same-day or instant from chat); spending sums read at most 5,000
// history entries; conversation locking is per process (another instance
// may handle a concurrent message of the same conversation, which the
// ledger's idempotency keeps safe for money).
package assistant
