package redisstore

// Negative entries of the near-cache.
//
// The near-cache (WithNearCache) keeps State's "not found" answers as well as
// its found ones, in the same bounded map, with the same TTL, dropped by the
// same invalidation messages and flushed by the same events (subscription up
// or down, lost-state marker gone). A revoked or logged-out token presented
// again and again then costs no round trip. This is safe because, for the
// tokens the guard can be asked about, "not found" is final.
//
// The guard asks State(U, S) for an access token (U, S, v, g) whose signature
// it has verified, and accepts it only when State finds U's version v and
// S's generation g; a forged token is refused before State is asked. Let a
// read of Redis at time t0 answer "not found" for (U, S). Then Redis refuses
// every such token at every later time t1, for one of these reasons:
//
//  1. S's session hash was missing at t0. Only the login script
//     (CreateSession) creates a session hash; the rotate script writes one
//     only after reading it present in the same atomic script, and no other
//     script writes one. A login creates S once: ginjwt draws session ids
//     from crypto/rand (128 bits, newID) and never reuses one. Nor can the
//     read at t0 have come before S's creation: the guard sees a token for S
//     only after the login that signed it returned, that is after
//     CreateSession(S) was applied on the primary, and the store reads from
//     the primary only (New refuses replica reads). So S was deleted (logout,
//     revocation, reuse, expiry, session limit, key TTL) or lost, and stays
//     gone.
//  2. U's version was missing at t0 (lost or evicted). The next login of U
//     sets a new version drawn at random from 2^52 values and, in the same
//     script, deletes every session of U's index; RevokeUser only advances
//     an existing version and never creates one. A token of S carries the
//     version U had when S was created (a refresh passes only with that
//     version, so S never gets tokens with another), so it passes again
//     only if the random draw repeats it: odds of 2^-52 per re-creation, the
//     very odds by which Redis itself would accept that old token without
//     any cache, so the cache adds no risk of its own. If S's hash survived
//     (not in the index) Redis answers "found at another version", which
//     the guard refuses like the cached "not found".
//  3. Redis' data went back in time (a failover losing acknowledged writes,
//     a restart from an older snapshot). That can make Redis itself accept
//     a revoked token again, cache or no cache (see WithReplicaAcks); and
//     either event ends the subscription's connection or the lost-state
//     marker, which flushes every entry, negative ones included.
//
// Entries are keyed by (subject, session id), never by subject alone: the
// cache never holds "U has no version", so a login through another instance
// that creates U's version, or any new session S' of U, misses the cache and
// is read from Redis, and passes at once, whatever this instance cached for
// U's other sessions.
//
// The StateRefresher path is unaffected. The guard asks FreshState when
// State found a state older than the token (the token was refreshed through
// another instance); no token can be newer than a "not found", since by 1
// and 2 no token of S passes after it. FreshState never reads the cache, and
// replaces the entry, negative or positive, with Redis' answer.
//
// Found answers need nothing new: generations only increase, so a cached
// state whose generation is above the token's refuses it, as Redis will
// forever, with no round trip (an access token rotated away). A token above
// the cached generation, or at another user version, makes the guard read
// Redis through FreshState on every request: the store cannot tell from
// (U, S) alone that such a token is the older one. Redis answers "found at
// another version" only for a session that survived its user's change of
// version outside the index (case 2), which does not happen in normal
// operation: logouts, revocations, reuse and expiry all delete the session.
//
// Memory: negative entries count against the cache's bound like positive
// ones. Each needs a token with a valid signature for a session that once
// existed, so a flood of revoked tokens cannot name more entries than
// sessions were ever issued, and the bound holds regardless.
