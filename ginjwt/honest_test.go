package ginjwt_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
)

// A refresh whose response is lost (the server rotated, the client never
// heard) is retried long after the grace window with the same refresh
// token: the client gets a pair for the current generation and stays signed
// in, and the event says "retry". Past RefreshRetries lost responses, the
// replaced token is reuse.
func TestLostRefreshResponseIsRetried(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, nil)
		tok := a.login("alice")
		a.events.take()
		for i := range ginjwt.DefaultRefreshRetries {
			lost := a.refresh(tok.RefreshToken) // the server rotates; the response never arrives
			expect(t, "the refresh whose response is lost", lost, http.StatusOK, "")
			a.clock.Advance(2 * ginjwt.DefaultRefreshGrace)
			retried := a.refresh(tok.RefreshToken)
			expect(t, "the retry with the same refresh token", retried, http.StatusOK, "")
			next := retried.tokens(t)
			if g, want := generation(t, next.AccessToken), generation(t, lost.tokens(t).AccessToken); g != want {
				t.Fatalf("retry %d: generation %d, want the current %d", i+1, g, want)
			}
			expect(t, "the retry's access token", a.me(next.AccessToken), http.StatusOK, "")
			events := a.events.take()
			if last := events[len(events)-1]; last.Kind != ginjwt.EventRefresh || last.Reason != "retry" {
				t.Fatalf("retry %d: event %+v, want a refresh with reason retry", i+1, last)
			}
			tok = next
			a.clock.Advance(time.Minute)
		}
		lost := a.refresh(tok.RefreshToken)
		expect(t, "one more lost response", lost, http.StatusOK, "")
		a.clock.Advance(2 * ginjwt.DefaultRefreshGrace)
		expectGrant(t, "a retry past the bound", a.refresh(tok.RefreshToken), "refresh_reused")
		expect(t, "the session after reuse", a.me(lost.tokens(t).AccessToken), http.StatusUnauthorized, "token_revoked")
	})
}

// A thief holding a replaced refresh token and the honest client take turns:
// the retry bound ends the session within RefreshRetries turns of the thief.
func TestThiefAndClientTakingTurns(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, nil)
		stolen := a.login("alice").RefreshToken
		honest := a.refresh(stolen).tokens(t).RefreshToken
		for turn := 1; ; turn++ {
			a.clock.Advance(time.Minute)
			r := a.refresh(stolen)
			if r.status != http.StatusOK {
				expectGrant(t, "the thief, caught", r, "refresh_reused")
				if turn > ginjwt.DefaultRefreshRetries+1 {
					t.Fatalf("the thief got %d turns, the bound is %d", turn-1, ginjwt.DefaultRefreshRetries)
				}
				break
			}
			stolen = r.tokens(t).RefreshToken
			a.clock.Advance(time.Minute)
			honest = a.refresh(honest).tokens(t).RefreshToken
		}
		expectGrant(t, "the honest client after the thief is caught", a.refresh(honest), "token_revoked")
	})
}

// Only the session's current tokens can log it out: an access token of an
// older generation (one that leaked into a log) is refused and changes
// nothing; the refresh token the last rotation replaced (a lost response)
// still logs out; an older refresh token is reuse.
func TestLogoutWithStaleTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, nil)
		first := a.login("alice")
		second := a.refresh(first.RefreshToken).tokens(t)
		a.clock.Advance(time.Minute)
		third := a.refresh(second.RefreshToken).tokens(t)

		expect(t, "logout with a stale access token", a.logoutWithAccess(first.AccessToken), http.StatusUnauthorized, "token_revoked")
		expect(t, "the session after it", a.me(third.AccessToken), http.StatusOK, "")
		expect(t, "logout with the previous refresh token", a.logoutWithRefresh(second.RefreshToken), http.StatusNoContent, "")
		expect(t, "the session after it", a.me(third.AccessToken), http.StatusUnauthorized, "token_revoked")

		// An older refresh token ends the session as reuse.
		a2 := a.login("alice")
		next := a.refresh(a2.RefreshToken).tokens(t)
		a.clock.Advance(time.Minute)
		last := a.refresh(next.RefreshToken).tokens(t)
		a.events.take()
		expect(t, "logout with an older refresh token", a.logoutWithRefresh(a2.RefreshToken), http.StatusUnauthorized, "refresh_reused")
		expect(t, "the session after it", a.me(last.AccessToken), http.StatusUnauthorized, "token_revoked")
		if ev := a.events.take(); len(ev) != 1 || ev[0].Kind != ginjwt.EventReuseDetected {
			t.Fatalf("events %+v, want one reuse_detected", ev)
		}
		// The current access token, expired, still logs out.
		a3 := a.login("alice")
		a.clock.Advance(time.Hour)
		expect(t, "logout with an expired current access token", a.logoutWithAccess(a3.AccessToken), http.StatusNoContent, "")
		expectGrant(t, "refresh after it", a.refresh(a3.RefreshToken), "token_revoked")
	})
}

// A store that lost a rotation (a failover) leaves the client a generation
// ahead: its newest refresh token heals the session instead of counting as
// reuse, and the generation the store fell back to is refused again.
func TestClientAheadOfStoreHeals(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, nil)
		first := a.login("alice")
		a.clock.Advance(time.Minute)
		second := a.refresh(first.RefreshToken).tokens(t)
		rollBack(t, a, "alice", sessionID(t, second.AccessToken), 1) // the rotation is lost

		expect(t, "the newest access token, ahead of the store", a.me(second.AccessToken), http.StatusUnauthorized, "token_revoked")
		a.events.take()
		healed := a.refresh(second.RefreshToken)
		expect(t, "the newest refresh token", healed, http.StatusOK, "")
		tok := healed.tokens(t)
		expect(t, "the healed session", a.me(tok.AccessToken), http.StatusOK, "")
		expect(t, "the generation the store fell back to", a.me(first.AccessToken), http.StatusUnauthorized, "token_revoked")
		if ev := a.events.take(); len(ev) != 1 || ev[0].Kind != ginjwt.EventRefresh || ev[0].Reason != "healed" {
			t.Fatalf("events %+v, want one refresh with reason healed", ev)
		}
	})
}

// rollBack sets a session's generation in Redis behind the store's back, as
// a failover to a replica that missed a rotation would.
func rollBack(t *testing.T, a *app, subject, sessionID string, generation int64) {
	t.Helper()
	keys, err := redistest.Keys(t.Context(), a.client, a.prefix+"*:s:"+sessionID)
	if err != nil || len(keys) != 1 {
		t.Fatalf("session key of %s: %v, %v", sessionID, keys, err)
	}
	if err := a.client.HSet(t.Context(), keys[0], "g", generation).Err(); err != nil {
		t.Fatal(err)
	}
}
