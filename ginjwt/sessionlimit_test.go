package ginjwt_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/memstore"
)

// revocations returns the revoke events among events.
func revocations(events []ginjwt.Event) []ginjwt.Event {
	var out []ginjwt.Event
	for _, e := range events {
		if e.Kind == ginjwt.EventRevoke {
			out = append(out, e)
		}
	}
	return out
}

// kinds returns the kinds of events, in order.
func kinds(events []ginjwt.Event) []ginjwt.EventKind {
	out := make([]ginjwt.EventKind, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

// listedIDs returns the ids of a session list, in its order.
func listedIDs(list []ginjwt.SessionView) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.ID
	}
	return out
}

// With MaxSessions 3, the fourth login of a user ends the session used
// least recently: its access and refresh tokens answer token_revoked, the
// others keep working, the list shows three, and a revoke event with reason
// session_limit names it. A refresh makes a session the most recently used.
func TestMaxSessionsEndsLeastRecentlyUsed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, func(o *ginjwt.Options) { o.MaxSessions = 3 })
		bob := a.login("bob")
		var toks []ginjwt.TokenResponse
		var sids []string
		for i := range 4 {
			a.clock.Advance(time.Second)
			tok := a.loginAs("alice", fmt.Sprint("device-", i))
			toks = append(toks, tok)
			sids = append(sids, sessionID(t, tok.AccessToken))
		}
		events := a.events.take()
		if got, want := kinds(events), []ginjwt.EventKind{ginjwt.EventLogin, ginjwt.EventLogin, ginjwt.EventLogin, ginjwt.EventLogin, ginjwt.EventRevoke, ginjwt.EventLogin}; !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		ev := events[4]
		if ev.Subject != "alice" || ev.SessionID != sids[0] || ev.Reason != "session_limit" ||
			ev.UserAgent != "test-agent/device-3" || ev.IP == "" || ev.Time.IsZero() {
			t.Fatalf("revoke event %+v, want alice's first session %s, reason session_limit, the fourth login's client", ev, sids[0])
		}

		expect(t, "first access token", a.me(toks[0].AccessToken), http.StatusUnauthorized, "token_revoked")
		expectGrant(t, "first refresh token", a.refresh(toks[0].RefreshToken), "token_revoked")
		expect(t, "fourth access token", a.me(toks[3].AccessToken), http.StatusOK, "")
		for i := 1; i < 3; i++ {
			expect(t, fmt.Sprint("access token ", i+1), a.me(toks[i].AccessToken), http.StatusOK, "")
		}
		expect(t, "another user", a.me(bob.AccessToken), http.StatusOK, "")
		list := a.sessions(t, toks[3].AccessToken)
		if got := listedIDs(list); !slices.Equal(got, sids[1:]) {
			t.Fatalf("sessions %q, want %q", got, sids[1:])
		}
		if !list[2].Current || list[0].Current || list[1].Current {
			t.Fatalf("current marks %+v, want the fourth session's only", list)
		}

		// The second session refreshes: the third is now the least recently
		// used, and the fifth login ends it.
		a.clock.Advance(time.Second)
		second := a.refresh(toks[1].RefreshToken).tokens(t)
		a.events.take()
		a.clock.Advance(time.Second)
		fifth := a.loginAs("alice", "device-4")
		if got := revocations(a.events.take()); len(got) != 1 || got[0].SessionID != sids[2] || got[0].Reason != "session_limit" {
			t.Fatalf("revoke events of the fifth login %+v, want one for the third session %s", got, sids[2])
		}
		expect(t, "third access token", a.me(toks[2].AccessToken), http.StatusUnauthorized, "token_revoked")
		expect(t, "refreshed second session", a.me(second.AccessToken), http.StatusOK, "")
		expect(t, "fifth access token", a.me(fifth.AccessToken), http.StatusOK, "")
		if got, want := listedIDs(a.sessions(t, fifth.AccessToken)), []string{sids[1], sids[3], sessionID(t, fifth.AccessToken)}; !slices.Equal(got, want) {
			t.Fatalf("sessions %q, want %q", got, want)
		}
		expect(t, "another user at the end", a.me(bob.AccessToken), http.StatusOK, "")
	})
}

// 2,000 logins of one user with the default MaxSessions (100): the session
// list keeps 100 entries and stays small, and every login past the limit
// ends exactly one session, with its event. On miniredis, whose Lua is slow
// under the race detector, 600 logins (redisstore's TestLimitBoundsIndexAndList
// makes the 2,000 there).
func TestSessionListBoundedByMaxSessions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, nil)
		logins := 2000
		if b.Mini != nil {
			logins = 600
		}
		limit := ginjwt.DefaultMaxSessions
		var last ginjwt.TokenResponse
		start := time.Now()
		for range logins {
			a.clock.Advance(time.Millisecond)
			last = a.login("alice")
		}
		took := time.Since(start)
		ended := map[string]bool{}
		for _, e := range revocations(a.events.take()) {
			if e.Reason != ginjwt.ReasonSessionLimit || e.Subject != "alice" || ended[e.SessionID] {
				t.Fatalf("revoke event %+v", e)
			}
			ended[e.SessionID] = true
		}
		if len(ended) != logins-limit {
			t.Fatalf("%d sessions ended by %d logins, want %d", len(ended), logins, logins-limit)
		}
		listStart := time.Now()
		r := a.do("GET", "/auth/sessions", "", "", "Authorization", "Bearer "+last.AccessToken)
		listTook := time.Since(listStart)
		list := a.sessions(t, last.AccessToken)
		if len(list) != limit {
			t.Fatalf("the list has %d sessions after %d logins, want %d", len(list), logins, limit)
		}
		for _, s := range list {
			if ended[s.ID] {
				t.Fatalf("the list shows ended session %s", s.ID)
			}
		}
		if len(r.body) > 32<<10 {
			t.Fatalf("the list of %d sessions is %d bytes", len(list), len(r.body))
		}
		t.Logf("%s: %d logins in %v (%v each); GET /auth/sessions: %d sessions, %d bytes, %v",
			b.Name, logins, took, took/time.Duration(logins), len(list), len(r.body), listTook)
	})
}

// New takes MaxSessions from 1 to 1,000, 0 meaning the default, and
// refuses anything else, naming the option.
func TestMaxSessionsOption(t *testing.T) {
	opts := func(n int) ginjwt.Options {
		return ginjwt.Options{Store: memstore.New(), Keys: []ginjwt.Key{ginjwt.HS256(testSecret)}, MaxSessions: n}
	}
	for _, n := range []int{-1, -100, 1001, 10_000, 1 << 40} {
		auth, err := ginjwt.New(opts(n))
		if err == nil || auth != nil {
			t.Fatalf("MaxSessions %d accepted", n)
		}
		if !errors.Is(err, ginjwt.ErrInvalidOptions) || !strings.Contains(err.Error(), "Options.MaxSessions") {
			t.Errorf("MaxSessions %d: error %q, want ErrInvalidOptions naming Options.MaxSessions", n, err)
		}
	}
	for _, n := range []int{0, 1, ginjwt.DefaultMaxSessions, 1000} {
		if _, err := ginjwt.New(opts(n)); err != nil {
			t.Errorf("MaxSessions %d refused: %v", n, err)
		}
	}
}

// MaxSessions 0 means DefaultMaxSessions: the 101st login ends the first
// session, and limit 1 keeps only the latest, on memstore.
func TestMaxSessionsDefault(t *testing.T) {
	for _, tc := range []struct {
		max, logins, ended int
	}{
		{0, ginjwt.DefaultMaxSessions, 0},
		{0, ginjwt.DefaultMaxSessions + 1, 1},
		{1, 3, 2},
	} {
		t.Run(fmt.Sprintf("MaxSessions %d, %d logins", tc.max, tc.logins), func(t *testing.T) {
			clk := newClock()
			var events []ginjwt.Event
			auth, err := ginjwt.New(ginjwt.Options{
				Store:        memstore.New(memstore.WithClock(clk.Now)),
				Keys:         []ginjwt.Key{ginjwt.HS256(testSecret)},
				Now:          clk.Now,
				MaxSessions:  tc.max,
				OnEvent:      func(e ginjwt.Event) { events = append(events, e) },
				Authenticate: func(*gin.Context) (ginjwt.Identity, error) { return ginjwt.Identity{Subject: "alice"}, nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			r := gin.New()
			r.POST("/login", auth.LoginHandler())
			r.GET("/me", auth.Middleware(), func(c *gin.Context) { c.Status(http.StatusNoContent) })
			var first, latest string
			for i := range tc.logins {
				clk.Advance(time.Millisecond)
				w := httptest.NewRecorder()
				r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/login", nil))
				if w.Code != http.StatusOK {
					t.Fatalf("login %d: %d %s", i+1, w.Code, w.Body)
				}
				var tok ginjwt.TokenResponse
				if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" {
					t.Fatalf("login %d: %s", i+1, w.Body)
				}
				if i == 0 {
					first = tok.AccessToken
				}
				latest = tok.AccessToken
			}
			status := func(access string) int {
				w := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodGet, "/me", nil)
				req.Header.Set("Authorization", "Bearer "+access)
				r.ServeHTTP(w, req)
				return w.Code
			}
			if got := len(revocations(events)); got != tc.ended {
				t.Fatalf("%d sessions ended, want %d", got, tc.ended)
			}
			want := http.StatusNoContent
			if tc.ended > 0 {
				want = http.StatusUnauthorized
			}
			if got := status(first); got != want {
				t.Fatalf("first session answers %d, want %d", got, want)
			}
			if got := status(latest); got != http.StatusNoContent {
				t.Fatalf("latest session answers %d", got)
			}
		})
	}
}
