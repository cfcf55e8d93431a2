package ginjwt_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/internal/redistest"
)

// Redis unreachable: guarded routes, refresh and login answer 503
// store_unavailable; when Redis is back the same requests succeed without
// restarting the app.
func TestStoreUnavailable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		if b.IsCluster() {
			t.Skip("the proxy stands in for one node; TestClusterFailover takes a cluster node down")
		}
		proxy := redistest.NewProxy(t, b.Addr)
		a := newAppAt(t, redistest.Backend{Name: b.Name, Addr: proxy.Addr()}, redistest.Prefix(t, b), nil)
		tok := a.login("alice")
		expect(t, "before the outage", a.me(tok.AccessToken), http.StatusOK, "")

		proxy.Down()
		r := a.me(tok.AccessToken)
		expect(t, "guard during the outage", r, http.StatusServiceUnavailable, "store_unavailable")
		if r.header.Get("WWW-Authenticate") != "" {
			t.Error("a 503 must not carry a WWW-Authenticate challenge")
		}
		expect(t, "refresh during the outage", a.refresh(tok.RefreshToken), http.StatusServiceUnavailable, "store_unavailable")
		expect(t, "login during the outage",
			a.do("POST", "/auth/login", "application/json", `{"username":"alice","password":"alice-pw"}`),
			http.StatusServiceUnavailable, "store_unavailable")
		expect(t, "logout during the outage", a.logoutWithRefresh(tok.RefreshToken), http.StatusServiceUnavailable, "store_unavailable")

		proxy.Up()
		deadline := time.Now().Add(time.Second)
		for {
			r := a.me(tok.AccessToken)
			if r.status == http.StatusOK {
				break
			}
			if r.status != http.StatusServiceUnavailable || time.Now().After(deadline) {
				t.Fatalf("after the outage: got %d %s, want 200 within 1s", r.status, r.body)
			}
			time.Sleep(20 * time.Millisecond)
		}
		next := a.refresh(tok.RefreshToken).tokens(t)
		expect(t, "refreshed after the outage", a.me(next.AccessToken), http.StatusOK, "")
	})
}
