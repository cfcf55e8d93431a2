package ginjwt_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
)

// Login → guarded 200 → refresh → old access token revoked, new one works.
func TestRefreshRevokesPreviousAccessToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, nil)
		first := a.login("alice")
		expect(t, "fresh access token", a.me(first.AccessToken), http.StatusOK, "")

		second := a.refresh(first.RefreshToken).tokens(t)
		expect(t, "old access token after refresh", a.me(first.AccessToken), http.StatusUnauthorized, "token_revoked")
		expect(t, "new access token", a.me(second.AccessToken), http.StatusOK, "")

		third := a.refreshForm(second.RefreshToken).tokens(t)
		expect(t, "second access token after form refresh", a.me(second.AccessToken), http.StatusUnauthorized, "token_revoked")
		expect(t, "third access token", a.me(third.AccessToken), http.StatusOK, "")
	})
}

// The rotated refresh token presented again after the grace window, with no
// retries allowed, is reuse: 401 refresh_reused, and the tokens of the
// rotation die with the session. Within the window it converges on the
// current generation.
func TestRefreshReuseRevokesSession(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, func(o *ginjwt.Options) { o.RefreshRetries = ginjwt.NoRetries })
		first := a.login("alice")
		second := a.refresh(first.RefreshToken).tokens(t)

		again := a.refresh(first.RefreshToken).tokens(t) // within grace
		if g1, g2 := generation(t, second.AccessToken), generation(t, again.AccessToken); g1 != g2 {
			t.Fatalf("refresh within grace gave generation %d, rotation gave %d", g2, g1)
		}
		expect(t, "pair from grace refresh", a.me(again.AccessToken), http.StatusOK, "")

		a.clock.Advance(ginjwt.DefaultRefreshGrace + time.Second)
		expectGrant(t, "rotated refresh token after grace", a.refresh(first.RefreshToken), "refresh_reused")
		expect(t, "access token of the rotation", a.me(second.AccessToken), http.StatusUnauthorized, "token_revoked")
		expectGrant(t, "refresh token of the rotation", a.refresh(second.RefreshToken), "token_revoked")
		expect(t, "access token of the grace refresh", a.me(again.AccessToken), http.StatusUnauthorized, "token_revoked")
	})
}

// A mobile app holding only its refresh token logs out; the session's
// tokens die and a second logout is still 204.
func TestLogoutWithRefreshTokenOnly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, nil)
		tok := a.login("alice")
		expect(t, "logout", a.logoutWithRefresh(tok.RefreshToken), http.StatusNoContent, "")
		expect(t, "access token after logout", a.me(tok.AccessToken), http.StatusUnauthorized, "token_revoked")
		expectGrant(t, "refresh token after logout", a.refresh(tok.RefreshToken), "token_revoked")
		expect(t, "second logout", a.logoutWithRefresh(tok.RefreshToken), http.StatusNoContent, "")
		expect(t, "logout with the dead access token", a.logoutWithAccess(tok.AccessToken), http.StatusNoContent, "")
	})
}

// Logout with the access token alone, even after it expired, ends the session.
func TestLogoutWithExpiredAccessToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, nil)
		tok := a.login("alice")
		a.clock.Advance(ginjwt.DefaultAccessTTL + time.Minute)
		expect(t, "expired access token", a.me(tok.AccessToken), http.StatusUnauthorized, "token_expired")
		expect(t, "logout", a.logoutWithAccess(tok.AccessToken), http.StatusNoContent, "")
		expectGrant(t, "refresh after logout", a.refresh(tok.RefreshToken), "token_revoked")
	})
}

// Two devices of one user and another user: refresh and logout on one
// device leave the rest working; RevokeUser ends both devices only.
func TestDevicesAreIndependent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, nil)
		phone, laptop, bob := a.login("alice"), a.login("alice"), a.login("bob")

		phone = a.refresh(phone.RefreshToken).tokens(t)
		expect(t, "laptop after phone refresh", a.me(laptop.AccessToken), http.StatusOK, "")
		laptop = a.refresh(laptop.RefreshToken).tokens(t)
		expect(t, "phone after laptop refresh", a.me(phone.AccessToken), http.StatusOK, "")

		tablet := a.login("alice")
		expect(t, "logout tablet", a.logoutWithRefresh(tablet.RefreshToken), http.StatusNoContent, "")
		expect(t, "tablet after logout", a.me(tablet.AccessToken), http.StatusUnauthorized, "token_revoked")
		expect(t, "phone after tablet logout", a.me(phone.AccessToken), http.StatusOK, "")
		expect(t, "laptop after tablet logout", a.me(laptop.AccessToken), http.StatusOK, "")

		if err := a.auth.RevokeUser(ctx(t), "alice"); err != nil {
			t.Fatal(err)
		}
		expect(t, "phone after RevokeUser", a.me(phone.AccessToken), http.StatusUnauthorized, "token_revoked")
		expect(t, "laptop after RevokeUser", a.me(laptop.AccessToken), http.StatusUnauthorized, "token_revoked")
		expectGrant(t, "laptop refresh after RevokeUser", a.refresh(laptop.RefreshToken), "token_revoked")
		expect(t, "bob throughout", a.me(bob.AccessToken), http.StatusOK, "")
		bob = a.refresh(bob.RefreshToken).tokens(t)
		expect(t, "bob after his refresh", a.me(bob.AccessToken), http.StatusOK, "")

		again := a.login("alice")
		expect(t, "alice logs in again", a.me(again.AccessToken), http.StatusOK, "")
	})
}

// RevokeSession ends one session from Go.
func TestRevokeSession(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, nil)
		one, two := a.login("alice"), a.login("alice")
		sid := sessionID(t, one.AccessToken)
		if err := a.auth.RevokeSession(ctx(t), "alice", sid); err != nil {
			t.Fatal(err)
		}
		expect(t, "revoked session", a.me(one.AccessToken), http.StatusUnauthorized, "token_revoked")
		expect(t, "other session", a.me(two.AccessToken), http.StatusOK, "")
		if err := a.auth.RevokeSession(ctx(t), "alice", sid); err != nil {
			t.Fatalf("revoking twice: %v", err)
		}
	})
}

// Fifty concurrent refreshes with one refresh token.
func TestConcurrentRefresh(t *testing.T) {
	const n = 50
	run := func(t *testing.T, a *app) (wins []ginjwt.TokenResponse, losses []response) {
		tok := a.login("alice")
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := a.refresh(tok.RefreshToken)
				mu.Lock()
				defer mu.Unlock()
				if r.status == http.StatusOK {
					var tr ginjwt.TokenResponse
					if err := json.Unmarshal(r.body, &tr); err != nil {
						t.Error(err)
					}
					wins = append(wins, tr)
				} else {
					losses = append(losses, r)
				}
			}()
		}
		close(start)
		wg.Wait()
		return wins, losses
	}
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		t.Run("default grace", func(t *testing.T) {
			a := newApp(t, b, nil)
			wins, losses := run(t, a)
			if len(wins) != n {
				t.Fatalf("%d of %d refreshes succeeded; first failure %d %s", len(wins), n, losses[0].status, losses[0].body)
			}
			for _, w := range wins {
				if g := generation(t, w.AccessToken); g != 2 {
					t.Fatalf("a refresh gave generation %d, want 2 for all", g)
				}
			}
			expect(t, "a converged access token", a.me(wins[n-1].AccessToken), http.StatusOK, "")
			next := a.refresh(wins[0].RefreshToken).tokens(t)
			expect(t, "session after the storm", a.me(next.AccessToken), http.StatusOK, "")
		})
		t.Run("no grace", func(t *testing.T) {
			a := newApp(t, b, func(o *ginjwt.Options) { o.RefreshGrace = ginjwt.NoGrace })
			wins, losses := run(t, a)
			if len(wins) != 1 {
				t.Fatalf("%d refreshes succeeded, want exactly 1", len(wins))
			}
			for _, l := range losses {
				expectGrant(t, "a losing refresh", l, "token_revoked")
			}
			expect(t, "winner's access token", a.me(wins[0].AccessToken), http.StatusOK, "")
			next := a.refresh(wins[0].RefreshToken).tokens(t)
			expect(t, "winner's next access token", a.me(next.AccessToken), http.StatusOK, "")
		})
	})
}

// generation reads the "gen" claim of a token without verifying it.
func generation(t *testing.T, token string) int64 {
	return unverifiedClaims(t, token).Generation
}

// sessionID reads the "sid" claim of a token without verifying it.
func sessionID(t *testing.T, token string) string {
	return unverifiedClaims(t, token).SessionID
}

func unverifiedClaims(t *testing.T, token string) *ginjwt.Claims {
	t.Helper()
	var c ginjwt.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
		t.Fatalf("parse: %v", err)
	}
	return &c
}
