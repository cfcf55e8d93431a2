package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

func init() { gin.SetMode(gin.ReleaseMode) }

var demoUsers = []account{{"alice", "wonderland"}, {"bob", "builder"}}

// newServer serves the example's auth routes with jwtguard and limits (the
// zero value: the defaults) on the Redis at REDIS_ADDR, under a key prefix
// removed when the test ends.
func newServer(t *testing.T, limits ginjwt.Limits) *httptest.Server {
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		t.Skip("needs a real Redis: set REDIS_ADDR, as .ci/run does")
	}
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	if err := client.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("REDIS_ADDR=%s is set but Redis does not answer: %v", addr, err)
	}
	var r [6]byte
	_, _ = rand.Read(r[:])
	prefix := "jwtguard-load-test:" + hex.EncodeToString(r[:]) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
	})
	store, err := redisstore.New(client, redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := ginjwt.New(ginjwt.Options{
		Store:  store,
		Keys:   []ginjwt.Key{ginjwt.HS256([]byte("load-test-secret-0123456789abcdef"))},
		Limits: limits,
		Authenticate: func(c *gin.Context) (ginjwt.Identity, error) {
			var body struct{ Username, Password string }
			if err := c.ShouldBindJSON(&body); err != nil {
				return ginjwt.Identity{}, ginjwt.ErrBadRequest
			}
			if err := ginjwt.LoginAttempt(c, body.Username); err != nil {
				return ginjwt.Identity{}, err // a locked-out account, as in the example
			}
			for _, u := range demoUsers {
				if u.name == body.Username && u.password == body.Password {
					return ginjwt.Identity{Subject: u.name}, nil
				}
			}
			return ginjwt.Identity{}, ginjwt.ErrInvalidCredentials
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	router := gin.New()
	_ = router.SetTrustedProxies(nil) // as the example: the client IP is the TCP peer's
	router.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	router.POST("/auth/login", auth.LoginHandler())
	router.POST("/auth/refresh", auth.RefreshHandler())
	router.POST("/auth/logout", auth.LogoutHandler())
	router.GET("/api/me", auth.Middleware(), func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"subject": ginjwt.Subject(c)}) })
	srv := httptest.NewServer(router)
	t.Cleanup(srv.Close)
	return srv
}

// Against jwtguard every response is the expected one, every route is
// exercised, and cut-short sessions are logged out.
func TestRunAgainstJWTGuard(t *testing.T) {
	srv := newServer(t, ginjwt.Limits{})
	cfg := config{url: srv.URL, vus: 8, duration: 1500 * time.Millisecond, calls: 2, refreshes: 2, think: time.Millisecond, ramp: 100 * time.Millisecond, users: demoUsers, timeout: 10 * time.Second}
	rep, err := run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.text(&out)
	t.Log("\n" + out.String())
	if rep.unexpected != 0 {
		t.Fatalf("%d unexpected responses: %q", rep.unexpected, rep.samples)
	}
	for _, r := range rep.rows {
		if r.count == 0 || r.p50 <= 0 || r.p50 > r.p95 || r.p95 > r.p99 || r.p99 > r.max {
			t.Errorf("row %+v: want requests and ordered percentiles", r)
		}
	}
	out.Reset()
	rep.markdown(&out)
	if !strings.Contains(out.String(), "| "+routeRevoked+" |") {
		t.Errorf("markdown table without the revoked-token row:\n%s", out.String())
	}
}

// Attackers guessing passwords get 401 invalid_credentials until the
// account backoff, or the per-IP limit, answers 429, and nothing else.
// From addresses of their own, they leave the users of the other accounts
// alone, while the users of the attacked account are locked out with it.
// From the users' address, they use its login limit up for everyone.
func TestAttackers(t *testing.T) {
	for _, ownIPs := range []bool{true, false} {
		t.Run(fmt.Sprintf("own IPs %v", ownIPs), func(t *testing.T) {
			// Without the lockouts of the other run; 20 failed logins per
			// IP, not 100, so that the attackers reach the limit within the
			// run on a slow machine too.
			srv := newServer(t, ginjwt.Limits{LoginPerIP: ginjwt.Rate{Count: 20, Period: time.Minute}})
			cfg := config{url: srv.URL, vus: 6, duration: 2 * time.Second, calls: 2, refreshes: 1, think: time.Millisecond, users: demoUsers, timeout: 10 * time.Second,
				attackers: 4, victims: []string{"bob", "ghost"}, ownIPs: ownIPs}
			rep, err := run(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			rep.text(&out)
			printTable(&out, false, compareRuns([]*report{rep}))
			t.Log("\n" + out.String())
			if rep.unexpected != 0 {
				t.Fatalf("%d unexpected responses: %q", rep.unexpected, rep.samples)
			}
			// Each name takes 5 wrong passwords before its lockout.
			if rep.answers["401 invalid_credentials"] == 0 || rep.answers["429 login-account"] == 0 {
				t.Errorf("attackers' answers %v: want 401s and 429s of the account backoff", rep.answers)
			}
			alice, bob := rep.logins[0], rep.logins[1]
			if bob.refused == 0 {
				t.Errorf("logins of the attacked account %+v: none refused", bob)
			}
			if ownIPs {
				if alice.tried == 0 || alice.ok != alice.tried {
					t.Errorf("logins of the account not attacked %+v: want all ok", alice)
				}
				return
			}
			if rep.answers["429 login-ip"] == 0 || alice.refused == 0 {
				t.Errorf("attackers' answers %v, logins of the account not attacked %+v: want both refused by the shared per-IP limit", rep.answers, alice)
			}
		})
	}
}

// A server whose tokens cannot be revoked (every token always works) is
// caught: the previous and the logged-out access tokens are counted as
// unexpected.
func TestRunCatchesUnrevokedTokens(t *testing.T) {
	router := gin.New()
	router.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	pair := func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"access_token": "a", "refresh_token": "r", "token_type": "Bearer"})
	}
	router.POST("/auth/login", pair)
	router.POST("/auth/refresh", pair)
	router.POST("/auth/logout", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	router.GET("/api/me", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{}) })
	srv := httptest.NewServer(router)
	defer srv.Close()

	rep, err := run(t.Context(), config{url: srv.URL, vus: 2, duration: 300 * time.Millisecond, calls: 1, refreshes: 1, users: demoUsers, timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.rows {
		if want := r.route == routeRevoked; (r.unexpected > 0) != want || (want && r.unexpected != r.count) {
			t.Errorf("route %s: %d of %d unexpected", r.route, r.unexpected, r.count)
		}
	}
	if len(rep.samples) == 0 || !strings.Contains(rep.samples[0], "status 200, want 401") {
		t.Errorf("samples %q", rep.samples)
	}
}

// A server that is not there fails the run before it starts.
func TestRunNeedsAServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	if _, err := run(t.Context(), config{url: url, vus: 1, duration: time.Second, calls: 1, refreshes: 1, users: demoUsers, timeout: time.Second}); err == nil {
		t.Fatal("run against a closed port: no error")
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 200; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		p    int
		want time.Duration
	}{{50, 100 * time.Millisecond}, {95, 190 * time.Millisecond}, {99, 198 * time.Millisecond}, {100, 200 * time.Millisecond}, {1, 2 * time.Millisecond}} {
		if got := percentile(d, tc.p); got != tc.want {
			t.Errorf("p%d = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of nothing = %v", got)
	}
	if got := percentile(d[:1], 99); got != time.Millisecond {
		t.Errorf("p99 of one = %v", got)
	}
}
