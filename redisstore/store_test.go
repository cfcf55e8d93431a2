package redisstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/ginjwt/storetest"
	"github.com/jwtguard/jwtguard/internal/clocktest"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// env is one store on one backend, with a raw client to look at its keys,
// and the test clock its scripts read.
type env struct {
	b      redistest.Backend
	store  *redisstore.Store
	client redis.UniversalClient
	prefix string
	clock  *clocktest.Clock
}

// newEnv returns a store on b under a prefix unique to t, whose scripts read
// the env's clock, set to base.
func newEnv(t *testing.T, b redistest.Backend) *env {
	clock := clocktest.New(base)
	e := newEnvWith(t, b, clock.Now)
	e.clock = clock
	return e
}

// newEnvWith returns a store on b under a prefix unique to t, whose scripts
// read now.
func newEnvWith(t *testing.T, b redistest.Backend, now func() time.Time) *env {
	t.Helper()
	client := b.Client(t)
	prefix := redistest.Prefix(t, b)
	store, err := redisstore.New(client, redisstore.WithPrefix(prefix), redisstore.WithTimeout(5*time.Second), redisstore.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	return &env{b: b, store: store, client: client, prefix: prefix}
}

// forEachBackend runs f against miniredis and, when REDIS_ADDR or
// REDIS_CLUSTER_ADDRS is set, the real Redis or Redis Cluster.
func forEachBackend(t *testing.T, f func(t *testing.T, b redistest.Backend)) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { f(t, b) })
	}
}

// TestConformance runs the shared Store suite.
func TestConformance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		storetest.Run(t, func(t *testing.T, now func() time.Time) ginjwt.Store { return newEnvWith(t, b, now).store })
	})
}

var base = time.Date(2035, time.March, 14, 15, 9, 26, 535_000_000, time.UTC)

const (
	ttl    = time.Hour
	maxAge = 24 * time.Hour
)

var idSeq atomic.Int64

// newID returns a distinct valid session id of ginjwt's length.
func newID() string {
	return fmt.Sprintf("sess%018d", idSeq.Add(1))
}

// create logs a session in at base on the env's clock.
func (e *env) create(t *testing.T, subject string, ns ginjwt.NewSession) int64 {
	t.Helper()
	if e.clock != nil {
		e.clock.Set(base)
	}
	res, err := e.store.CreateSession(t.Context(), subject, ns)
	if err != nil {
		t.Fatalf("CreateSession(%q): %v", subject, err)
	}
	if len(res.Evicted) != 0 {
		t.Fatalf("CreateSession(%q) with limit %d evicted %q", subject, ns.Limit, res.Evicted)
	}
	return res.UserVersion
}

func (e *env) login(t *testing.T, subject string) (id string, version int64) {
	t.Helper()
	id = newID()
	return id, e.create(t, subject, ginjwt.NewSession{ID: id, Device: "Pixel 8", TTL: ttl, MaxAge: maxAge})
}

func (e *env) rotate(t *testing.T, subject, id string, version, gen int64, at time.Time) ginjwt.RotateResult {
	t.Helper()
	e.clock.Set(at)
	res, err := e.store.Rotate(t.Context(), subject, id, ginjwt.Rotation{
		UserVersion: version, Generation: gen,
		Grace: 5 * time.Second, ReuseAfter: 10 * time.Second, TTL: ttl, MaxAge: maxAge,
	})
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	return res
}

// keys returns every key under the env's prefix, sorted.
func (e *env) keys(t *testing.T) []string {
	t.Helper()
	out, err := redistest.Keys(t.Context(), e.client, e.prefix+"*")
	if err != nil {
		t.Fatalf("SCAN: %v", err)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (e *env) pttl(t *testing.T, key string) time.Duration {
	t.Helper()
	d, err := e.client.PTTL(t.Context(), key).Result()
	if err != nil {
		t.Fatalf("PTTL %q: %v", key, err)
	}
	return d
}

func (e *env) keyType(t *testing.T, key string) string {
	t.Helper()
	typ, err := e.client.Type(t.Context(), key).Result()
	if err != nil {
		t.Fatalf("TYPE %q: %v", key, err)
	}
	return typ
}

// allHaveTTL fails the test if a key under the prefix has no TTL.
func (e *env) allHaveTTL(t *testing.T, when string) {
	t.Helper()
	for _, k := range e.keys(t) {
		if d := e.pttl(t, k); d <= 0 {
			t.Errorf("%s: key %q has PTTL %v, want > 0", when, k, d)
		}
	}
}

// wipe loses every key of the env: FLUSHALL on miniredis, and on a shared
// real Redis only the keys under the test's prefix.
func (e *env) wipe(t *testing.T) {
	t.Helper()
	if e.b.Mini != nil {
		if err := e.client.FlushAll(t.Context()).Err(); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, k := range e.keys(t) {
		if err := e.client.Del(t.Context(), k).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// New refuses what cannot work.
func TestNewRejectsBadConfiguration(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = client.Close() })
	cases := []struct {
		what   string
		client redis.UniversalClient
		opts   []redisstore.Option
	}{
		{"nil client", nil, nil},
		{"typed nil *redis.Client", (*redis.Client)(nil), nil},
		{"typed nil *redis.ClusterClient", (*redis.ClusterClient)(nil), nil},
		{"prefix with {", client, []redisstore.Option{redisstore.WithPrefix("app{1:")}},
		{"prefix with }", client, []redisstore.Option{redisstore.WithPrefix("app}:")}},
		{"prefix with a whole tag", client, []redisstore.Option{redisstore.WithPrefix("{app}:")}},
		{"zero timeout", client, []redisstore.Option{redisstore.WithTimeout(0)}},
		{"negative timeout", client, []redisstore.Option{redisstore.WithTimeout(-time.Second)}},
		{"cluster ReadOnly", replicaReader(t, &redis.UniversalOptions{Addrs: []string{"127.0.0.1:1", "127.0.0.1:2"}, ReadOnly: true}), nil},
		{"cluster RouteByLatency", replicaReader(t, &redis.UniversalOptions{Addrs: []string{"127.0.0.1:1", "127.0.0.1:2"}, RouteByLatency: true}), nil},
		{"cluster RouteRandomly", replicaReader(t, &redis.UniversalOptions{Addrs: []string{"127.0.0.1:1", "127.0.0.1:2"}, RouteRandomly: true}), nil},
		{"failover RouteByLatency", replicaReader(t, &redis.UniversalOptions{Addrs: []string{"127.0.0.1:1"}, MasterName: "m", RouteByLatency: true}), nil},
		{"failover cluster ReplicaOnly", redis.NewFailoverClusterClient(&redis.FailoverOptions{SentinelAddrs: []string{"127.0.0.1:1"}, MasterName: "m", ReplicaOnly: true}), nil},
	}
	for _, tc := range cases {
		s, err := redisstore.New(tc.client, tc.opts...)
		if err == nil || s != nil {
			t.Errorf("%s: New = %v, %v; want nil and an error", tc.what, s, err)
		}
		if strings.Contains(tc.what, "Route") || strings.Contains(tc.what, "Only") {
			if opt := tc.what[strings.LastIndexByte(tc.what, ' ')+1:]; err != nil && !strings.Contains(err.Error(), opt) {
				t.Errorf("%s: the error %q does not name %s", tc.what, err, opt)
			}
		}
	}
	// Primary-only clients of each kind are accepted.
	for _, primary := range []redis.UniversalClient{
		replicaReader(t, &redis.UniversalOptions{Addrs: []string{"127.0.0.1:1", "127.0.0.1:2"}}),
		replicaReader(t, &redis.UniversalOptions{Addrs: []string{"127.0.0.1:1"}, MasterName: "m"}),
	} {
		if _, err := redisstore.New(primary); err != nil {
			t.Errorf("New with a %T reading the primary: %v", primary, err)
		}
	}
	for _, opts := range [][]redisstore.Option{
		nil,
		{redisstore.WithPrefix("")},
		{redisstore.WithPrefix("app:jwt:"), redisstore.WithTimeout(time.Millisecond)},
	} {
		if _, err := redisstore.New(client, opts...); err != nil {
			t.Errorf("New with good options: %v", err)
		}
	}
}

// replicaReader returns a universal client for o, closed when the test ends.
func replicaReader(t *testing.T, o *redis.UniversalOptions) redis.UniversalClient {
	c := redis.NewUniversalClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// hashTag is the part of key Redis Cluster hashes: between the first '{' and
// the first '}' after it, when that is not empty.
func hashTag(key string) (string, bool) {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return "", false
	}
	end := strings.IndexByte(key[open+1:], '}')
	if end <= 0 {
		return "", false
	}
	return key[open+1 : open+1+end], true
}

// Every key of a subject carries the same hash tag, right after the
// prefix, and no two subjects share one.
func TestHashTags(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		e := newEnv(t, b)
		subjects := append([]string{"alice", "bob"}, storetest.AwkwardSubjects...)
		seen := map[string]bool{}
		tagOf := map[string]string{} // tag -> subject
		for _, subject := range subjects {
			id, v := e.login(t, subject)
			e.login(t, subject)
			if res := e.rotate(t, subject, id, v, 1, base.Add(time.Minute)); res.Outcome != ginjwt.Rotated {
				t.Fatalf("rotate %q: %+v", subject, res)
			}
			var mine []string
			for _, k := range e.keys(t) {
				if !seen[k] {
					seen[k] = true
					mine = append(mine, k)
				}
			}
			if len(mine) < 4 {
				t.Fatalf("subject %q: %d new keys %q, want version, index and two sessions", subject, len(mine), mine)
			}
			var tag string
			for i, k := range mine {
				if !strings.HasPrefix(k, e.prefix) || strings.IndexByte(k, '{') != len(e.prefix) {
					t.Fatalf("subject %q: key %q does not start with the prefix %q and then '{'", subject, k, e.prefix)
				}
				kt, ok := hashTag(k)
				if !ok || strings.ContainsAny(kt, "{}") {
					t.Fatalf("subject %q: key %q has no usable hash tag", subject, k)
				}
				if i == 0 {
					tag = kt
				} else if kt != tag {
					t.Fatalf("subject %q: keys %q and %q have hash tags %q and %q", subject, mine[0], k, tag, kt)
				}
			}
			if other, ok := tagOf[tag]; ok {
				t.Fatalf("subjects %q and %q share the hash tag %q", other, subject, tag)
			}
			tagOf[tag] = subject
		}
		// RevokeUser and DeleteSession write nothing outside the tag.
		for _, subject := range subjects {
			if err := e.store.RevokeUser(t.Context(), subject); err != nil {
				t.Fatal(err)
			}
		}
		for _, k := range e.keys(t) {
			if !seen[k] {
				t.Fatalf("RevokeUser created key %q", k)
			}
		}
	})
}

// Every key has a TTL, and no session outlives its max age.
func TestKeysExpire(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		e := newEnv(t, b)
		ctx := t.Context()

		id, v := e.login(t, "alice")
		other, _ := e.login(t, "alice")
		e.allHaveTTL(t, "after create")
		for _, k := range e.keys(t) {
			if d := e.pttl(t, k); d > ttl {
				t.Errorf("after create: key %q has PTTL %v, longer than the session TTL %v", k, d, ttl)
			}
		}

		if res := e.rotate(t, "alice", id, v, 1, base.Add(time.Minute)); res.Outcome != ginjwt.Rotated {
			t.Fatalf("rotate: %+v", res)
		}
		e.allHaveTTL(t, "after rotate")
		for _, o := range []struct {
			what string
			gen  int64
			at   time.Duration
		}{
			{"converge", 1, time.Minute + time.Second},
			{"supersede", 1, time.Minute + 7*time.Second},
		} {
			e.rotate(t, "alice", id, v, o.gen, base.Add(o.at))
			e.allHaveTTL(t, "after "+o.what)
		}
		e.rotate(t, "alice", other, v, 5, base.Add(2*time.Minute)) // reuse
		e.allHaveTTL(t, "after reuse")

		if err := e.store.RevokeUser(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		keys := e.keys(t)
		if len(keys) != 1 {
			t.Fatalf("after RevokeUser: keys %q, want only the user version", keys)
		}
		e.allHaveTTL(t, "after RevokeUser")
		e.login(t, "alice")
		e.allHaveTTL(t, "after a login following RevokeUser")

		// A session is never kept past its max age.
		capped := newID()
		e.create(t, "bob", ginjwt.NewSession{ID: capped, TTL: ttl, MaxAge: 10 * time.Minute})
		e.allHaveTTL(t, "after a create capped by max age")
		sessionKey, versionKey := e.keyOfSession(t, "bob", capped)
		if d := e.pttl(t, sessionKey); d <= 0 || d > 10*time.Minute {
			t.Fatalf("session created with MaxAge 10m < TTL 1h has PTTL %v", d)
		}
		bobV := e.versionOf(t, versionKey)
		e.clock.Set(base.Add(8 * time.Minute))
		res, err := e.store.Rotate(ctx, "bob", capped, ginjwt.Rotation{
			UserVersion: bobV, Generation: 1,
			Grace: time.Second, ReuseAfter: time.Second, TTL: ttl, MaxAge: 10 * time.Minute,
		})
		if err != nil || res.Outcome != ginjwt.Rotated {
			t.Fatalf("rotate near max age: %+v, %v", res, err)
		}
		if d := e.pttl(t, sessionKey); d <= 0 || d > 2*time.Minute {
			t.Fatalf("session rotated 2m before its max age has PTTL %v, want at most 2m", d)
		}
		e.allHaveTTL(t, "after a rotation capped by max age")

		// The version and the index outlive every session they serve.
		for _, subject := range []string{"alice", "bob"} {
			var longest, shortest time.Duration = 0, 1 << 62
			for _, k := range e.keysOf(t, subject) {
				d := e.pttl(t, k)
				if e.keyType(t, k) == "hash" {
					longest = max(longest, d)
				} else {
					shortest = min(shortest, d)
				}
			}
			if shortest < longest-time.Second {
				t.Errorf("%s: a version or index key expires in %v, before a session that expires in %v", subject, shortest, longest)
			}
		}
	})
}

// keysOf returns the keys of subject: those sharing the hash tag of a key
// written for it. It relies on TestHashTags' property.
func (e *env) keysOf(t *testing.T, subject string) []string {
	t.Helper()
	probe := newID()
	e.create(t, subject, ginjwt.NewSession{ID: probe, TTL: time.Minute, MaxAge: time.Minute})
	sessionKey, _ := e.keyOfSession(t, subject, probe)
	if err := e.store.DeleteSession(t.Context(), subject, probe); err != nil {
		t.Fatal(err)
	}
	tag, _ := hashTag(sessionKey)
	var out []string
	for _, k := range e.keys(t) {
		if kt, _ := hashTag(k); kt == tag {
			out = append(out, k)
		}
	}
	return out
}

// keyOfSession finds the hash of session id and the version key of its
// subject, which share the hash tag.
func (e *env) keyOfSession(t *testing.T, subject, id string) (sessionKey, versionKey string) {
	t.Helper()
	for _, k := range e.keys(t) {
		if strings.HasSuffix(k, id) && e.keyType(t, k) == "hash" {
			sessionKey = k
		}
	}
	if sessionKey == "" {
		t.Fatalf("no hash key for session %s of %q", id, subject)
	}
	tag, _ := hashTag(sessionKey)
	for _, k := range e.keys(t) {
		if kt, _ := hashTag(k); kt == tag && e.keyType(t, k) == "string" {
			versionKey = k
		}
	}
	if versionKey == "" {
		t.Fatalf("no version key for %q", subject)
	}
	return sessionKey, versionKey
}

func (e *env) versionOf(t *testing.T, versionKey string) int64 {
	t.Helper()
	v, err := e.client.Get(t.Context(), versionKey).Int64()
	if err != nil {
		t.Fatalf("GET %q: %v", versionKey, err)
	}
	return v
}

// Lost state never revives a token.
func TestFailClosed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		t.Run("all state lost", func(t *testing.T) {
			e := newEnv(t, b)
			id, v := e.login(t, "alice")
			e.wipe(t)
			if st, found, err := e.store.State(t.Context(), "alice", id); err != nil || found {
				t.Fatalf("State after the loss = %+v, %v, %v; want not found", st, found, err)
			}
			_, v2 := e.login(t, "alice")
			if v2 == v {
				t.Fatalf("a login after the loss got the old user version %d", v)
			}
			if res := e.rotate(t, "alice", id, v, 1, base.Add(time.Minute)); res.Outcome != ginjwt.Revoked {
				t.Fatalf("refresh token from before the loss: %+v, want Revoked", res)
			}
			if st, found, _ := e.store.State(t.Context(), "alice", id); found {
				t.Fatalf("old session after a new login: %+v", st)
			}
		})
		t.Run("version key lost", func(t *testing.T) {
			e := newEnv(t, b)
			id, v := e.login(t, "alice")
			_, versionKey := e.keyOfSession(t, "alice", id)
			if err := e.client.Del(t.Context(), versionKey).Err(); err != nil {
				t.Fatal(err)
			}
			if st, found, err := e.store.State(t.Context(), "alice", id); err != nil || found {
				t.Fatalf("State without the version key = %+v, %v, %v; want not found", st, found, err)
			}
			if res := e.rotate(t, "alice", id, v, 1, base.Add(time.Minute)); res.Outcome != ginjwt.Revoked {
				t.Fatalf("refresh without the version key: %+v, want Revoked", res)
			}
			_, v2 := e.login(t, "alice")
			if v2 == v {
				t.Fatalf("a login after the version key was lost got the old version %d", v)
			}
			if st, found, _ := e.store.State(t.Context(), "alice", id); found && st.UserVersion == v {
				t.Fatalf("old session matches its old tokens again: %+v", st)
			}
			if res := e.rotate(t, "alice", id, v, 1, base.Add(time.Minute)); res.Outcome != ginjwt.Revoked {
				t.Fatalf("old refresh token after a new login: %+v, want Revoked", res)
			}
		})
		t.Run("session key lost", func(t *testing.T) {
			e := newEnv(t, b)
			id, v := e.login(t, "alice")
			sessionKey, _ := e.keyOfSession(t, "alice", id)
			if err := e.client.Del(t.Context(), sessionKey).Err(); err != nil {
				t.Fatal(err)
			}
			if st, found, err := e.store.State(t.Context(), "alice", id); err != nil || found {
				t.Fatalf("State without the session key = %+v, %v, %v; want not found", st, found, err)
			}
			if res := e.rotate(t, "alice", id, v, 1, base.Add(time.Minute)); res.Outcome != ginjwt.Revoked {
				t.Fatalf("refresh without the session key: %+v, want Revoked", res)
			}
		})
		t.Run("index lost, then RevokeUser", func(t *testing.T) {
			e := newEnv(t, b)
			id, v := e.login(t, "alice")
			for _, k := range e.keys(t) {
				if e.keyType(t, k) == "zset" {
					if err := e.client.Del(t.Context(), k).Err(); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := e.store.RevokeUser(t.Context(), "alice"); err != nil {
				t.Fatal(err)
			}
			if st, found, _ := e.store.State(t.Context(), "alice", id); found && st.UserVersion == v {
				t.Fatalf("session survived RevokeUser with its version: %+v", st)
			}
			if res := e.rotate(t, "alice", id, v, 1, base.Add(time.Minute)); res.Outcome != ginjwt.Revoked {
				t.Fatalf("refresh after RevokeUser: %+v, want Revoked", res)
			}
		})
	})
}

var (
	digits     = regexp.MustCompile(`^[0-9]+$`)
	tokenLike  = regexp.MustCompile(`eyJ|[A-Za-z0-9_-]{30,}\.[A-Za-z0-9_-]{30,}`)
	testSecret = []byte("0123456789abcdef0123456789abcdef")
)

// Only numbers, ids and the device label are stored; never a token.
func TestStoresNoTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		e := newEnv(t, b)
		auth, err := ginjwt.New(ginjwt.Options{
			Store: e.store,
			Keys:  []ginjwt.Key{ginjwt.HS256(testSecret)},
			Authenticate: func(c *gin.Context) (ginjwt.Identity, error) {
				return ginjwt.Identity{Subject: "alice", Device: "Pixel 8"}, nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		r := gin.New()
		r.POST("/login", auth.LoginHandler())
		r.POST("/refresh", auth.RefreshHandler())
		post := func(path, body string) ginjwt.TokenResponse {
			t.Helper()
			w := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			r.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				t.Fatalf("POST %s: %d %s", path, w.Code, w.Body)
			}
			var tr ginjwt.TokenResponse
			if err := json.Unmarshal(w.Body.Bytes(), &tr); err != nil {
				t.Fatal(err)
			}
			return tr
		}
		var tokens []string
		for range 2 {
			first := post("/login", `{}`)
			second := post("/refresh", `{"refresh_token":"`+first.RefreshToken+`"}`)
			tokens = append(tokens, first.AccessToken, first.RefreshToken, second.AccessToken, second.RefreshToken)
		}

		fields := 0
		for _, k := range e.keys(t) {
			var values []string
			switch typ := e.keyType(t, k); typ {
			case "string":
				v, err := e.client.Get(t.Context(), k).Result()
				if err != nil {
					t.Fatal(err)
				}
				if !digits.MatchString(v) {
					t.Errorf("version key %q holds %q, want a number", k, v)
				}
				values = append(values, v)
			case "zset":
				members, err := e.client.ZRangeWithScores(t.Context(), k, 0, -1).Result()
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range members {
					id, _ := m.Member.(string)
					if len(id) != 22 {
						t.Errorf("index %q holds member %q, want a session id", k, id)
					}
					values = append(values, id)
				}
			case "hash":
				h, err := e.client.HGetAll(t.Context(), k).Result()
				if err != nil {
					t.Fatal(err)
				}
				got := slices.Sorted(maps.Keys(h))
				for _, f := range got {
					if !slices.Contains([]string{"a", "c", "d", "g", "i", "n", "r", "t"}, f) {
						t.Errorf("session hash %q has field %q, want only a, c, d, g, i, n, r, t", k, f)
					}
				}
				if !slices.Contains(got, "c") || !slices.Contains(got, "g") {
					t.Errorf("session hash %q has fields %q, want c and g among them", k, got)
				}
				for f, v := range h {
					fields++
					if f != "d" && f != "i" && f != "a" && !digits.MatchString(v) {
						t.Errorf("session hash %q field %s = %q, want a number", k, f, v)
					}
					if f == "d" && v != "Pixel 8" {
						t.Errorf("session hash %q device %q, want the label", k, v)
					}
					values = append(values, v)
				}
			default:
				t.Errorf("unexpected key %q of type %s", k, typ)
			}
			for _, s := range append(values, k) {
				if tokenLike.MatchString(s) {
					t.Errorf("key %q stores something token-like: %q", k, s)
				}
				for _, tok := range tokens {
					for _, part := range strings.Split(tok, ".") {
						if len(part) >= 16 && strings.Contains(s, part[len(part)-16:]) {
							t.Errorf("key %q stores part of a token: %q", k, s)
						}
					}
				}
			}
		}
		if fields == 0 {
			t.Fatal("no session hash found; the test saw nothing")
		}
	})
}

// An unreachable or unresponsive Redis is an error, within the timeout.
func TestUnreachable(t *testing.T) {
	const timeout = 300 * time.Millisecond
	const margin = 700 * time.Millisecond

	closed := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		return addr
	}
	// silent accepts connections and never answers, like a Redis that hangs
	// or a network that drops packets.
	silent := func(t *testing.T) string {
		addr, _ := silentServer(t)
		return addr
	}

	for _, tc := range []struct {
		name string
		addr func(t *testing.T) string
		ctx  bool // the client's ContextTimeoutEnabled
	}{
		{"closed port", closed, false},
		{"closed port, client honours contexts", closed, true},
		{"silent server", silent, false},
		{"silent server, client honours contexts", silent, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			client := redis.NewClient(&redis.Options{Addr: tc.addr(t), ContextTimeoutEnabled: tc.ctx})
			t.Cleanup(func() { _ = client.Close() })
			s, err := redisstore.New(client, redisstore.WithTimeout(timeout))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			id := newID()
			calls := []struct {
				name string
				call func() error
			}{
				{"State", func() error {
					st, found, err := s.State(ctx, "alice", id)
					if found {
						return fmt.Errorf("found %+v", st)
					}
					return err
				}},
				{"CreateSession", func() error {
					_, err := s.CreateSession(ctx, "alice", ginjwt.NewSession{ID: id, TTL: ttl, MaxAge: maxAge})
					return err
				}},
				{"Rotate", func() error {
					_, err := s.Rotate(ctx, "alice", id, ginjwt.Rotation{UserVersion: 7, Generation: 1, TTL: ttl, MaxAge: maxAge})
					return err
				}},
				{"DeleteSession", func() error { return s.DeleteSession(ctx, "alice", id) }},
				{"RevokeUser", func() error { return s.RevokeUser(ctx, "alice") }},
			}
			for _, c := range calls {
				start := time.Now()
				err := c.call()
				took := time.Since(start)
				if err == nil {
					t.Errorf("%s: no error from an unreachable Redis", c.name)
				}
				if took > timeout+margin {
					t.Errorf("%s took %v, want at most the timeout %v plus %v", c.name, took, timeout, margin)
				}
			}
			// A caller's shorter deadline wins over the store's timeout.
			short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			if _, _, err := s.State(short, "alice", id); err == nil {
				t.Error("State with an expiring context: no error")
			}
			if took := time.Since(start); took > 50*time.Millisecond+margin {
				t.Errorf("State with a 50ms context took %v", took)
			}
		})
	}
}

// With replica acks on, the store passes the whole contract on every
// backend whose primaries have a replica (Sentinel and Cluster here).
func TestConformanceWithReplicaAcks(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		if !b.IsSentinel() && !b.IsCluster() {
			continue
		}
		t.Run(b.Name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, now func() time.Time) ginjwt.Store {
				s, err := redisstore.New(b.Client(t), redisstore.WithPrefix(redistest.Prefix(t, b)),
					redisstore.WithReplicaAcks(1, 500*time.Millisecond), redisstore.WithClock(now))
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
		})
	}
}

// Without a replica to confirm it, a durable write fails with
// ErrNotReplicated, within the ack timeout; the primary may have applied it,
// and a retry once the replica is back succeeds.
func TestReplicaAcksRefusedWithoutReplica(t *testing.T) {
	redistest.SkipUnlessReal(t)
	primary, replica := redistest.StartReplicated(t)
	s, err := redisstore.New(primary.Client(), redisstore.WithReplicaAcks(1, 100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ns := ginjwt.NewSession{ID: newID(), TTL: time.Hour, MaxAge: 24 * time.Hour}
	if _, err := s.CreateSession(t.Context(), "alice", ns); err != nil {
		t.Fatalf("with the replica up: %v", err)
	}
	replica.Pause()
	start := time.Now()
	err = s.DeleteSession(t.Context(), "alice", ns.ID)
	if !errors.Is(err, redisstore.ErrNotReplicated) {
		t.Fatalf("replica paused: DeleteSession = %v, want ErrNotReplicated", err)
	}
	t.Logf("refused after %v", time.Since(start))
	replica.Resume()
	// The retry finds nothing left to delete and still waits for the replica.
	if err := s.DeleteSession(t.Context(), "alice", ns.ID); err != nil {
		t.Fatalf("retry with the replica back: %v", err)
	}
	if n, _ := replica.Client().Exists(t.Context(), "jwtguard:{YWxpY2U}:s:"+ns.ID).Result(); n != 0 {
		t.Fatal("the replica still holds the deleted session after an acknowledged retry")
	}
}
