package bench

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/ginjwt/dpoptest"
)

// dpopBase is the external URL the DPoP benchmarks' proofs name.
const dpopBase = "https://bench.example"

// proofsPerSession is how many requests of the DPoP benchmarks use one
// session: fewer than the default DPoPOptions.ProofsPerSession (128), the
// most proofs a session may present within the proof window.
const proofsPerSession = 100

// dpopGuard returns an app in cfg with DPoP on and b.N + 1 requests, each
// with a fresh proof, over DPoP-bound sessions of proofsPerSession
// requests each. The proofs are signed before the timer starts: what is
// timed is the server's work.
func dpopGuard(b *testing.B, cfg ourConfig) (*ourApp, []*http.Request) {
	cfg.dpop = true
	a := newOurApp(b, cfg)
	client := dpoptest.NewKey()
	reqs := make([]*http.Request, b.N+1)
	var access string
	for i := range reqs {
		if i%proofsPerSession == 0 {
			login := loginRequest(subject)
			login.Header.Set("DPoP", client.Proof(http.MethodPost, dpopBase+"/auth/login", ""))
			w := httptest.NewRecorder()
			a.engine.ServeHTTP(w, login)
			var tr ginjwt.TokenResponse
			if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &tr) != nil || tr.TokenType != "DPoP" {
				b.Fatalf("DPoP login answered %d %s", w.Code, w.Body)
			}
			access = tr.AccessToken
		}
		req := httptest.NewRequest(http.MethodGet, pingPath, nil)
		req.Header.Set("Authorization", "DPoP "+access)
		req.Header.Set("DPoP", client.Proof(http.MethodGet, dpopBase+pingPath, access))
		reqs[i] = req
	}
	return a, reqs
}

// runDPoPServe serves each request once; a proof is good for one request.
func runDPoPServe(b *testing.B, a *ourApp, reqs []*http.Request) {
	if code := serve(a.engine, reqs[0]); code != http.StatusNoContent {
		b.Fatalf("guard answered %d to a bound request", code)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := a.trips.load()
	for i := 1; i <= b.N; i++ {
		if code := serve(a.engine, reqs[i]); code != http.StatusNoContent {
			b.Fatalf("guard answered %d to a bound request", code)
		}
	}
	b.StopTimer()
	reportTrips(b, a.trips, start)
	if code := serve(a.engine, reqs[b.N]); code != http.StatusUnauthorized {
		b.Fatalf("a replayed proof got %d", code)
	}
}

// BenchmarkOurGuardDPoPCold: a DPoP-bound access token with a fresh ES256
// proof per request, token cache off: the token's verification, the
// proof's (an ECDSA verify) and one round trip, the replay check with the
// state read in one script.
func BenchmarkOurGuardDPoPCold(b *testing.B) {
	a, reqs := dpopGuard(b, coldConfig)
	runDPoPServe(b, a, reqs)
}

// BenchmarkOurGuardDPoPWarm: as cold with the token cache and the
// near-cache on. The near-cache cannot answer a proof's replay check: a
// bound request still costs its round trip.
func BenchmarkOurGuardDPoPWarm(b *testing.B) {
	a, reqs := dpopGuard(b, warmConfig)
	runDPoPServe(b, a, reqs)
}
