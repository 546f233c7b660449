// Package oauth is the bank's authorization server, following the FAPI 2.0
// Security Profile: pushed authorization requests only (RFC 9126), PKCE with
// S256 only (RFC 7636), private_key_jwt client authentication with the
// issuer as the one audience and each assertion accepted once (RFC 7523),
// DPoP-bound access and refresh tokens with server nonces and a jti replay
// store (RFC 9449), iss in the authorization response (RFC 9207), rich
// authorization requests carrying an FDX consent request (RFC 9396, type
// fdx_v1.0) with the consent named as grant_id in the token response,
// single-use codes living 60 s, access tokens living at most 900 s, refresh
// tokens bound to the DPoP key and never rotated, metadata (RFC 8414),
// introspection (RFC 7662) and revocation (RFC 7009). docs/oauth.md walks
// through the flows.
//
// All JOSE work (parsing, signature checks, signing, JWK thumbprints) is
// go-jose v4's; this package only decides what to check. Every token is tied
// to one consent (package consent), and every use checks that consent: the
// token endpoint reads it from the store, the resource servers' Verifier
// caches it and polls the store twice a second for the consents and
// partners changed since (one query per instance, not one per consent), so
// a revocation or a partner's suspension takes effect everywhere within a
// second, and at once on the instance that made it. Revoking any token
// through RFC 7009 revokes its consent.
//
// The signing keys (ES256) come from Deps.Keys: in bankbridge the fleet's
// keyring, sealed in the database under a key-encryption key, so every
// instance signs with the same key. Keys rotate with overlap: the JWKS lists
// every key not retired (the next one before it signs), tokens verify under
// any of them, and nonces and pairwise subjects are keyed by a secret
// derived from the first key, so they survive rotation.
//
// oauth must never import a store, a driver or another edge (web, dataapi);
// it reaches storage only through consent. Known limits: keys are read again
// at most every second and the keyring's own refresh paces a rotation and a
// retirement; DPoP proof jtis at the resource server are remembered
// per instance (the token endpoint's are shared through the store); no
// OpenID Connect (no ID tokens, no userinfo, hence no discovery document); partner rate limits are enforced by
// the data API, not here; request objects (JAR) are not supported.
package oauth
