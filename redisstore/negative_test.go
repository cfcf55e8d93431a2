package redisstore_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/ginjwt/storetest"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

// pipelines counts the pipelines a client sends: State's one round trip is
// a pipeline, and nothing else the store does in these tests is.
type pipelines struct{ n atomic.Int64 }

func countPipelines(c redis.UniversalClient) *pipelines {
	p := &pipelines{}
	c.AddHook(p)
	return p
}

func (p *pipelines) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (p *pipelines) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (p *pipelines) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		p.n.Add(1)
		return next(ctx, cmds)
	}
}

// settleNotFound reads (subject, id) through s until the "not found" stays
// cached, that is until a read costs no round trip: B may still serve its
// found entry until the revocation's message arrives, and that message may
// arrive after a first fill and drop it.
func settleNotFound(t *testing.T, s *redisstore.Store, trips *pipelines, subject, id string) {
	t.Helper()
	waitFor(t, "the negative entry to stay cached", func() bool {
		_, found, err := s.State(t.Context(), subject, id)
		if err != nil {
			t.Fatal(err)
		}
		if found { // a found entry the revocation's message has yet to drop
			time.Sleep(time.Millisecond)
			return false
		}
		time.Sleep(20 * time.Millisecond)
		start := trips.n.Load()
		if _, found, err := s.State(t.Context(), subject, id); err != nil || found {
			t.Fatalf("State(%q, %s) = found %v, %v; want not found", subject, id, found, err)
		}
		return trips.n.Load() == start
	})
}

// drain returns once s has handled every invalidation published before the
// call: it publishes one of its own for a subject s holds an entry of, and
// waits until s has dropped that entry (messages on a channel arrive in
// order). Then no late message can drop what a test caches next.
func drain(t *testing.T, s *redisstore.Store, trips *pipelines, client redis.UniversalClient, prefix string) {
	t.Helper()
	const subject, id = "drain barrier", "barrier"
	waitFor(t, "the barrier entry to be cached", func() bool {
		start := trips.n.Load()
		if _, _, err := s.State(t.Context(), subject, id); err != nil {
			t.Fatal(err)
		}
		return trips.n.Load() == start
	})
	if err := client.Publish(t.Context(), prefix+"invalidate", base64.RawURLEncoding.EncodeToString([]byte(subject))).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the barrier message", func() bool {
		start := trips.n.Load()
		if _, _, err := s.State(t.Context(), subject, id); err != nil {
			t.Fatal(err)
		}
		if trips.n.Load() != start {
			return true
		}
		time.Sleep(time.Millisecond)
		return false
	})
}

// A revoked session presented again and again costs one round trip, then
// none: the "not found" is cached. Deletion, revocation of the user, a
// lost user version and a session id never issued are each checked.
func TestNearCacheNegativeFlood(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			prefix := redistest.Prefix(t, b)
			a := plainStore(t, b.Client(t), prefix)
			clientB := b.Client(t)
			trips := countPipelines(clientB)
			storeB := newNearStore(t, clientB, prefix, 0, time.Hour)
			ctx := t.Context()
			for _, how := range []string{"deleted", "user revoked", "version lost", "never existed"} {
				t.Run(how, func(t *testing.T) {
					subject := "flood-" + strings.ReplaceAll(how, " ", "-")
					id := newSession(t, a, subject)
					if _, found, err := storeB.State(ctx, subject, id); err != nil || !found {
						t.Fatalf("B before: found %v, %v", found, err)
					}
					var err error
					switch how {
					case "deleted":
						err = a.DeleteSession(ctx, subject, id)
					case "user revoked":
						err = a.RevokeUser(ctx, subject)
					case "version lost":
						version, _, _, _ := redisstore.UserKeys(a, subject, id)
						err = b.Client(t).Del(ctx, version).Err() // behind the store's back
						storeB.FreshState(ctx, subject, id)       // B's cached found entry has no message to drop it
					case "never existed":
						id = newSession(t, a, subject) + "x"
					}
					if err != nil {
						t.Fatal(err)
					}
					drain(t, storeB, trips, clientB, prefix)
					settleNotFound(t, storeB, trips, subject, id)
					start := trips.n.Load()
					const flood = 1000
					for range flood {
						if _, found, err := storeB.State(ctx, subject, id); err != nil || found {
							t.Fatalf("flood: found %v, %v", found, err)
						}
					}
					if n := trips.n.Load() - start; n != 0 {
						t.Fatalf("%d State calls for a revoked session cost %d round trips; want 0", flood, n)
					}
					// FreshState ignores the negative entry and reads Redis.
					if _, found, err := storeB.FreshState(ctx, subject, id); err != nil || found {
						t.Fatalf("FreshState: found %v, %v", found, err)
					}
					if n := trips.n.Load() - start; n != 1 {
						t.Fatalf("FreshState cost %d round trips; want 1", n)
					}
				})
			}
		})
	}
}

// B's negative entries never refuse what A creates afterwards: B caches
// "not found" for a subject without any state, and for a session whose user
// version was lost or revoked; A then logs the subject in again, and B
// finds the new session on its first read, while the old one stays refused.
func TestNearCacheNegativeNeverRefusesNewLogin(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			prefix := redistest.Prefix(t, b)
			a := plainStore(t, b.Client(t), prefix)
			raw := b.Client(t)
			clientB := b.Client(t)
			trips := countPipelines(clientB)
			storeB := newNearStore(t, clientB, prefix, 0, time.Hour)
			ctx := t.Context()
			for _, how := range []string{"no state yet", "version lost", "user revoked", "deleted"} {
				t.Run(how, func(t *testing.T) {
					subject := "relogin-" + strings.ReplaceAll(how, " ", "-")
					var old string
					var err error
					switch how {
					case "no state yet":
						old = "neverIssued0123456789a"
					default:
						old = newSession(t, a, subject)
						if _, found, err := storeB.State(ctx, subject, old); err != nil || !found {
							t.Fatalf("B before: found %v, %v", found, err)
						}
						switch how {
						case "version lost":
							version, _, _, _ := redisstore.UserKeys(a, subject, old)
							err = raw.Del(ctx, version).Err()
							storeB.FreshState(ctx, subject, old)
						case "user revoked":
							err = a.RevokeUser(ctx, subject)
						case "deleted":
							err = a.DeleteSession(ctx, subject, old)
						}
						if err != nil {
							t.Fatal(err)
						}
					}
					settleNotFound(t, storeB, trips, subject, old)
					fresh := newSession(t, a, subject)
					// The very first read through B: no waiting for a message.
					if _, found, err := storeB.State(ctx, subject, fresh); err != nil || !found {
						t.Fatalf("B refused a session A just created: found %v, %v", found, err)
					}
					for _, read := range []func(context.Context, string, string) (ginjwt.SessionState, bool, error){storeB.State, storeB.FreshState, a.State} {
						if _, found, err := read(ctx, subject, old); err != nil || found {
							t.Fatalf("the old session came back: found %v, %v", found, err)
						}
					}
				})
			}
		})
	}
}

// Negative entries are bounded, dropped by invalidations and flushed with
// lost state, like positive ones.
func TestNearCacheNegativeBoundedAndInvalidated(t *testing.T) {
	b := redistest.Backends(t)[0]
	client := b.Client(t)
	prefix := redistest.Prefix(t, b)
	s := newNearStore(t, client, prefix, 100, time.Hour)
	ctx := t.Context()
	for i := range 1000 {
		if _, found, err := s.State(ctx, fmt.Sprintf("u%d", i), "gone"); err != nil || found {
			t.Fatal(found, err)
		}
		if n := redisstore.NearCacheLen(s); n > 100 {
			t.Fatalf("near-cache holds %d entries, bound 100", n)
		}
	}
	// Invalidations and lost state, on a store of its own.
	prefix2 := redistest.Prefix(t, b)
	a, _ := redisstore.New(client, redisstore.WithPrefix(prefix2))
	s2 := newNearStore(t, client, prefix2, 0, time.Hour)
	for _, sub := range []string{"alice", "bob"} {
		if _, found, err := s2.State(ctx, sub, "gone"); err != nil || found {
			t.Fatal(found, err)
		}
	}
	if n := redisstore.NearCacheLen(s2); n != 2 {
		t.Fatalf("near-cache holds %d entries; want the 2 negative ones", n)
	}
	if err := a.RevokeUser(ctx, "alice"); err != nil { // publishes alice's invalidation
		t.Fatal(err)
	}
	waitFor(t, "the invalidation to drop alice's negative entry", func() bool { return redisstore.NearCacheLen(s2) == 1 })
	b.Mini.FlushAll()
	waitFor(t, "lost state to flush the negative entries", func() bool { return redisstore.NearCacheLen(s2) == 0 })
}

// Through the guard, on two instances: a token logged out through A is
// refused by B from its cache, with no round trip per request; a fresh
// login and a refresh through A pass B at once.
func TestNearCacheNegativeTwoGuards(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			prefix := redistest.Prefix(t, b)
			storeA := newNearStore(t, b.Client(t), prefix, 0, time.Hour)
			clientB := b.Client(t)
			trips := countPipelines(clientB)
			storeB := newNearStore(t, clientB, prefix, 0, time.Hour)
			newAuth := func(s ginjwt.Store) *ginjwt.Auth {
				auth, err := ginjwt.New(ginjwt.Options{
					Store: s,
					Keys:  []ginjwt.Key{ginjwt.HS256(testSecret)},
					Authenticate: func(*gin.Context) (ginjwt.Identity, error) {
						return ginjwt.Identity{Subject: "alice"}, nil
					},
				})
				if err != nil {
					t.Fatal(err)
				}
				return auth
			}
			authA, authB := newAuth(storeA), newAuth(storeB)
			ctx := t.Context()
			issue := func() ginjwt.Tokens {
				t.Helper()
				tok, err := authA.IssueTokens(ctx, ginjwt.Identity{Subject: "alice"}, ginjwt.ClientInfo{})
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			old := issue()
			if _, err := authB.Verify(ctx, old.AccessToken); err != nil {
				t.Fatalf("B before the logout: %v", err)
			}
			if err := authA.RevokeSession(ctx, "alice", old.SessionID); err != nil {
				t.Fatal(err)
			}
			drain(t, storeB, trips, clientB, prefix)
			waitFor(t, "B to refuse the revoked token from its cache", func() bool {
				start := trips.n.Load()
				for range 3 {
					if _, err := authB.Verify(ctx, old.AccessToken); !errors.Is(err, ginjwt.ErrTokenRevoked) {
						return false
					}
				}
				return trips.n.Load() == start
			})
			start := trips.n.Load()
			for range 500 {
				if _, err := authB.Verify(ctx, old.AccessToken); !errors.Is(err, ginjwt.ErrTokenRevoked) {
					t.Fatalf("B on the revoked token: %v", err)
				}
			}
			if n := trips.n.Load() - start; n != 0 {
				t.Fatalf("500 checks of a revoked token cost B %d round trips; want 0", n)
			}

			fresh := issue()
			if _, err := authB.Verify(ctx, fresh.AccessToken); err != nil {
				t.Fatalf("B refused a token A just issued: %v", err)
			}
			// A refresh through A: B's cached state is older than the new
			// token, which passes at once.
			r := gin.New()
			r.POST("/refresh", authA.RefreshHandler())
			w := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/refresh", strings.NewReader(`{"refresh_token":"`+fresh.RefreshToken+`"}`))
			req.Header.Set("Content-Type", "application/json")
			r.ServeHTTP(w, req)
			var tr ginjwt.TokenResponse
			if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &tr) != nil {
				t.Fatalf("refresh through A answered %d %s", w.Code, w.Body)
			}
			if _, err := authB.Verify(ctx, tr.AccessToken); err != nil {
				t.Fatalf("B refused a token A just refreshed: %v", err)
			}
			waitFor(t, "B to refuse the rotated-away token", func() bool {
				_, err := authB.Verify(ctx, fresh.AccessToken)
				return errors.Is(err, ginjwt.ErrTokenRevoked)
			})
		})
	}
}

// Monotonicity, the property negative entries rest on, holds for the
// store with the near-cache (storetest.Run checks it without).
func TestMonotonicRevocation(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			client := b.Client(t)
			t.Run("near-cache", func(t *testing.T) {
				storetest.RunMonotonic(t, func(t *testing.T, now func() time.Time) ginjwt.Store {
					return newNearStore(t, client, redistest.Prefix(t, b), 0, time.Hour, redisstore.WithClock(now))
				})
			})
		})
	}
}
