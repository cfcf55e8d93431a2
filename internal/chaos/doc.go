// Package chaos is a randomized revocation history checker for jwtguard
// (issue 10, item 8).
//
// A run drives two fleets of app instances over real HTTP — each instance
// its own go-redis client, redisstore.Store, ginjwt.Auth and
// httptest.Server, half of them with the near-cache — against one Redis
// deployment (a Sentinel group, or a Redis Cluster) that it started. One
// fleet's stores wait for a replica on every write
// (redisstore.WithReplicaAcks), the other's do not; each fleet has its own
// key prefix and users. Virtual clients log in, call a guarded route,
// refresh (sometimes twice at once with the same refresh token), log out
// with every scope and replay older tokens, while an admin calls
// Auth.RevokeUser; a scheduler injects one fault at a time (see faults.go).
// Every operation is recorded with its start and acknowledgement times and
// its result (history.go), and a checker (checker.go) verifies, as the run
// goes:
//
//	(a) no token is accepted by any instance for a request that started
//	    after its revocation was acknowledged — plus the near-cache entry
//	    TTL on near-cache instances, the documented propagation bound. With
//	    acks off the same findings are acks-off losses: expected, reported,
//	    not failures.
//	(b) no 500s, no unexpected answers, no request without an answer; a
//	    503 store_unavailable is always acceptable (those outside fault
//	    windows are counted).
//	(c) after each fault clears, a fresh login and a guarded call through
//	    every instance succeed within 2 s, or 10 s after a fault that
//	    restarts or promotes a Redis node.
//	(d) with acks on, no valid session is lost: a token is refused
//	    (token_revoked) only when a revocation, a rotation, a refresh
//	    attempt or an emptied Redis explains it.
//
// Faults (faults.go, topology.go), one at a time with a quiet second or two
// between them: on the Sentinel group, failover (SIGKILL of the primary,
// promotion, the old primary back as a replica), failover-lagged (the same
// while the replica replicates through a proxy that delays the stream by
// 2–20 ms), restart-empty (SIGKILL and restart without data), pause
// (SIGSTOP/SIGCONT), flushall, pubsub-kill (CLIENT KILL TYPE pubsub),
// net-delay and net-drop (one instance's connections slowed, or cut, by a
// fault injector in its go-redis Dialer); on the Cluster, frozen-master (a
// master SIGSTOPped until its replica is promoted, then resumed: the
// zombie), master-kill, restart-empty, pause, flushall, pubsub-kill,
// net-delay and net-drop. After each fault, every instance's recovery is
// measured and the tokens that were in the replay pool when it began are
// presented again (an audit), so that a revocation the fault lost shows.
//
// TestChaos runs it for CHAOS_DURATION per topology (default 20s, about 25 s
// of faults and 55 s in all for both topologies under -race); for long
// runs:
//
//	REDIS_ADDR=127.0.0.1:6379 CHAOS_DURATION=2h go test -timeout 0 -count=1 -run TestChaos -v ./internal/chaos/
//
// Other variables: CHAOS_SEED (the random choices; logged with the
// summary), CHAOS_FAULTS (a comma-separated list of fault kinds to inject,
// such as failover-lagged), CHAOS_HISTORY_DIR (write every operation of
// every fleet there) and CHAOS_DEBUG (instances note what each Redis node
// holds whenever their store finds no session; findings of rule (d) show
// it).
package chaos
