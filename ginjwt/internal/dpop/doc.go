// Package dpop verifies DPoP proofs (RFC 9449, OAuth 2.0 Demonstrating
// Proof of Possession) and computes RFC 7638 JWK thumbprints.
//
// A Verifier checks one proof against the request it came with: the JWS
// structure, the "dpop+jwt" type, an allowed asymmetric algorithm, the
// public key embedded in the "jwk" header, the signature, and the jti, htm,
// htu, iat, ath and nonce claims (RFC 9449 §4.3). It keeps no state: the
// caller owns the replay cache, the comparison of Proof.JKT with the key an
// access token is bound to, and the nonces it hands out.
//
// Decisions beyond the letter of RFC 9449:
//
//   - Strict encodings. A proof holds only base64url characters and two
//     dots; every segment and key member must be canonical base64url (no
//     padding, no stray bits); header and claims must be JSON objects in
//     valid UTF-8, without duplicate member names at any depth or
//     escaped lone surrogates. Member names are case-sensitive. EC
//     coordinates and Ed25519 keys must have their full length, RSA n and
//     e no leading zero octet, so each key has exactly one thumbprint.
//   - The size limit (Config.MaxProofSize) is checked before any decoding;
//     RSA moduli are limited to 2048..4096 bits and the public exponent to
//     at most 65537, bounding the cost of a hostile key; the "crit" header
//     is refused.
//   - htu is compared after the normalisation documented on normalizeURI:
//     query and fragment dropped, scheme and host lowercased, default port
//     dropped, RFC 3986 percent-encoding and dot-segment normalisation;
//     the path is otherwise compared as is.
//   - ath is required, and must match, when the request carries an access
//     token; a proof carrying ath when no token is presented is refused,
//     as it was made for another request.
//   - A missing or wrong nonce is reported as ErrUseNonce only once every
//     other check has passed, so a client told to retry with a nonce
//     knows its proof is otherwise good.
//   - PS256 signatures must use a salt as long as the hash (RFC 7518
//     §3.5).
//
// The replay cache must be keyed on Proof.JKT and Proof.JTI, never on the
// proof text: ECDSA signatures are malleable, so the same proof can be
// re-encoded with a different, still valid, signature. It must remember an
// entry for at least MaxAge+MaxFutureSkew.
//
// Errors wrap ErrInvalidProof, ErrUseNonce, ErrInvalidRequest or
// ErrInvalidConfig. Their text names the failed check only; it never
// contains the proof, the access token, a nonce or key material, so it is
// safe to log.
package dpop
