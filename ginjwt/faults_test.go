package ginjwt_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Fault tests. Each starts its own redis-server (redistest.StartServer), so
// stopping, pausing, slowing or emptying it disturbs no other test; they run
// when a real Redis is asked for (REDIS_ADDR or REDIS_CLUSTER_ADDRS, as in
// .ci/run) and then fail if redis-server cannot be started.

const (
	// faultPrefix is the key prefix on the tests' private servers.
	faultPrefix = "jwtguard:"
	// margin is how much longer than storeTimeout a failing request may
	// take: HTTP, JSON and scheduling on a busy CI machine under -race.
	margin = 400 * time.Millisecond
	// recovery is how soon after Redis is back requests must succeed.
	recovery = time.Second
)

// outcome is one response, as seen from a goroutine that may not call t.
type outcome struct {
	what   string
	status int
	code   string
	start  time.Time
	took   time.Duration
	err    error
}

func (o outcome) String() string {
	if o.err != nil {
		return fmt.Sprintf("%s: %v after %v", o.what, o.err, o.took)
	}
	return fmt.Sprintf("%s: %d %s after %v", o.what, o.status, o.code, o.took)
}

// hit sends one request and reports what came back; it is safe in any
// goroutine. bearer, when not empty, goes into the Authorization header.
func (a *app) hit(what, method, path, body, bearer string) outcome {
	o := outcome{what: what, start: time.Now()}
	req, err := http.NewRequest(method, a.srv.URL+path, strings.NewReader(body))
	if err != nil {
		o.err = err
		return o
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := a.srv.Client().Do(req)
	o.took = time.Since(o.start)
	if err != nil {
		o.err = err
		return o
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	o.took = time.Since(o.start)
	o.status = res.StatusCode
	var e ginjwt.ErrorResponse
	_ = json.Unmarshal(b, &e)
	o.code = e.Code()
	return o
}

// requests a test sends, as outcomes.
func (a *app) hitMe(what, access string) outcome { return a.hit(what, "GET", "/api/me", "", access) }

func (a *app) hitRefresh(what, refreshToken string) outcome {
	return a.hit(what, "POST", "/auth/refresh", `{"refresh_token":"`+refreshToken+`"}`, "")
}

func (a *app) hitLogin(what, user string) outcome {
	return a.hit(what, "POST", "/auth/login", `{"username":"`+user+`","password":"`+testPasswords[user]+`"}`, "")
}

func (a *app) hitLogout(what, refreshToken string) outcome {
	return a.hit(what, "POST", "/auth/logout", `{"refresh_token":"`+refreshToken+`"}`, "")
}

// traffic sends requests from several goroutines until stopped.
type traffic struct {
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	seen []outcome
}

// startTraffic runs send(worker) in a loop in each of n goroutines.
func startTraffic(n int, send func(worker int) outcome) *traffic {
	tr := &traffic{stop: make(chan struct{})}
	for i := range n {
		tr.wg.Go(func() {
			for {
				select {
				case <-tr.stop:
					return
				default:
				}
				o := send(i)
				tr.mu.Lock()
				tr.seen = append(tr.seen, o)
				tr.mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	return tr
}

// Stop stops the goroutines and returns every outcome they saw.
func (tr *traffic) Stop() []outcome {
	close(tr.stop)
	tr.wg.Wait()
	return tr.seen
}

// expectUnavailable fails the test unless o is a 503 store_unavailable that
// took at most the store timeout plus the margin.
func expectUnavailable(t *testing.T, o outcome) {
	t.Helper()
	if o.err != nil || o.status != http.StatusServiceUnavailable || o.code != "store_unavailable" {
		t.Errorf("%v; want 503 store_unavailable", o)
	}
	if o.took > storeTimeout+margin {
		t.Errorf("%v; want at most the store timeout %v plus %v", o, storeTimeout, margin)
	}
}

// expectOKWithin polls send until it answers 200, failing the test if that
// takes longer than d or if anything but 503 store_unavailable comes first.
// It returns how long it took.
func expectOKWithin(t *testing.T, d time.Duration, send func() outcome) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		o := send()
		if o.err == nil && o.status == http.StatusOK {
			return time.Since(start)
		}
		if o.err != nil || o.status != http.StatusServiceUnavailable || o.code != "store_unavailable" {
			t.Fatalf("waiting for recovery: %v; want 200 or 503 store_unavailable", o)
		}
		if time.Since(start) > d {
			t.Fatalf("no success within %v after Redis came back; last %v", d, o)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkTraffic fails the test unless every outcome is a 200 or a 503
// store_unavailable, and reports how many of each there were.
func checkTraffic(t *testing.T, seen []outcome) (ok, unavailable int) {
	t.Helper()
	for _, o := range seen {
		switch {
		case o.err == nil && o.status == http.StatusOK:
			ok++
		case o.err == nil && o.status == http.StatusServiceUnavailable && o.code == "store_unavailable":
			unavailable++
		default:
			t.Errorf("background traffic: %v; want 200 or 503 store_unavailable", o)
		}
	}
	return ok, unavailable
}

// Redis stopped during traffic: guarded routes, refresh, login and logout
// answer 503 store_unavailable, and nothing panics; when Redis is back (with
// its data) the same tokens work again within a second, without restarting
// the app.
func TestFaultRedisStopped(t *testing.T) {
	redistest.SkipUnlessReal(t)
	srv := redistest.StartServer(t, "--appendonly", "yes", "--appendfsync", "always")
	a := newAppAt(t, srv.Backend(), faultPrefix, nil)
	alice, bob := a.login("alice"), a.login("bob")
	expect(t, "before the outage", a.me(alice.AccessToken), http.StatusOK, "")

	tr := startTraffic(4, func(i int) outcome {
		if i%2 == 0 {
			return a.hitMe("alice's guarded call", alice.AccessToken)
		}
		return a.hitMe("bob's guarded call", bob.AccessToken)
	})
	time.Sleep(200 * time.Millisecond)
	srv.Stop()
	stoppedAt := time.Now()

	expectUnavailable(t, a.hitMe("guard, Redis stopped", alice.AccessToken))
	expectUnavailable(t, a.hitRefresh("refresh, Redis stopped", alice.RefreshToken))
	expectUnavailable(t, a.hitLogin("login, Redis stopped", "alice"))
	expectUnavailable(t, a.hitLogout("logout, Redis stopped", bob.RefreshToken))
	time.Sleep(300 * time.Millisecond)

	srv.Start()
	startedAt := time.Now()
	took := expectOKWithin(t, recovery, func() outcome { return a.hitMe("guard, Redis back", alice.AccessToken) })
	time.Sleep(100 * time.Millisecond)
	seen := tr.Stop()
	ok, unavailable := checkTraffic(t, seen)
	var during, after int
	for _, o := range seen {
		if o.start.After(stoppedAt) && o.start.Add(o.took).Before(startedAt) && o.status == http.StatusServiceUnavailable {
			during++
		}
		if o.start.After(startedAt.Add(took)) && o.status == http.StatusOK {
			after++
		}
	}
	if during == 0 || after == 0 {
		t.Errorf("background traffic saw %d 503s while Redis was down and %d 200s after; want some of each", during, after)
	}
	t.Logf("background traffic: %d × 200, %d × 503; first success %v after Redis was back", ok, unavailable, took)

	expect(t, "bob after the outage", a.me(bob.AccessToken), http.StatusOK, "")
	next := a.refresh(alice.RefreshToken).tokens(t)
	expect(t, "refreshed after the outage", a.me(next.AccessToken), http.StatusOK, "")
	expect(t, "rotated-away token after the outage", a.me(alice.AccessToken), http.StatusUnauthorized, "token_revoked")
	expect(t, "login after the outage", a.me(a.login("alice").AccessToken), http.StatusOK, "")
}

// Redis hanging (the process stopped with SIGSTOP: connections open, no
// replies): every route answers 503 within the store timeout; when it
// continues, requests succeed again within a second.
func TestFaultRedisHangs(t *testing.T) {
	redistest.SkipUnlessReal(t)
	srv := redistest.StartServer(t)
	a := newAppAt(t, srv.Backend(), faultPrefix, nil)
	tok := a.login("alice")
	expect(t, "before", a.me(tok.AccessToken), http.StatusOK, "")

	srv.Pause()
	tr := startTraffic(4, func(int) outcome { return a.hitMe("guarded call, Redis hangs", tok.AccessToken) })
	expectUnavailable(t, a.hitMe("guard, Redis hangs", tok.AccessToken))
	expectUnavailable(t, a.hitRefresh("refresh, Redis hangs", tok.RefreshToken))
	expectUnavailable(t, a.hitLogin("login, Redis hangs", "bob"))
	expectUnavailable(t, a.hitLogout("logout, Redis hangs", tok.RefreshToken))
	for _, o := range tr.Stop() {
		expectUnavailable(t, o)
	}

	srv.Resume()
	took := expectOKWithin(t, recovery, func() outcome { return a.hitMe("guard, Redis continues", tok.AccessToken) })
	t.Logf("first success %v after Redis continued", took)
	// The refresh that timed out may have rotated the session in Redis all
	// the same; retrying it converges within the grace window.
	next := a.refresh(tok.RefreshToken).tokens(t)
	expect(t, "refreshed", a.me(next.AccessToken), http.StatusOK, "")
}

// Redis slow (a proxy delaying every reply): past the store timeout each
// request ends within the timeout plus a small margin, with 503; below it,
// requests succeed, only slower; back to normal, they succeed at once.
func TestFaultRedisSlow(t *testing.T) {
	redistest.SkipUnlessReal(t)
	srv := redistest.StartServer(t)
	proxy := redistest.NewProxy(t, srv.Addr())
	a := newAppAt(t, redistest.Backend{Name: "slow", Addr: proxy.Addr()}, faultPrefix, nil)
	tok := a.login("alice")

	proxy.SetDelay(50 * time.Millisecond)
	for _, o := range []outcome{
		a.hitMe("guard, replies delayed 50ms", tok.AccessToken),
		a.hitLogin("login, replies delayed 50ms", "bob"),
	} {
		if o.err != nil || o.status != http.StatusOK {
			t.Errorf("%v; want 200 below the store timeout", o)
		}
	}

	proxy.SetDelay(2 * storeTimeout)
	tr := startTraffic(4, func(int) outcome { return a.hitMe("guarded call, replies delayed past the timeout", tok.AccessToken) })
	expectUnavailable(t, a.hitMe("guard, replies delayed past the timeout", tok.AccessToken))
	expectUnavailable(t, a.hitRefresh("refresh, replies delayed past the timeout", tok.RefreshToken))
	expectUnavailable(t, a.hitLogin("login, replies delayed past the timeout", "bob"))
	expectUnavailable(t, a.hitLogout("logout, replies delayed past the timeout", tok.RefreshToken))
	time.Sleep(storeTimeout)
	seen := tr.Stop()
	for _, o := range seen {
		expectUnavailable(t, o)
	}
	t.Logf("%d background requests, all 503 within the timeout", len(seen))

	proxy.SetDelay(0)
	took := expectOKWithin(t, recovery, func() outcome { return a.hitMe("guard, no delay", tok.AccessToken) })
	t.Logf("first success %v after the delay was lifted", took)
}

// Redis emptied, by a restart without persistence or by FLUSHALL: every
// token issued before is refused, including those revoked before, none comes
// back to life when the user logs in again, and new logins work.
func TestFaultRedisEmptied(t *testing.T) {
	redistest.SkipUnlessReal(t)
	for _, tc := range []struct {
		name  string
		empty func(t *testing.T, srv *redistest.Server)
	}{
		{"restart without persistence", func(t *testing.T, srv *redistest.Server) { srv.Kill(); srv.Start() }},
		{"FLUSHALL", func(t *testing.T, srv *redistest.Server) {
			if err := srv.Client().FlushAll(ctx(t)).Err(); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.StartServer(t)
			a := newAppAt(t, srv.Backend(), faultPrefix, nil)
			alice, bob := a.login("alice"), a.login("bob")
			rotated := a.login("alice")
			current := a.refresh(rotated.RefreshToken).tokens(t)
			loggedOut := a.login("bob")
			expect(t, "logout", a.logoutWithRefresh(loggedOut.RefreshToken), http.StatusNoContent, "")
			live := []ginjwt.TokenResponse{alice, bob, current}
			for _, tok := range live {
				expect(t, "before", a.me(tok.AccessToken), http.StatusOK, "")
			}
			earlier := append(live, rotated, loggedOut)

			tc.empty(t, srv)
			// The app's pooled connections to a restarted server are dead; the
			// first request may see that as an outage.
			expectRevokedWithin := func(what, access string) {
				t.Helper()
				deadline := time.Now().Add(recovery)
				for {
					o := a.hitMe(what, access)
					if o.err == nil && o.status == http.StatusUnauthorized && o.code == "token_revoked" {
						return
					}
					if o.err != nil || o.status != http.StatusServiceUnavailable || time.Now().After(deadline) {
						t.Fatalf("%v; want 401 token_revoked", o)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			expectRevokedWithin("first request after the loss", alice.AccessToken)

			refuseAll := func(when string) {
				t.Helper()
				for i, tok := range earlier {
					expect(t, fmt.Sprintf("access token %d %s", i, when), a.me(tok.AccessToken), http.StatusUnauthorized, "token_revoked")
					expectGrant(t, fmt.Sprintf("refresh token %d %s", i, when), a.refresh(tok.RefreshToken), "token_revoked")
				}
			}
			refuseAll("after the loss")

			fresh := a.login("alice")
			expect(t, "new login", a.me(fresh.AccessToken), http.StatusOK, "")
			freshBob := a.login("bob")
			expect(t, "new login of bob", a.me(freshBob.AccessToken), http.StatusOK, "")
			refuseAll("after new logins")
			for _, tok := range earlier {
				expect(t, "logout with a token from before the loss", a.logoutWithRefresh(tok.RefreshToken), http.StatusNoContent, "")
			}
			next := a.refresh(fresh.RefreshToken).tokens(t)
			expect(t, "refreshed new session", a.me(next.AccessToken), http.StatusOK, "")
			expect(t, "bob's new session", a.me(freshBob.AccessToken), http.StatusOK, "")
		})
	}
}

// Redis full. With maxmemory-policy noeviction (the only safe one) Redis
// refuses writes: login and refresh answer 503 while guarded routes keep
// working and logout still deletes. With an evicting policy Redis deletes
// keys to make room, session keys among them: their users are logged out
// (401 token_revoked), and no revoked token comes back.
func TestFaultRedisFull(t *testing.T) {
	redistest.SkipUnlessReal(t)
	filler := strings.Repeat("x", 10<<10)
	// fill sets maxmemory a little above what srv uses, then writes filler
	// keys until Redis refuses one or n were written.
	fill := func(t *testing.T, srv *redistest.Server, policy string, n int) {
		t.Helper()
		c := srv.Client()
		info, err := c.Info(ctx(t), "memory").Result()
		if err != nil {
			t.Fatal(err)
		}
		var mem int64
		for line := range strings.SplitSeq(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
				_, _ = fmt.Sscan(v, &mem)
			}
		}
		if mem == 0 {
			t.Fatalf("no used_memory in INFO memory")
		}
		if err := c.ConfigSet(ctx(t), "maxmemory-policy", policy).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.ConfigSet(ctx(t), "maxmemory", fmt.Sprint(mem+256<<10)).Err(); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if err := c.Set(ctx(t), fmt.Sprintf("filler:%d", i), filler, 0).Err(); err != nil {
				if strings.Contains(err.Error(), "OOM") {
					return
				}
				t.Fatal(err)
			}
		}
	}

	t.Run("noeviction", func(t *testing.T) {
		srv := redistest.StartServer(t)
		a := newAppAt(t, srv.Backend(), faultPrefix, nil)
		alice, bob := a.login("alice"), a.login("bob")
		rotated := a.login("alice")
		a.refresh(rotated.RefreshToken).tokens(t)

		fill(t, srv, "noeviction", 10_000)
		// Right at the limit a reply buffer freed can let the next write
		// through; with maxmemory below what Redis holds, none passes.
		if err := srv.Client().ConfigSet(ctx(t), "maxmemory", "1mb").Err(); err != nil {
			t.Fatal(err)
		}
		expect(t, "guard, Redis full", a.me(alice.AccessToken), http.StatusOK, "")
		expect(t, "rotated-away token, Redis full", a.me(rotated.AccessToken), http.StatusUnauthorized, "token_revoked")
		expectUnavailable(t, a.hitLogin("login, Redis full", "alice"))
		expectUnavailable(t, a.hitRefresh("refresh, Redis full", alice.RefreshToken))
		expect(t, "guard after the refused refresh", a.me(alice.AccessToken), http.StatusOK, "")
		expect(t, "logout, Redis full", a.logoutWithRefresh(bob.RefreshToken), http.StatusNoContent, "")
		expect(t, "logged out, Redis full", a.me(bob.AccessToken), http.StatusUnauthorized, "token_revoked")
		if err := a.auth.RevokeUser(ctx(t), "alice"); !errors.Is(err, ginjwt.ErrStoreUnavailable) {
			t.Fatalf("RevokeUser, Redis full: %v; want ErrStoreUnavailable", err)
		}
		expect(t, "guard after the refused RevokeUser", a.me(alice.AccessToken), http.StatusOK, "")

		if err := srv.Client().ConfigSet(ctx(t), "maxmemory", "0").Err(); err != nil {
			t.Fatal(err)
		}
		next := a.refresh(alice.RefreshToken).tokens(t)
		expect(t, "refreshed once Redis has room", a.me(next.AccessToken), http.StatusOK, "")
	})

	t.Run("allkeys-lru", func(t *testing.T) {
		srv := redistest.StartServer(t)
		a := newAppAt(t, srv.Backend(), faultPrefix, nil)
		var live []ginjwt.TokenResponse
		for range 10 {
			live = append(live, a.login("alice"), a.login("bob"))
		}
		rotated := a.login("alice")
		a.refresh(rotated.RefreshToken).tokens(t)
		loggedOut := a.login("bob")
		expect(t, "logout", a.logoutWithRefresh(loggedOut.RefreshToken), http.StatusNoContent, "")

		fill(t, srv, "allkeys-lru", 500) // five times maxmemory's headroom
		evicted := 0
		for _, tok := range live {
			r := a.me(tok.AccessToken)
			switch {
			case r.status == http.StatusOK:
			case r.status == http.StatusUnauthorized && r.code() == "token_revoked":
				evicted++
				expectGrant(t, "refresh of an evicted session", a.refresh(tok.RefreshToken), "token_revoked")
			default:
				t.Fatalf("session after eviction: %d %s; want 200 or 401 token_revoked", r.status, r.body)
			}
		}
		if evicted == 0 {
			t.Fatalf("no session was evicted; the test filled too little")
		}
		t.Logf("%d of %d sessions evicted: their users must log in again", evicted, len(live))
		expect(t, "rotated-away token after eviction", a.me(rotated.AccessToken), http.StatusUnauthorized, "token_revoked")
		expect(t, "logged-out token after eviction", a.me(loggedOut.AccessToken), http.StatusUnauthorized, "token_revoked")
		expect(t, "login after eviction", a.me(a.login("alice").AccessToken), http.StatusOK, "")
	})
}

// Redis stopped, as an app sees it with go-redis' default retries (the
// example's client): after the first few failures the store's circuit
// breaker answers at once, so 200 guarded requests get their 503 in
// microseconds rather than after go-redis' dial retries; when Redis is back
// the breaker's next probe lets requests through again. The test logs the
// figures and fails only far beyond them.
func TestFaultTimeTo503(t *testing.T) {
	redistest.SkipUnlessReal(t)
	srv := redistest.StartServer(t, "--appendonly", "yes", "--appendfsync", "always") // keeps its data across the restart
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	a := newAppOn(t, client, faultPrefix, nil)
	alice := a.login("alice")
	expect(t, "before the outage", a.me(alice.AccessToken), http.StatusOK, "")

	srv.Kill()
	const requests = 200
	took := make([]time.Duration, requests)
	for i := range took {
		o := a.hitMe("guard, Redis stopped", alice.AccessToken)
		if o.status != http.StatusServiceUnavailable || o.code != "store_unavailable" {
			t.Fatalf("request %d: %v, want 503 store_unavailable", i, o)
		}
		took[i] = o.took
	}
	sorted := slices.Clone(took)
	slices.Sort(sorted)
	p50, p95 := sorted[requests/2], sorted[requests*95/100]
	t.Logf("Redis stopped, %d guarded requests: first %v, p50 %v, p95 %v, max %v",
		requests, took[0], p50, p95, sorted[requests-1])
	if p95 > storeTimeout {
		t.Errorf("p95 time to 503 is %v, beyond the store timeout %v: the breaker does not open", p95, storeTimeout)
	}

	srv.Start()
	back := time.Now()
	recovered := expectOKWithin(t, recovery, func() outcome { return a.hitMe("guard, Redis back", alice.AccessToken) })
	t.Logf("first 200 %v after Redis accepted connections again (%v after the restart call returned)",
		recovered, time.Since(back))
}
