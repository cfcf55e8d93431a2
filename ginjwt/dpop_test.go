package ginjwt_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/ginjwt/dpoptest"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/memstore"
)

// dpopBase is the external URL of the DPoP test apps: proofs name it, not
// the test server's address, as clients behind a proxy do.
const dpopBase = "https://api.example.test"

// dpopKey is a client's DPoP key, whose proofs are issued at the app's
// clock.
type dpopKey struct{ *dpoptest.Key }

func newDPoPKey(*testing.T) dpopKey { return dpopKey{dpoptest.NewKey()} }

// proof signs a DPoP proof for method and path at the app's time, made for
// accessToken when not empty; change may alter the claims before signing.
func (k dpopKey) proof(t *testing.T, a *app, method, path, accessToken string, change ...func(map[string]any)) string {
	return k.Proof(method, dpopBase+path, accessToken, append([]func(map[string]any){dpoptest.IssuedAt(a.clock.Now())}, change...)...)
}

func withDPoP(mode ginjwt.DPoPMode) func(*ginjwt.Options) {
	return func(o *ginjwt.Options) { o.DPoP = ginjwt.DPoPOptions{Mode: mode, BaseURL: dpopBase} }
}

// dpopLogin logs alice in with a proof of k.
func (a *app) dpopLogin(k dpopKey) ginjwt.TokenResponse {
	a.t.Helper()
	return a.do("POST", "/auth/login", "application/json", `{"username":"alice","password":"alice-pw"}`,
		"DPoP", k.proof(a.t, a, "POST", "/auth/login", "")).tokens(a.t)
}

func (a *app) dpopRefresh(refreshToken, proof string) response {
	body, _ := json.Marshal(map[string]string{"refresh_token": refreshToken})
	if proof == "" {
		return a.do("POST", "/auth/refresh", "application/json", string(body))
	}
	return a.do("POST", "/auth/refresh", "application/json", string(body), "DPoP", proof)
}

// cnfOf returns the cnf.Thumbprint() of a token, "" when it has none.
func cnfOf(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Cnf *struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	if c.Cnf == nil {
		return ""
	}
	return c.Cnf.JKT
}

// expectDPoPChallenge fails unless r is a 401 with code and a DPoP
// challenge naming error.
func expectDPoPChallenge(t *testing.T, what string, r response, code, challengeError string) {
	t.Helper()
	expect(t, what, r, http.StatusUnauthorized, code)
	var found bool
	for _, h := range r.header.Values("WWW-Authenticate") {
		found = found || strings.HasPrefix(h, "DPoP ") && strings.Contains(h, `error="`+challengeError+`"`) && strings.Contains(h, `algs="ES256 EdDSA Ed25519 RS256 PS256"`)
	}
	if !found {
		t.Fatalf("%s: WWW-Authenticate %q lacks the DPoP challenge with error %s", what, r.header.Values("WWW-Authenticate"), challengeError)
	}
}

// A login with a proof binds the session: its tokens carry the key's
// thumbprint and work only with a fresh proof of that key, made for the
// request and the token.
func TestDPoPBoundAccess(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, withDPoP(ginjwt.DPoPOptional))
		k, other := newDPoPKey(t), newDPoPKey(t)
		tr := a.dpopLogin(k)
		if tr.TokenType != "DPoP" || cnfOf(t, tr.AccessToken) != k.Thumbprint() || cnfOf(t, tr.RefreshToken) != k.Thumbprint() {
			t.Fatalf("token_type %q, cnf.Thumbprint() %q / %q; want DPoP bound to %q", tr.TokenType, cnfOf(t, tr.AccessToken), cnfOf(t, tr.RefreshToken), k.Thumbprint())
		}
		get := func(proof string, header ...string) response {
			h := append([]string{"Authorization", "DPoP " + tr.AccessToken}, header...)
			if proof != "" {
				h = append(h, "DPoP", proof)
			}
			return a.do("GET", "/api/me", "", "", h...)
		}
		good := k.proof(t, a, "GET", "/api/me", tr.AccessToken)
		expect(t, "a fresh proof", get(good), http.StatusOK, "")
		expectDPoPChallenge(t, "the same proof again", get(good), "invalid_dpop_proof", "invalid_dpop_proof")
		expectDPoPChallenge(t, "no proof", get(""), "invalid_dpop_proof", "invalid_dpop_proof")
		expectDPoPChallenge(t, "another key's proof", get(other.proof(t, a, "GET", "/api/me", tr.AccessToken)), "invalid_dpop_proof", "invalid_dpop_proof")
		expectDPoPChallenge(t, "wrong method", get(k.proof(t, a, "POST", "/api/me", tr.AccessToken)), "invalid_dpop_proof", "invalid_dpop_proof")
		expectDPoPChallenge(t, "wrong path", get(k.proof(t, a, "GET", "/api/admin", tr.AccessToken)), "invalid_dpop_proof", "invalid_dpop_proof")
		expectDPoPChallenge(t, "no ath", get(k.proof(t, a, "GET", "/api/me", "")), "invalid_dpop_proof", "invalid_dpop_proof")
		expectDPoPChallenge(t, "an old proof", get(k.proof(t, a, "GET", "/api/me", tr.AccessToken, func(c map[string]any) {
			c["iat"] = a.clock.Now().Unix() - 120
		})), "invalid_dpop_proof", "invalid_dpop_proof")
		expectDPoPChallenge(t, "the bound token as a bearer token", a.me(tr.AccessToken), "token_invalid", "invalid_token")
		expect(t, "another fresh proof", get(k.proof(t, a, "GET", "/api/me", tr.AccessToken)), http.StatusOK, "")

		// Revocation still ends it, proof or not.
		if err := a.auth.RevokeUser(ctx(t), "alice"); err != nil {
			t.Fatal(err)
		}
		expect(t, "after RevokeUser", get(k.proof(t, a, "GET", "/api/me", tr.AccessToken)), http.StatusUnauthorized, "token_revoked")
		if _, err := a.auth.Verify(ctx(t), tr.AccessToken); !errors.Is(err, ginjwt.ErrTokenInvalid) {
			t.Fatalf("Verify of a bound token = %v; want ErrTokenInvalid (no proof outside the middleware)", err)
		}
	})
}

// A stolen refresh token alone is refused, without harm to the session:
// the honest client, with its key, refreshes afterwards.
func TestDPoPRefresh(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, withDPoP(ginjwt.DPoPOptional))
		k, thief := newDPoPKey(t), newDPoPKey(t)
		tr := a.dpopLogin(k)
		expectOAuth(t, "without a proof", a.dpopRefresh(tr.RefreshToken, ""), "invalid_dpop_proof", "invalid_dpop_proof")
		expectOAuth(t, "with the thief's key", a.dpopRefresh(tr.RefreshToken, thief.proof(t, a, "POST", "/auth/refresh", "")), "invalid_dpop_proof", "invalid_dpop_proof")
		proof := k.proof(t, a, "POST", "/auth/refresh", "")
		next := a.dpopRefresh(tr.RefreshToken, proof).tokens(t)
		if next.TokenType != "DPoP" || cnfOf(t, next.AccessToken) != k.Thumbprint() {
			t.Fatalf("refreshed: token_type %q, cnf %q", next.TokenType, cnfOf(t, next.AccessToken))
		}
		expectOAuth(t, "the refresh proof again", a.dpopRefresh(next.RefreshToken, proof), "invalid_dpop_proof", "invalid_dpop_proof")
		for _, e := range a.events.take() {
			if e.Kind == ginjwt.EventReuseDetected {
				t.Fatalf("a refused proof counted as reuse: %+v", e)
			}
		}
		// Logout needs the key too.
		expect(t, "logout with the refresh token alone", a.logoutWithRefresh(next.RefreshToken), http.StatusUnauthorized, "invalid_dpop_proof")
		body, _ := json.Marshal(map[string]string{"refresh_token": next.RefreshToken})
		expect(t, "logout with a proof", a.do("POST", "/auth/logout", "application/json", string(body),
			"DPoP", k.proof(t, a, "POST", "/auth/logout", "")), http.StatusNoContent, "")
		expectOAuth(t, "after logout", a.dpopRefresh(next.RefreshToken, k.proof(t, a, "POST", "/auth/refresh", "")), "invalid_grant", "token_revoked")
	})
}

// DPoPRequired refuses logins without a proof; DPoPOptional lets them
// through as bearer sessions, which a later refresh with a proof binds.
func TestDPoPModes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		required := newApp(t, b, withDPoP(ginjwt.DPoPRequired))
		r := required.do("POST", "/auth/login", "application/json", `{"username":"alice","password":"alice-pw"}`)
		expectOAuth(t, "required: login without a proof", r, "invalid_dpop_proof", "invalid_dpop_proof")
		k := newDPoPKey(t)
		tr := required.dpopLogin(k)
		r = required.do("GET", "/api/me", "", "", "Authorization", "DPoP "+tr.AccessToken)
		if got := r.header.Values("WWW-Authenticate"); len(got) != 1 || !strings.HasPrefix(got[0], "DPoP ") {
			t.Fatalf("required: challenges %q; want the DPoP one alone", got)
		}

		// Bearer tokens issued before DPoP was required work until they
		// expire; their refresh needs a proof, which binds the session.
		before := newAppAt(t, b, required.prefix, nil).login("alice")
		expect(t, "required: an earlier bearer token", required.me(before.AccessToken), http.StatusOK, "")
		expectOAuth(t, "required: its refresh without a proof", required.dpopRefresh(before.RefreshToken, ""), "invalid_dpop_proof", "invalid_dpop_proof")
		if tr := required.dpopRefresh(before.RefreshToken, k.proof(t, required, "POST", "/auth/refresh", "")).tokens(t); tr.TokenType != "DPoP" {
			t.Fatalf("required: a refresh with a proof gave token_type %q", tr.TokenType)
		}

		optional := newApp(t, b, withDPoP(ginjwt.DPoPOptional))
		plain := optional.login("alice")
		if plain.TokenType != "Bearer" || cnfOf(t, plain.AccessToken) != "" {
			t.Fatalf("optional, no proof: token_type %q, cnf %q", plain.TokenType, cnfOf(t, plain.AccessToken))
		}
		expect(t, "optional: bearer session", optional.me(plain.AccessToken), http.StatusOK, "")
		expectDPoPChallenge(t, "optional: an unbound token with the DPoP scheme",
			optional.do("GET", "/api/me", "", "", "Authorization", "DPoP "+plain.AccessToken, "DPoP", k.proof(t, optional, "GET", "/api/me", plain.AccessToken)),
			"token_invalid", "invalid_token")
		bound := optional.dpopRefresh(plain.RefreshToken, k.proof(t, optional, "POST", "/auth/refresh", "")).tokens(t)
		if bound.TokenType != "DPoP" || cnfOf(t, bound.AccessToken) != k.Thumbprint() {
			t.Fatalf("optional: a refresh with a proof gave token_type %q, cnf %q", bound.TokenType, cnfOf(t, bound.AccessToken))
		}
		r = optional.me("x.y.z")
		if got := r.header.Values("WWW-Authenticate"); len(got) != 2 || !strings.HasPrefix(got[0], "Bearer ") || !strings.HasPrefix(got[1], "DPoP ") {
			t.Fatalf("optional: challenges %q; want Bearer then DPoP", got)
		}

		// An app with DPoP off (the same keys and Redis) refuses bound tokens.
		off := newAppAt(t, b, optional.prefix, nil)
		expect(t, "DPoP off: a bound token", off.me(bound.AccessToken), http.StatusUnauthorized, "token_invalid")
	})
}

// Options.DPoP is checked by New.
func TestDPoPOptionsChecked(t *testing.T) {
	valid := func() ginjwt.Options {
		return ginjwt.Options{Store: memstore.New(), Keys: []ginjwt.Key{ginjwt.HS256(testSecret)},
			DPoP: ginjwt.DPoPOptions{Mode: ginjwt.DPoPRequired, BaseURL: "https://api.example.com/v1/"}}
	}
	if _, err := ginjwt.New(valid()); err != nil {
		t.Fatalf("valid DPoP options refused: %v", err)
	}
	for name, change := range map[string]func(*ginjwt.Options){
		"no base URL":          func(o *ginjwt.Options) { o.DPoP.BaseURL = "" },
		"http, not localhost":  func(o *ginjwt.Options) { o.DPoP.BaseURL = "http://api.example.com" },
		"base URL with query":  func(o *ginjwt.Options) { o.DPoP.BaseURL = "https://api.example.com/?a=1" },
		"unknown mode":         func(o *ginjwt.Options) { o.DPoP.Mode = 7 },
		"HS256 proofs":         func(o *ginjwt.Options) { o.DPoP.Algorithms = []string{"HS256"} },
		"max age too long":     func(o *ginjwt.Options) { o.DPoP.MaxAge = time.Hour },
		"too many proofs":      func(o *ginjwt.Options) { o.DPoP.ProofsPerSession = 1_000_000 },
		"nonce lifetime short": func(o *ginjwt.Options) { o.DPoP.NonceLifetime = time.Second },
	} {
		o := valid()
		change(&o)
		if _, err := ginjwt.New(o); !errors.Is(err, ginjwt.ErrInvalidOptions) || !strings.Contains(err.Error(), "Options.DPoP") {
			t.Errorf("%s: New = %v; want an ErrInvalidOptions naming Options.DPoP", name, err)
		}
	}
	o := valid()
	o.DPoP.BaseURL = "http://localhost:8080"
	if _, err := ginjwt.New(o); err != nil {
		t.Errorf("http on localhost refused: %v", err)
	}
}

// An Auth with cookies and DPoP never binds its cookie sessions, and its
// guard takes both: cookie sessions, and DPoP-bound tokens of another
// Auth's logins in the Authorization header with their proofs.
func TestDPoPWithCookies(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		bearer := newApp(t, b, withDPoP(ginjwt.DPoPRequired))
		browser := newAppAt(t, b, bearer.prefix, func(o *ginjwt.Options) {
			withDPoP(ginjwt.DPoPRequired)(o)
			o.Cookies = &ginjwt.CookieOptions{RefreshPath: "/auth/refresh"}
		})
		r := browser.do("POST", "/auth/login", "application/json", `{"username":"alice","password":"alice-pw"}`)
		if tr := r.tokens(t); tr.TokenType != "Bearer" {
			t.Fatalf("cookie login: token_type %q; want Bearer (cookie sessions are never bound)", tr.TokenType)
		}
		k := newDPoPKey(t)
		tr := bearer.dpopLogin(k)
		r = browser.do("GET", "/api/me", "", "", "Authorization", "DPoP "+tr.AccessToken, "DPoP", k.proof(t, browser, "GET", "/api/me", tr.AccessToken))
		expect(t, "a bound token at the cookie Auth's guard", r, http.StatusOK, "")
		expectDPoPChallenge(t, "the bound token as a bearer token there", browser.me(tr.AccessToken), "token_invalid", "invalid_token")
	})
}

// With NonceLifetime every proof must carry the server's current or
// previous nonce: without one, login answers 400 and the guard 401
// use_dpop_nonce, each with a DPoP-Nonce header to retry with.
func TestDPoPNonces(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		a := newApp(t, b, func(o *ginjwt.Options) {
			withDPoP(ginjwt.DPoPRequired)(o)
			o.DPoP.NonceLifetime = time.Minute
		})
		k := newDPoPKey(t)
		login := func(nonce string) response {
			return a.do("POST", "/auth/login", "application/json", `{"username":"alice","password":"alice-pw"}`,
				"DPoP", k.proof(t, a, "POST", "/auth/login", "", func(c map[string]any) {
					if nonce != "" {
						c["nonce"] = nonce
					}
				}))
		}
		r := login("")
		expectOAuth(t, "login without a nonce", r, "use_dpop_nonce", "use_dpop_nonce")
		nonce := r.header.Get("DPoP-Nonce")
		if nonce == "" {
			t.Fatal("use_dpop_nonce without a DPoP-Nonce header")
		}
		expectOAuth(t, "login with another nonce", login("bm90LWEtbm9uY2U"), "use_dpop_nonce", "use_dpop_nonce")
		r = login(nonce)
		tr := r.tokens(t)
		if r.header.Get("DPoP-Nonce") != nonce {
			t.Fatalf("the answer's nonce %q; want the current %q", r.header.Get("DPoP-Nonce"), nonce)
		}
		get := func(nonce string) response {
			return a.do("GET", "/api/me", "", "", "Authorization", "DPoP "+tr.AccessToken,
				"DPoP", k.proof(t, a, "GET", "/api/me", tr.AccessToken, func(c map[string]any) {
					if nonce != "" {
						c["nonce"] = nonce
					}
				}))
		}
		expect(t, "guard with the nonce", get(nonce), http.StatusOK, "")
		expectDPoPChallenge(t, "guard without a nonce", get(""), "use_dpop_nonce", "use_dpop_nonce")

		a.clock.Advance(time.Minute) // the next period: the old nonce still passes, a new one is handed out
		r = get(nonce)
		expect(t, "the previous period's nonce", r, http.StatusOK, "")
		next := r.header.Get("DPoP-Nonce")
		if next == "" || next == nonce {
			t.Fatalf("after a period the nonce is %q, was %q; want a new one", next, nonce)
		}
		a.clock.Advance(time.Minute)
		r = get(nonce)
		expectDPoPChallenge(t, "a nonce two periods old", r, "use_dpop_nonce", "use_dpop_nonce")
		if r.header.Get("DPoP-Nonce") == "" {
			t.Fatal("use_dpop_nonce at the guard without a DPoP-Nonce header")
		}
		expect(t, "the current nonce", get(r.header.Get("DPoP-Nonce")), http.StatusOK, "")
	})
}
