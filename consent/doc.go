// Package consent owns third-party access as the bank records it: partners
// (registered by staff, with declared purposes per FDX data cluster and a
// signed secondary-use attestation), the consents customers give them
// (Grant, shaped like FDX's ConsentGrant), and the durable working records of
// the authorization server (pushed requests, single-use codes, refresh
// tokens, used JWT ids, the signing key), which oauth drives.
//
// A consent is in force only while it is ACTIVE and before its expiry, and
// only while its partner is active. Expiry is checked against the clock at
// every use (Grant.Usable, Service.Check), so a consent stops working on the
// minute whether or not the sweeper (Service.Sweep) has run; the sweeper only
// keeps statuses and the event trail current. Every change is told to the
// Hooks (granted, revoked, expired, used, reauthorised), which is where the
// audit log subscribes; partner changes (registered,
// suspended, reinstated, refused, each with who and why) go to the
// PartnerHooks.
//
// Storage is behind Store (store.go), implemented in store/sqlite and
// store/postgres and held to one conformance suite (store/storetest.Consent).
//
// consent must never import net/http, an edge, a store or a driver; it never
// moves money and never reads account data beyond which accounts a customer
// owns. Known limits: only TIME_BOUND consents (1-365 days); a consent covers
// accounts, not individual payees; partner keys at a jwks_uri are fetched by
// oauth, not validated at registration; Used events fire on every call, so a
// Hook must be cheap.
package consent
