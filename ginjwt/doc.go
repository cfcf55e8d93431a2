// Package ginjwt issues and checks JSON Web Tokens for Gin apps, and can take
// them back.
//
// A plain JWT stays valid until it expires, so a refreshed or logged-out
// token keeps working. ginjwt keeps a few bytes per user and per session in a
// Store (the redisstore package on Redis; memstore in memory, for one
// process and for tests) and checks every token against them:
//
//   - Login starts a session (one login on one device) and returns a pair: a
//     short-lived access token (typ "at+jwt", 15 minutes by default) and a
//     refresh token (typ "rt+jwt", signed with a key derived from yours).
//   - Every token carries its session id, the session's generation and the
//     user's version. The guard (Middleware) lets a request through only if
//     the signature, algorithm, type, exp, nbf, iat, iss and aud are good and
//     the store, in one round trip, says the session exists at that
//     generation and the user version is current.
//   - Refresh rotates: the generation advances, so the previous access and
//     refresh tokens of the session stop working at once.
//   - Concurrent refreshes with the same refresh token (one app, several
//     requests) converge: within Options.RefreshGrace of a rotation, the
//     replaced refresh token gets a pair for the current generation.
//   - A client whose refresh response was lost retries with the replaced
//     token after the grace window and still converges, Options.RefreshRetries
//     times per session. An older refresh token, or the replaced one past
//     that bound (a replay, or a stolen token), revokes its whole session.
//   - Logout ends one session with its current access token or its current or
//     previous refresh token, even expired: a mobile app holding only a
//     refresh token can log out.
//   - RevokeUser advances the user's version (logout everywhere, password
//     change): every token of the user stops working.
//
// The store fails closed: missing state means invalid, so lost Redis data
// logs people out and never brings a revoked token back. When the store
// cannot be reached, requests answer 503 store_unavailable, never 401, so
// clients retry instead of discarding their tokens.
//
// Failures reach clients as JSON {"error": code, "error_description": text}
// (the names of RFC 6749 §5.2 and RFC 6750) with a stable code; each code is
// a sentinel error (ErrTokenExpired, …) usable with errors.Is. The refresh
// route answers as an OAuth token endpoint: a refused grant is 400
// {"error": "invalid_grant", "error_description": text, "reason": code} (see
// GrantError).
package ginjwt
