// Package memstore is a ginjwt.Store in the memory of one process: the
// store's rules written once more as plain Go behind a mutex, next to
// redisstore, which keeps the same state in Redis.
//
// It is meant for two things:
//
//   - Development on one machine: run an app with ginjwt and no Redis.
//   - Unit tests of your own handlers and middleware: a real Store, with
//     real rotation, reuse detection and revocation, and no server to start.
//     Pass your test clock to both ginjwt.Options.Now and WithClock, and
//     advancing it expires sessions as it would in production.
//
// It is not for production behind more than one instance. The state lives in
// one process and is not shared: a session created by one instance is
// unknown to another, and a logout or RevokeUser on one instance does not
// reach the others. A restart loses every session, which, as with a flushed
// Redis, logs everyone out and never revives a token. Use redisstore when
// more than one process serves the same users.
//
// # Rules
//
// The store answers exactly as redisstore's scripts do, and passes the same
// conformance suite, ginjwt/storetest. In particular:
//
//   - A subject's user version is random in [1, 2^52] when the subject has no
//     state, and advances by one on RevokeUser.
//   - Every time comes from the store's own clock (time.Now, or WithClock),
//     counted in whole milliseconds as redisstore counts Redis' clock: the
//     refresh rules (grace, retries, MaxAge) and idle expiry: a session disappears
//     min(TTL, time left before MaxAge) after its creation or last rotation,
//     and its subject's version once the subject's last session could have
//     expired.
//   - A login keeps its subject within NewSession.Limit live sessions by
//     ending the least recently used ones (oldest login or latest rotation;
//     at the same millisecond, the lower session id), and reports them.
//
// # Memory
//
// Memory grows only with writes, and every write first drops what has
// expired: all of its subject's expired sessions at once, and, at most once a
// minute of the store's clock, everything expired in the store. There is no
// background goroutine and nothing to close.
package memstore
