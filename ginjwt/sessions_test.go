package ginjwt_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
)

// Absolute lifetime: refreshing every minute does not keep a session alive
// past SessionMaxAge.
func TestSessionMaxAge(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, func(o *ginjwt.Options) {
			o.AccessTTL, o.RefreshTTL, o.SessionMaxAge = time.Minute, 10*time.Minute, time.Hour
		})
		tok := a.login("alice")
		for range 59 {
			a.clock.Advance(time.Minute)
			tok = a.refresh(tok.RefreshToken).tokens(t)
		}
		expect(t, "59 minutes in", a.me(tok.AccessToken), http.StatusOK, "")
		a.clock.Advance(time.Minute)
		expectGrant(t, "refresh at max age", a.refresh(tok.RefreshToken), "session_expired")
		a.clock.Advance(time.Hour)
		expectGrant(t, "refresh long after max age", a.refresh(tok.RefreshToken), "session_expired")
	})
}

// At the absolute lifetime the guard answers session_expired too, for an
// access token whose own exp has not passed, so that clients can tell "log
// in again" from "revoked".
func TestSessionMaxAgeAtGuard(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, func(o *ginjwt.Options) { o.RefreshTTL, o.SessionMaxAge = time.Hour, time.Hour })
		tok := a.login("alice")
		a.clock.Advance(59 * time.Minute)
		tok = a.refresh(tok.RefreshToken).tokens(t)
		expect(t, "a minute before max age", a.me(tok.AccessToken), http.StatusOK, "")
		a.clock.Advance(time.Minute)
		r := a.me(tok.AccessToken)
		expect(t, "guard at max age, access token unexpired", r, http.StatusUnauthorized, "session_expired")
		if !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("session_expired without the RFC 6750 challenge: %q", r.header.Get("WWW-Authenticate"))
		}
		expectGrant(t, "refresh at max age", a.refresh(tok.RefreshToken), "session_expired")
	})
}

// Idle lifetime: without a refresh the session's state expires in Redis by
// its key TTL, and the refresh is refused.
func TestSessionIdleLifetime(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, func(o *ginjwt.Options) { o.AccessTTL, o.RefreshTTL = time.Second, 2*time.Second })
		tok := a.login("alice")
		keys := a.sessionKeys(t)
		if len(keys) != 1 {
			t.Fatalf("session keys %v, want one", keys)
		}
		if ttl := a.client.PTTL(ctx(t), keys[0]).Val(); ttl <= 0 || ttl > 2*time.Second {
			t.Fatalf("session key TTL %v, want (0, 2s]", ttl)
		}
		if b.Mini != nil {
			b.Mini.FastForward(2100 * time.Millisecond)
		} else {
			time.Sleep(2100 * time.Millisecond)
		}
		a.clock.Advance(2*time.Second + ginjwt.DefaultLeeway)
		if n := a.client.Exists(ctx(t), keys[0]).Val(); n != 0 {
			t.Fatalf("session key still exists after its idle lifetime")
		}
		expectGrant(t, "refresh after the idle lifetime", a.refresh(tok.RefreshToken), "token_expired")
	})
}

// sessionKeys lists the session keys under the app's prefix.
func (a *app) sessionKeys(t *testing.T) []string {
	var keys []string
	all, err := redistest.Keys(ctx(t), a.client, a.prefix+"*")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range all {
		if strings.Contains(k, "}:s:") {
			keys = append(keys, k)
		}
	}
	return keys
}

// Logout scopes across three devices and another user.
func TestLogoutScopes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, nil)
		phone, laptop, tablet, bob := a.loginAs("alice", "phone"), a.loginAs("alice", "laptop"), a.loginAs("alice", "tablet"), a.login("bob")

		expect(t, "logout others from the phone", a.logoutScope(phone.AccessToken, "others"), http.StatusNoContent, "")
		expect(t, "phone", a.me(phone.AccessToken), http.StatusOK, "")
		expect(t, "laptop", a.me(laptop.AccessToken), http.StatusUnauthorized, "token_revoked")
		expect(t, "tablet", a.me(tablet.AccessToken), http.StatusUnauthorized, "token_revoked")
		expectGrant(t, "tablet refresh", a.refresh(tablet.RefreshToken), "token_revoked")
		expect(t, "bob", a.me(bob.AccessToken), http.StatusOK, "")

		expect(t, "a dead token cannot log out others", a.logoutScope(laptop.AccessToken, "global"), http.StatusUnauthorized, "token_revoked")
		expect(t, "phone after the refused global logout", a.me(phone.AccessToken), http.StatusOK, "")

		desk := a.loginAs("alice", "desk")
		body, _ := json.Marshal(map[string]string{"refresh_token": desk.RefreshToken, "scope": "global"})
		expect(t, "global logout with the refresh token alone", a.do("POST", "/auth/logout", "application/json", string(body)), http.StatusNoContent, "")
		expect(t, "phone after global", a.me(phone.AccessToken), http.StatusUnauthorized, "token_revoked")
		expect(t, "desk after global", a.me(desk.AccessToken), http.StatusUnauthorized, "token_revoked")
		expect(t, "bob after global", a.me(bob.AccessToken), http.StatusOK, "")
		expect(t, "bob refreshes", a.refresh(bob.RefreshToken), http.StatusOK, "")
	})
}

// RevokeOtherSessions from Go keeps exactly one session.
func TestRevokeOtherSessions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, nil)
		keep, drop := a.login("alice"), a.login("alice")
		if err := a.auth.RevokeOtherSessions(ctx(t), "alice", sessionID(t, keep.AccessToken)); err != nil {
			t.Fatal(err)
		}
		expect(t, "kept", a.me(keep.AccessToken), http.StatusOK, "")
		expect(t, "dropped", a.me(drop.AccessToken), http.StatusUnauthorized, "token_revoked")
	})
}

// The session list shows exactly the live sessions with their metadata, and
// nobody can list or end another user's sessions.
func TestSessionList(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, nil)
		start := a.clock.Now()
		phone := a.loginAs("alice", "phone")
		a.clock.Advance(time.Minute)
		laptop := a.loginAs("alice", "laptop")
		tablet := a.loginAs("alice", "tablet")
		bob := a.login("bob")
		a.clock.Advance(time.Minute)
		phone = a.refresh(phone.RefreshToken).tokens(t)
		expect(t, "logout tablet", a.logoutWithAccess(tablet.AccessToken), http.StatusNoContent, "")

		list := a.sessions(t, laptop.AccessToken)
		if len(list) != 2 {
			t.Fatalf("sessions %+v, want phone and laptop", list)
		}
		p, l := list[0], list[1]
		if p.ID != sessionID(t, phone.AccessToken) || l.ID != sessionID(t, laptop.AccessToken) {
			t.Fatalf("sessions %+v, want phone then laptop", list)
		}
		// The phone refreshed with another client: IP and User-Agent are those of the last refresh.
		if p.Device != "phone" || l.Device != "laptop" || p.UserAgent != "Go-http-client/1.1" || l.UserAgent != "test-agent/laptop" || p.IP != "127.0.0.1" {
			t.Errorf("metadata %+v", list)
		}
		if !p.Created.Equal(start) || !p.LastRefresh.Equal(start.Add(2*time.Minute)) {
			t.Errorf("phone created %v, last refresh %v; want %v and %v", p.Created, p.LastRefresh, start, start.Add(2*time.Minute))
		}
		if !l.LastRefresh.Equal(l.Created) {
			t.Errorf("laptop never refreshed but last refresh %v != created %v", l.LastRefresh, l.Created)
		}
		if p.Current || !l.Current {
			t.Errorf("current marks: phone %v laptop %v, want the laptop only", p.Current, l.Current)
		}

		bobList := a.sessions(t, bob.AccessToken)
		if len(bobList) != 1 || bobList[0].ID != sessionID(t, bob.AccessToken) {
			t.Fatalf("bob sees %+v", bobList)
		}
		r := a.do("DELETE", "/auth/sessions/"+p.ID, "", "", "Authorization", "Bearer "+bob.AccessToken)
		expect(t, "bob ends alice's session", r, http.StatusNotFound, "session_not_found")
		expect(t, "alice's phone after bob's attempt", a.me(phone.AccessToken), http.StatusOK, "")

		r = a.do("DELETE", "/auth/sessions/"+p.ID, "", "", "Authorization", "Bearer "+laptop.AccessToken)
		expect(t, "the laptop ends the phone", r, http.StatusNoContent, "")
		expect(t, "phone after", a.me(phone.AccessToken), http.StatusUnauthorized, "token_revoked")
		if list := a.sessions(t, laptop.AccessToken); len(list) != 1 || list[0].ID != l.ID {
			t.Fatalf("after ending the phone: %+v", list)
		}
		r = a.do("DELETE", "/auth/sessions/"+p.ID, "", "", "Authorization", "Bearer "+laptop.AccessToken)
		expect(t, "ending it again", r, http.StatusNotFound, "session_not_found")
		expect(t, "listing without a token", a.do("GET", "/auth/sessions", "", ""), http.StatusUnauthorized, "token_missing")

		if err := a.auth.RevokeUser(ctx(t), "alice"); err != nil {
			t.Fatal(err)
		}
		if list, err := a.auth.Sessions(ctx(t), "alice"); err != nil || len(list) != 0 {
			t.Fatalf("sessions after RevokeUser: %+v, %v", list, err)
		}
	})
}

func (a *app) sessions(t *testing.T, access string) []ginjwt.SessionView {
	t.Helper()
	r := a.do("GET", "/auth/sessions", "", "", "Authorization", "Bearer "+access)
	if r.status != http.StatusOK {
		t.Fatalf("list sessions: %d %s", r.status, r.body)
	}
	var res ginjwt.SessionsResponse
	if err := json.Unmarshal(r.body, &res); err != nil {
		t.Fatal(err)
	}
	return res.Sessions
}

// Roles: a missing role is 403, the right one passes, a tampered one is 401.
func TestRequireRole(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, nil)
		alice, bob := a.login("alice"), a.login("bob")
		expect(t, "admin", a.do("GET", "/api/admin", "", "", "Authorization", "Bearer "+alice.AccessToken), http.StatusNoContent, "")
		r := a.do("GET", "/api/admin", "", "", "Authorization", "Bearer "+bob.AccessToken)
		expect(t, "not an admin", r, http.StatusForbidden, "insufficient_scope")
		if h := r.header.Get("WWW-Authenticate"); !strings.Contains(h, `error="insufficient_scope"`) {
			t.Errorf("WWW-Authenticate %q", h)
		}
		parts := strings.Split(bob.AccessToken, ".")
		payload := strings.Replace(claimsOf(t, bob.AccessToken), `"roles":["user"]`, `"roles":["admin"]`, 1)
		tampered := parts[0] + "." + b64(payload) + "." + parts[2]
		expect(t, "tampered role", a.do("GET", "/api/admin", "", "", "Authorization", "Bearer "+tampered), http.StatusUnauthorized, "token_invalid")

		bob = a.refresh(bob.RefreshToken).tokens(t)
		expect(t, "roles survive a refresh", a.do("GET", "/api/admin", "", "", "Authorization", "Bearer "+bob.AccessToken), http.StatusForbidden, "insufficient_scope")
	})
}

func TestRequireScope(t *testing.T) {
	c := &ginjwt.Claims{Scope: "read write"}
	for _, tc := range []struct {
		scopes []string
		want   bool
	}{{[]string{"read"}, true}, {[]string{"read", "write"}, true}, {[]string{"admin"}, false}, {[]string{"read", "admin"}, false}, {nil, true}} {
		if err := ginjwt.RequireScope(tc.scopes...)(c); (err == nil) != tc.want || err != nil && !errors.Is(err, ginjwt.ErrInsufficientScope) {
			t.Errorf("RequireScope(%v) = %v", tc.scopes, err)
		}
	}
	if ginjwt.RequireRole("admin")(&ginjwt.Claims{Roles: []string{"user"}}) != ginjwt.ErrInsufficientScope || ginjwt.RequireRole("x", "admin")(&ginjwt.Claims{Roles: []string{"admin"}}) != nil {
		t.Error("RequireRole")
	}
}

// Every action emits exactly one event with the right fields and no token.
func TestEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, func(o *ginjwt.Options) { o.RefreshRetries = ginjwt.NoRetries })
		var tokens []string
		check := func(what string, want ...ginjwt.Event) {
			t.Helper()
			got := a.events.take()
			if len(got) != len(want) {
				t.Fatalf("%s: events %+v, want %d", what, got, len(want))
			}
			for i, w := range want {
				g := got[i]
				if g.Kind != w.Kind || g.Subject != w.Subject || g.SessionID != w.SessionID || g.Reason != w.Reason || g.Device != w.Device {
					t.Errorf("%s: event %+v, want %+v", what, g, w)
				}
				if g.Time.IsZero() {
					t.Errorf("%s: event without time", what)
				}
				text, _ := json.Marshal(g)
				for _, tok := range tokens {
					for _, part := range strings.Split(tok, ".") {
						if strings.Contains(string(text), part) {
							t.Errorf("%s: event carries token text", what)
						}
					}
				}
			}
		}
		phone := a.loginAs("alice", "phone")
		tokens = append(tokens, phone.AccessToken, phone.RefreshToken)
		sid := sessionID(t, phone.AccessToken)
		check("login", ginjwt.Event{Kind: ginjwt.EventLogin, Subject: "alice", SessionID: sid, Device: "phone"})
		if e := a.do("POST", "/auth/login", "application/json", `{"username":"alice","password":"wrong"}`); e.status != 401 {
			t.Fatal(e.status)
		}
		check("failed login", ginjwt.Event{Kind: ginjwt.EventLoginFailed, Reason: "invalid_credentials"})

		next := a.refresh(phone.RefreshToken).tokens(t)
		tokens = append(tokens, next.AccessToken, next.RefreshToken)
		check("refresh", ginjwt.Event{Kind: ginjwt.EventRefresh, Subject: "alice", SessionID: sid})
		a.refresh(phone.RefreshToken).tokens(t)
		check("converged refresh", ginjwt.Event{Kind: ginjwt.EventRefresh, Subject: "alice", SessionID: sid, Reason: "converged"})
		a.clock.Advance(time.Minute)
		a.refresh(phone.RefreshToken)
		check("reuse", ginjwt.Event{Kind: ginjwt.EventReuseDetected, Subject: "alice", SessionID: sid})

		laptop := a.login("alice")
		tokens = append(tokens, laptop.AccessToken, laptop.RefreshToken)
		lsid := sessionID(t, laptop.AccessToken)
		a.events.take()
		a.logoutWithRefresh(laptop.RefreshToken)
		check("logout", ginjwt.Event{Kind: ginjwt.EventLogout, Subject: "alice", SessionID: lsid, Reason: "local"})

		desk := a.login("alice")
		a.events.take()
		a.logoutScope(desk.AccessToken, "global")
		check("global logout", ginjwt.Event{Kind: ginjwt.EventLogout, Subject: "alice", SessionID: sessionID(t, desk.AccessToken), Reason: "global"})

		_ = a.auth.RevokeUser(ctx(t), "bob")
		check("revoke user", ginjwt.Event{Kind: ginjwt.EventRevoke, Subject: "bob", Reason: "user"})
		_ = a.auth.RevokeSession(ctx(t), "bob", "abc")
		check("revoke session", ginjwt.Event{Kind: ginjwt.EventRevoke, Subject: "bob", SessionID: "abc", Reason: "session"})
		_ = a.auth.RevokeOtherSessions(ctx(t), "bob", "abc")
		check("revoke others", ginjwt.Event{Kind: ginjwt.EventRevoke, Subject: "bob", SessionID: "abc", Reason: "others"})

		a.me("garbage")
		check("a refused guard request emits nothing")
		if !slices.ContainsFunc(tokens, func(s string) bool { return s != "" }) {
			t.Fatal("no tokens collected")
		}
	})
}
