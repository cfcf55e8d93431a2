package redisstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

// proofID returns a proof id of the shape callers pass: base64url of a
// SHA-256, 43 bytes.
func proofID(i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "jkt.jti-%d", i))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// roundTrips counts the round trips a client makes that carry an argument
// containing one of its markers (a subject's hash tag): a command, or a
// pipeline of any number of them. Background traffic, such as the
// near-cache's checks, is not counted.
type roundTrips struct {
	markers []string
	n       atomic.Int64
}

func countRoundTrips(c redis.UniversalClient, markers ...string) *roundTrips {
	r := &roundTrips{markers: markers}
	c.AddHook(r)
	return r
}

func (r *roundTrips) ours(cmds ...redis.Cmder) bool {
	for _, cmd := range cmds {
		for _, arg := range cmd.Args() {
			if s, ok := arg.(string); ok {
				for _, m := range r.markers {
					if strings.Contains(s, m) {
						return true
					}
				}
			}
		}
	}
	return false
}

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if r.ours(cmd) {
			r.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if r.ours(cmds...) {
			r.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

// tagOf returns the hash tag of subject's keys in store s.
func tagOf(s *redisstore.Store, subject string) string {
	version, _, _, _ := redisstore.UserKeys(s, subject, "")
	tag, _ := hashTag(version)
	return tag
}

// proof runs the replay check of id for session sid of subject, failing
// the test on an error or a session not found.
func proof(t *testing.T, s *redisstore.Store, subject, sid, id string, limit int) ginjwt.ProofOutcome {
	t.Helper()
	_, found, outcome, err := s.StateAndProof(t.Context(), subject, sid, ginjwt.ProofCheck{ID: id, TTL: time.Minute, Limit: limit})
	if err != nil || !found {
		t.Fatalf("StateAndProof(%q, %s): found %v, %v", subject, sid, found, err)
	}
	return outcome
}

// StateAndProof costs one round trip, on a store with or without the
// near-cache, even when the near-cache could answer State; two only when
// Redis has lost the script (SCRIPT FLUSH, a restart, a failover), after
// which it is one again.
func TestProofOneRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		prefix := redistest.Prefix(t, b)
		client := b.Client(t)
		plain := plainStore(t, client, prefix)
		near := newNearStore(t, client, prefix, 0, time.Hour)
		for _, tc := range []struct {
			name  string
			store *redisstore.Store
		}{{"plain", plain}, {"near-cache", near}} {
			t.Run(tc.name, func(t *testing.T) {
				subject := "round trips " + tc.name
				sid := newSession(t, plain, subject)
				trips := countRoundTrips(client, tagOf(plain, subject))
				// The login's invalidation may drop the first fill: read
				// until the near-cache holds the session.
				waitFor(t, "State to find the session, cached if the store caches", func() bool {
					if _, found, err := tc.store.State(t.Context(), subject, sid); err != nil || !found {
						t.Fatalf("State: found %v, %v", found, err)
					}
					_, _, cached := near.CachedState(subject, sid)
					return tc.store != near || cached
				})
				proof(t, tc.store, subject, sid, proofID(0), 100) // loads the script if needed
				for i := 1; i <= 5; i++ {
					start := trips.n.Load()
					want := ginjwt.ProofFresh // odd checks bring a new id, even ones replay it
					if i%2 == 0 {
						want = ginjwt.ProofReplayed
					}
					if got := proof(t, tc.store, subject, sid, proofID((i+1)/2), 100); got != want {
						t.Fatalf("check %d: %s, want %s", i, got, want)
					}
					if n := trips.n.Load() - start; n != 1 {
						t.Fatalf("check %d: %d round trips, want 1", i, n)
					}
				}
				// Not found costs one too, and never answers from the cache.
				start := trips.n.Load()
				if _, found, _, err := tc.store.StateAndProof(t.Context(), subject, "gone", ginjwt.ProofCheck{ID: proofID(0), TTL: time.Minute, Limit: 100}); err != nil || found {
					t.Fatalf("unknown session: found %v, %v", found, err)
				}
				if n := trips.n.Load() - start; n != 1 {
					t.Fatalf("unknown session: %d round trips, want 1", n)
				}

				// Without the script on the server: one more, once.
				if err := client.ScriptFlush(t.Context()).Err(); err != nil {
					t.Fatal(err)
				}
				start = trips.n.Load()
				proof(t, tc.store, subject, sid, proofID(100), 100)
				if n := trips.n.Load() - start; n != 2 {
					t.Fatalf("after SCRIPT FLUSH: %d round trips, want 2 (EVALSHA, then EVAL)", n)
				}
				start = trips.n.Load()
				if got := proof(t, tc.store, subject, sid, proofID(100), 100); got != ginjwt.ProofReplayed {
					t.Fatalf("after SCRIPT FLUSH: the id is %s, want replayed", got)
				}
				if n := trips.n.Load() - start; n != 1 {
					t.Fatalf("after the script was loaded again: %d round trips, want 1", n)
				}
			})
		}
	})
}

// proofBytes bounds the memory of one session's proof key holding limit
// ids of 43 bytes, as Redis (7.x, jemalloc) reports it in MEMORY USAGE. The
// zset stays a listpack up to zset-max-listpack-entries (128): an entry is
// the id (1 byte of header, 43 of id, 1 of back length) and its score, an
// expiry in unix milliseconds (a 64-bit integer: 1 + 8 + 1 bytes), 55
// bytes; jemalloc rounds the listpack's allocation up by at most a quarter;
// the key's name, object and dictionary entry take well under 512 bytes.
// For 100 ids: 100 * 55 * 5/4 + 512 = 7387 bytes, under 8 KiB.
func proofBytes(limit int) int64 {
	const perID = 1 + 43 + 1 + 1 + 8 + 1
	return int64(limit*perID*5/4 + 512)
}

// 10,000 distinct proof ids sent to one session with a limit of 100, in
// batches half a TTL apart so that ids expire and others take their place:
// the session never holds more than 100, each time its ids have expired
// exactly 100 more are remembered, and on a real Redis the key's memory
// stays under proofBytes(100) (miniredis has no MEMORY USAGE). The key
// shares the subject's hash tag and expires by itself.
func TestProofFloodBounded(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		e := newEnv(t, b)
		const (
			subject         = "flooded"
			limit, ids      = 100, 10_000
			batches         = 10
			workers         = 8
			proofTTL        = time.Minute
			perBatch        = ids / batches
			expectedPerFill = limit
		)
		sid, _ := e.login(t, subject)
		key := redisstore.ProofKey(e.store, subject, sid)
		if version, _, _, _ := redisstore.UserKeys(e.store, subject, sid); !strings.HasPrefix(key, strings.TrimSuffix(version, "v")) || !strings.HasSuffix(key, "}:p:"+sid) {
			t.Fatalf("proof key %q: want the subject's tag (as %q) and :p:<session id>", key, version)
		}
		bound := proofBytes(limit)
		var counts [ginjwt.ProofLimited + 1]atomic.Int64
		var most int64
		for batch := range batches {
			e.clock.Set(base.Add(time.Duration(batch) * proofTTL / 2))
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < perBatch; i += workers {
						p := ginjwt.ProofCheck{ID: proofID(batch*perBatch + i), TTL: proofTTL, Limit: limit}
						_, found, outcome, err := e.store.StateAndProof(t.Context(), subject, sid, p)
						if err != nil || !found || outcome < ginjwt.ProofFresh || outcome > ginjwt.ProofLimited {
							errs <- fmt.Errorf("id %d: found %v, outcome %s, %v", batch*perBatch+i, found, outcome, err)
							return
						}
						counts[outcome].Add(1)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			n, err := e.client.ZCard(t.Context(), key).Result()
			if err != nil {
				t.Fatal(err)
			}
			if n > limit {
				t.Fatalf("batch %d: the session holds %d proof ids, more than the limit %d", batch, n, limit)
			}
			if pttl := e.pttl(t, key); pttl <= 0 || pttl > proofTTL {
				t.Fatalf("batch %d: proof key TTL %v, want within (0, %v]", batch, pttl, proofTTL)
			}
			if b.Mini != nil {
				continue
			}
			used, err := e.client.MemoryUsage(t.Context(), key, 0).Result()
			if err != nil {
				t.Fatalf("MEMORY USAGE: %v", err)
			}
			if used >= bound {
				t.Fatalf("batch %d: proof key takes %d bytes for %d ids, want under %d", batch, used, n, bound)
			}
			if enc, err := e.client.ObjectEncoding(t.Context(), key).Result(); err != nil || (enc != "listpack" && enc != "ziplist") {
				t.Fatalf("batch %d: proof key encoding %q, %v; want a listpack", batch, enc, err)
			}
			most = max(most, used)
		}
		// The clock moved half a TTL per batch: every other batch found the
		// ids of two batches before expired and filled the limit again.
		fills := int64((batches + 1) / 2)
		if got := counts[ginjwt.ProofFresh].Load(); got != fills*expectedPerFill {
			t.Fatalf("%d ids remembered, want %d", got, fills*expectedPerFill)
		}
		if got := counts[ginjwt.ProofLimited].Load(); got != ids-fills*expectedPerFill {
			t.Fatalf("%d ids refused at the limit, want %d", got, ids-fills*expectedPerFill)
		}
		if got := counts[ginjwt.ProofReplayed].Load(); got != 0 {
			t.Fatalf("%d distinct ids reported replayed", got)
		}
		if b.Mini == nil {
			t.Logf("proof key of a session at its limit of %d ids: at most %d bytes (bound %d)", limit, most, bound)
		}
	})
}

// Revocations leave a session's proof ids to expire: the key is bounded and
// has a TTL, and the session is not found, so nothing reads it again.
func TestProofKeyOutlivesSessionByItsTTL(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		e := newEnv(t, b)
		sid, _ := e.login(t, "alice")
		e.clock.Set(base)
		if got := proof(t, e.store, "alice", sid, proofID(1), 10); got != ginjwt.ProofFresh {
			t.Fatalf("first check: %s", got)
		}
		if err := e.store.DeleteSession(t.Context(), "alice", sid); err != nil {
			t.Fatal(err)
		}
		key := redisstore.ProofKey(e.store, "alice", sid)
		if pttl := e.pttl(t, key); pttl <= 0 || pttl > time.Minute {
			t.Fatalf("proof key of a deleted session: TTL %v, want within (0, 1m]", pttl)
		}
		if _, found, outcome, err := e.store.StateAndProof(t.Context(), "alice", sid, ginjwt.ProofCheck{ID: proofID(2), TTL: time.Minute, Limit: 10}); err != nil || found || outcome != 0 {
			t.Fatalf("deleted session: found %v, outcome %s, %v; want not found", found, outcome, err)
		}
		if n, err := e.client.ZCard(t.Context(), key).Result(); err != nil || n != 1 {
			t.Fatalf("deleted session: the proof key holds %d ids, %v; want the one remembered before", n, err)
		}
		e.allHaveTTL(t, "after proofs and a logout")
	})
}
