package ginjwt_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/memstore"
)

// The OAuth test apps' issuer and their one confidential client. The
// secret holds characters that RFC 6749 §2.3.1 form-encoding changes, so
// that both raw and encoded Basic credentials are exercised.
const (
	oauthIssuer       = "https://auth.example.test"
	oauthClientID     = "billing"
	oauthClientSecret = "billing+secret/0123456789="
)

// oauthApp is a test app (see newApp) with a second server for the OAuth
// routes, built on its own gin engine: introspection, revocation and
// metadata, whose relative endpoints resolve against that server's URL.
type oauthApp struct {
	*app
	oauth *httptest.Server
}

// oauthTune sets the issuer and the client of the OAuth test apps.
func oauthTune(o *ginjwt.Options) {
	o.Issuer = oauthIssuer
	o.Clients = []ginjwt.ClientCredentials{{ID: oauthClientID, Secret: oauthClientSecret}}
}

func newOAuthApp(t *testing.T, b redistest.Backend) *oauthApp {
	t.Helper()
	return withOAuthRoutes(t, newApp(t, b, oauthTune))
}

// withOAuthRoutes serves the OAuth routes of a.auth on a server of their own.
func withOAuthRoutes(t *testing.T, a *app) *oauthApp {
	t.Helper()
	r := gin.New()
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	meta, err := a.auth.MetadataHandler(ginjwt.MetadataOptions{
		BaseURL:               srv.URL,
		TokenEndpoint:         a.srv.URL + "/auth/refresh", // an absolute URL: another server
		RevocationEndpoint:    "/oauth/revoke",
		IntrospectionEndpoint: "/oauth/introspect",
		JWKSURI:               a.srv.URL + "/.well-known/jwks.json",
	})
	if err != nil {
		t.Fatal(err)
	}
	// Routes are added before the first request reaches the server.
	r.GET("/.well-known/oauth-authorization-server", meta)
	r.POST("/oauth/introspect", a.auth.IntrospectionHandler())
	r.POST("/oauth/revoke", a.auth.RevocationHandler())
	return &oauthApp{app: a, oauth: srv}
}

// post sends a form to the OAuth server; header pairs are name, value.
func (o *oauthApp) post(path string, form url.Values, header ...string) response {
	o.t.Helper()
	req, err := http.NewRequest("POST", o.oauth.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		o.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	res, err := o.oauth.Client().Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 500 && res.StatusCode != http.StatusServiceUnavailable {
		o.t.Errorf("POST %s answered %d: %s", path, res.StatusCode, b)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// basic is the Authorization value of the test client, raw as many
// clients send it.
func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

var clientAuth = basic(oauthClientID, oauthClientSecret)

// introspect asks about token as the test client and decodes the answer.
func (o *oauthApp) introspect(token, hint string) ginjwt.IntrospectionResponse {
	o.t.Helper()
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	r := o.post("/oauth/introspect", form, "Authorization", clientAuth)
	if r.status != http.StatusOK {
		o.t.Fatalf("introspection: got %d %s, want 200", r.status, r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		o.t.Errorf("introspection Cache-Control %q, want no-store", cc)
	}
	var res ginjwt.IntrospectionResponse
	if err := json.Unmarshal(r.body, &res); err != nil {
		o.t.Fatalf("introspection body %s: %v", r.body, err)
	}
	if !res.Active && string(r.body) != `{"active":false}` {
		o.t.Errorf("inactive answer %s says more than {\"active\":false}", r.body)
	}
	return res
}

// expectActive fails unless token is active, with every hint, as a token
// of the given type.
func (o *oauthApp) expectActive(what, token, tokenType string) ginjwt.IntrospectionResponse {
	o.t.Helper()
	var res ginjwt.IntrospectionResponse
	for _, hint := range []string{"", ginjwt.HintAccessToken, ginjwt.HintRefreshToken, "bogus"} {
		res = o.introspect(token, hint)
		if !res.Active || res.TokenType != tokenType {
			o.t.Fatalf("%s (hint %q): active %v, token_type %q; want active %s", what, hint, res.Active, res.TokenType, tokenType)
		}
	}
	return res
}

// expectInactive fails unless token is inactive, with every hint.
func (o *oauthApp) expectInactive(what, token string) {
	o.t.Helper()
	for _, hint := range []string{"", ginjwt.HintAccessToken, ginjwt.HintRefreshToken} {
		if res := o.introspect(token, hint); res.Active {
			o.t.Fatalf("%s (hint %q): active, want inactive", what, hint)
		}
	}
}

// expectOAuthError fails unless r is an RFC 6749 §5.2 error answer.
func expectOAuthError(t *testing.T, what string, r response, status int, code string) {
	t.Helper()
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || r.status != status || body.Error != code {
		t.Fatalf("%s: got %d %s, want %d with error %q", what, r.status, r.body, status, code)
	}
	if status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), `Basic realm="`) {
		t.Errorf("%s: WWW-Authenticate %q, want a Basic challenge", what, r.header.Get("WWW-Authenticate"))
	}
}

// Introspection follows a session through login, refresh, logout, a new
// login and RevokeUser: exactly the session's current tokens are active.
func TestIntrospectionLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		o := newOAuthApp(t, b)
		first := o.login("alice")

		res := o.expectActive("fresh access token", first.AccessToken, "Bearer")
		claims := unverifiedClaims(t, first.AccessToken)
		if res.Subject != "alice" || res.Issuer != oauthIssuer || !slices.Equal(res.Audience, []string{oauthIssuer}) ||
			res.SessionID != claims.SessionID || res.JWTID != claims.ID || res.ExpiresAt != claims.ExpiresAt.Unix() ||
			res.IssuedAt != claims.IssuedAt.Unix() || res.NotBefore != claims.NotBefore.Unix() ||
			!slices.Equal(res.Roles, []string{"admin"}) || res.ACR != "pwd" || !slices.Equal(res.AMR, []string{"pwd"}) ||
			res.AuthTime != claims.AuthTime {
			t.Fatalf("access token introspection %+v does not match its claims %+v", res, claims)
		}
		rt := o.expectActive("fresh refresh token", first.RefreshToken, ginjwt.HintRefreshToken)
		if rt.SessionID != claims.SessionID || rt.JWTID == claims.ID {
			t.Fatalf("refresh token introspection %+v", rt)
		}

		second := o.refresh(first.RefreshToken).tokens(t)
		o.expectInactive("access token after refresh", first.AccessToken)
		o.expectInactive("refresh token after refresh, within the grace window", first.RefreshToken)
		o.expectActive("new access token", second.AccessToken, "Bearer")
		o.expectActive("new refresh token", second.RefreshToken, ginjwt.HintRefreshToken)

		expect(t, "logout", o.logoutWithRefresh(second.RefreshToken), http.StatusNoContent, "")
		o.expectInactive("access token after logout", second.AccessToken)
		o.expectInactive("refresh token after logout", second.RefreshToken)

		third, other := o.login("alice"), o.login("alice")
		o.expectActive("access token of a new login", third.AccessToken, "Bearer")
		if err := o.auth.RevokeUser(ctx(t), "alice"); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{third.AccessToken, third.RefreshToken, other.AccessToken, other.RefreshToken} {
			o.expectInactive("token after RevokeUser", tok)
		}
	})
}

// Expired, malformed, oversized, foreign and forged tokens are all just
// inactive: the answer never says why.
func TestIntrospectionInactive(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		o := newOAuthApp(t, b)
		tok := o.login("alice")
		foreign := newApp(t, b, func(opts *ginjwt.Options) {
			opts.Issuer = oauthIssuer
			opts.Keys = []ginjwt.Key{ginjwt.HS256([]byte("another-secret-0123456789abcdef!!"))}
		}).login("alice")
		for _, c := range []struct{ what, token string }{
			{"garbage", "not a token"},
			{"empty segments", ".."},
			{"oversized", strings.Repeat("a", 9<<10)},
			{"signed with another key", foreign.AccessToken},
			{"signed with another key, refresh", foreign.RefreshToken},
			{"forged signature", tok.AccessToken[:strings.LastIndex(tok.AccessToken, ".")+1] + "AAAA"},
		} {
			o.expectInactive(c.what, c.token)
		}
		o.clock.Advance(ginjwt.DefaultAccessTTL + ginjwt.DefaultLeeway + time.Second)
		o.expectInactive("expired access token", tok.AccessToken)
		o.expectActive("refresh token of the same session", tok.RefreshToken, ginjwt.HintRefreshToken)
	})
}

// Only the configured client may introspect; everyone else gets 401
// invalid_client with a Basic challenge, and bad requests 400
// invalid_request.
func TestIntrospectionClientAuthentication(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		o := newOAuthApp(t, b)
		tok := o.login("alice")
		form := url.Values{"token": {tok.AccessToken}}
		for _, c := range []struct {
			what   string
			header []string
		}{
			{"no credentials", nil},
			{"wrong secret", []string{"Authorization", basic(oauthClientID, oauthClientSecret+"x")}},
			{"secret prefix", []string{"Authorization", basic(oauthClientID, oauthClientSecret[:16])}},
			{"unknown client", []string{"Authorization", basic("payroll", oauthClientSecret)}},
			{"empty credentials", []string{"Authorization", basic("", "")}},
			{"not base64", []string{"Authorization", "Basic !!!"}},
			{"a bearer token", []string{"Authorization", "Bearer " + tok.AccessToken}},
			{"two Authorization headers", []string{"Authorization", clientAuth, "Authorization", clientAuth}},
		} {
			r := o.post("/oauth/introspect", form, c.header...)
			expectOAuthError(t, c.what, r, http.StatusUnauthorized, "invalid_client")
			if strings.Contains(string(r.body), "alice") || strings.Contains(string(r.body), "active") {
				t.Errorf("%s: the 401 body %s tells about the token", c.what, r.body)
			}
		}

		// RFC 6749 §2.3.1 form-encodes id and secret; raw ones work too.
		encoded := basic(url.QueryEscape(oauthClientID), url.QueryEscape(oauthClientSecret))
		for _, auth := range []string{clientAuth, encoded} {
			if r := o.post("/oauth/introspect", form, "Authorization", auth); r.status != http.StatusOK {
				t.Fatalf("credentials %q: got %d %s", auth, r.status, r.body)
			}
		}

		for _, c := range []struct {
			what string
			form url.Values
		}{
			{"no token", url.Values{"token_type_hint": {"access_token"}}},
			{"empty token", url.Values{"token": {""}}},
			{"two tokens", url.Values{"token": {tok.AccessToken, tok.RefreshToken}}},
			{"two hints", url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token", "refresh_token"}}},
		} {
			expectOAuthError(t, c.what, o.post("/oauth/introspect", c.form, "Authorization", clientAuth), http.StatusBadRequest, "invalid_request")
		}
		req, _ := http.NewRequest("POST", o.oauth.URL+"/oauth/introspect?token="+url.QueryEscape(tok.AccessToken), strings.NewReader(`{"token":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", clientAuth)
		res, err := o.oauth.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		expectOAuthError(t, "JSON body, token in the URL", response{status: res.StatusCode, header: res.Header, body: body}, http.StatusBadRequest, "invalid_request")
	})
}

// rfcResourceServer is a resource server written against RFC 8414 and RFC
// 7662 alone, with net/http and encoding/json and none of this package's
// types: it finds the introspection endpoint in the metadata and lets a
// request through only for an active Bearer token that has not expired.
type rfcResourceServer struct {
	endpoint       string
	client, secret string
}

func discover(t *testing.T, metadataURL, client, secret string) *rfcResourceServer {
	t.Helper()
	res, err := http.Get(metadataURL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var md map[string]any
	if err := json.NewDecoder(res.Body).Decode(&md); err != nil {
		t.Fatal(err)
	}
	endpoint, _ := md["introspection_endpoint"].(string)
	methods, _ := md["introspection_endpoint_auth_methods_supported"].([]any)
	if endpoint == "" || !slices.Contains(methods, any("client_secret_basic")) {
		t.Fatalf("metadata without a usable introspection endpoint: %v", md)
	}
	return &rfcResourceServer{endpoint: endpoint, client: client, secret: secret}
}

// allows reports whether the resource server serves a request bearing token.
func (rs *rfcResourceServer) allows(t *testing.T, token string) (bool, string) {
	t.Helper()
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequest(http.MethodPost, rs.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(rs.client), url.QueryEscape(rs.secret)) // RFC 6749 §2.3.1
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("introspection answered %d", res.StatusCode)
	}
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	active, _ := body["active"].(bool)
	tokenType, _ := body["token_type"].(string)
	exp, _ := body["exp"].(float64)
	sub, _ := body["sub"].(string)
	if !active || !strings.EqualFold(tokenType, "bearer") || int64(exp) <= time.Now().Unix() {
		return false, ""
	}
	return true, sub
}

// A resource server that knows only the RFCs decides correctly: the current
// access token passes, a refresh token is not an access token, and after a
// refresh and a logout the old tokens fail at once.
func TestIntrospectionRFCClient(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		o := newOAuthApp(t, b)
		rs := discover(t, o.oauth.URL+"/.well-known/oauth-authorization-server", oauthClientID, oauthClientSecret)
		tok := o.login("bob")
		if ok, sub := rs.allows(t, tok.AccessToken); !ok || sub != "bob" {
			t.Fatalf("current access token: allowed %v as %q, want bob", ok, sub)
		}
		if ok, _ := rs.allows(t, tok.RefreshToken); ok {
			t.Fatal("a refresh token passed as an access token")
		}
		next := o.refresh(tok.RefreshToken).tokens(t)
		if ok, _ := rs.allows(t, tok.AccessToken); ok {
			t.Fatal("the access token a refresh replaced still passes")
		}
		if ok, _ := rs.allows(t, next.AccessToken); !ok {
			t.Fatal("the refreshed access token does not pass")
		}
		expect(t, "logout", o.logoutWithAccess(next.AccessToken), http.StatusNoContent, "")
		if ok, _ := rs.allows(t, next.AccessToken); ok {
			t.Fatal("the access token passes after logout")
		}
		wrong := *rs
		wrong.secret = "not-the-secret-at-all"
		form := url.Values{"token": {tok.AccessToken}}
		req, _ := http.NewRequest(http.MethodPost, wrong.endpoint, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(wrong.client, wrong.secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong secret: got %d, want 401", res.StatusCode)
		}
	})
}

// revoke posts a revocation; header pairs are name, value.
func (o *oauthApp) revoke(token, hint string, header ...string) response {
	o.t.Helper()
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	return o.post("/oauth/revoke", form, header...)
}

func expectRevoked(t *testing.T, what string, r response) {
	t.Helper()
	if r.status != http.StatusOK || len(r.body) != 0 || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%s: got %d %q (Cache-Control %q), want 200 with an empty body and no-store", what, r.status, r.body, r.header.Get("Cache-Control"))
	}
}

// Revocation answers 200 for anything well formed, and ends the session of
// a token that logout would accept: its tokens die in the guard, at the
// refresh route and in introspection.
func TestRevocation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		o := newOAuthApp(t, b)
		foreign := newApp(t, b, func(opts *ginjwt.Options) {
			opts.Issuer = oauthIssuer
			opts.Keys = []ginjwt.Key{ginjwt.HS256([]byte("another-secret-0123456789abcdef!!"))}
		}).login("alice")
		for _, c := range []struct{ what, token string }{
			{"garbage", "garbage"},
			{"oversized", strings.Repeat("a", 9<<10)},
			{"unknown key", foreign.AccessToken},
			{"unknown key, refresh", foreign.RefreshToken},
		} {
			expectRevoked(t, c.what, o.revoke(c.token, ""))
		}
		o.events.take()

		// A confidential client revokes an access token.
		tok := o.login("alice")
		keep := o.login("alice")
		o.events.take()
		expectRevoked(t, "access token, confidential client", o.revoke(tok.AccessToken, ginjwt.HintAccessToken, "Authorization", clientAuth))
		if ev := o.events.take(); len(ev) != 1 || ev[0].Kind != ginjwt.EventLogout || ev[0].Reason != ginjwt.ScopeLocal ||
			ev[0].Subject != "alice" || ev[0].SessionID != sessionID(t, tok.AccessToken) {
			t.Fatalf("events %+v, want one logout/local of the session", ev)
		}
		expect(t, "guard after revocation", o.me(tok.AccessToken), http.StatusUnauthorized, "token_revoked")
		expectGrant(t, "refresh after revocation", o.refresh(tok.RefreshToken), "token_revoked")
		o.expectInactive("access token after revocation", tok.AccessToken)
		o.expectInactive("refresh token after revocation", tok.RefreshToken)
		expect(t, "the user's other session", o.me(keep.AccessToken), http.StatusOK, "")
		expectRevoked(t, "the same token again", o.revoke(tok.AccessToken, ""))
		expectRevoked(t, "its refresh token, already revoked", o.revoke(tok.RefreshToken, ""))

		// A public client revokes with its refresh token alone, under the
		// wrong hint.
		pub := o.login("bob")
		expectRevoked(t, "refresh token, public client", o.revoke(pub.RefreshToken, ginjwt.HintAccessToken))
		expect(t, "guard after public revocation", o.me(pub.AccessToken), http.StatusUnauthorized, "token_revoked")
		o.expectInactive("refresh token after public revocation", pub.RefreshToken)

		// An expired current access token still ends its session, as at logout.
		exp := o.login("bob")
		o.clock.Advance(ginjwt.DefaultAccessTTL + ginjwt.DefaultLeeway + time.Second)
		expectRevoked(t, "expired access token", o.revoke(exp.AccessToken, ""))
		expectGrant(t, "refresh after revoking the expired access token", o.refresh(exp.RefreshToken), "token_revoked")

		// An access token a refresh replaced changes nothing.
		old := o.login("bob")
		cur := o.refresh(old.RefreshToken).tokens(t)
		expectRevoked(t, "replaced access token", o.revoke(old.AccessToken, ""))
		expect(t, "session after revoking its replaced access token", o.me(cur.AccessToken), http.StatusOK, "")

		// The previous refresh token ends the session, as at logout.
		prev := o.refresh(cur.RefreshToken).tokens(t)
		expectRevoked(t, "previous refresh token", o.revoke(cur.RefreshToken, ""))
		expect(t, "session after revoking its previous refresh token", o.me(prev.AccessToken), http.StatusUnauthorized, "token_revoked")

		// An older refresh token is reuse: the session ends, reuse_detected.
		s1 := o.login("bob")
		s2 := o.refresh(s1.RefreshToken).tokens(t)
		s3 := o.refresh(s2.RefreshToken).tokens(t)
		o.events.take()
		expectRevoked(t, "refresh token two generations old", o.revoke(s1.RefreshToken, ""))
		if ev := o.events.take(); len(ev) != 1 || ev[0].Kind != ginjwt.EventReuseDetected {
			t.Fatalf("events %+v, want one reuse_detected", ev)
		}
		expect(t, "session after reuse at revocation", o.me(s3.AccessToken), http.StatusUnauthorized, "token_revoked")
	})
}

// Credentials, when sent, must be right: a wrong Basic header or another
// scheme answers 401 and revokes nothing. A request without a token is 400.
func TestRevocationClientAuthentication(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		o := newOAuthApp(t, b)
		tok := o.login("alice")
		for _, c := range []struct{ what, auth string }{
			{"wrong secret", basic(oauthClientID, "wrong-secret-0123456789")},
			{"unknown client", basic("payroll", oauthClientSecret)},
			{"a bearer token", "Bearer " + tok.AccessToken},
		} {
			expectOAuthError(t, c.what, o.revoke(tok.RefreshToken, "", "Authorization", c.auth), http.StatusUnauthorized, "invalid_client")
		}
		expect(t, "session after refused revocations", o.me(tok.AccessToken), http.StatusOK, "")
		expectOAuthError(t, "no token", o.post("/oauth/revoke", url.Values{"token_type_hint": {"refresh_token"}}), http.StatusBadRequest, "invalid_request")
		expectRevoked(t, "encoded credentials", o.revoke(tok.RefreshToken, "",
			"Authorization", basic(url.QueryEscape(oauthClientID), url.QueryEscape(oauthClientSecret))))
		expect(t, "session after revocation", o.me(tok.AccessToken), http.StatusUnauthorized, "token_revoked")
	})

	// Without Options.Clients, Basic credentials can only be wrong.
	auth, err := ginjwt.New(ginjwt.Options{Store: memstore.New(), Keys: []ginjwt.Key{ginjwt.HS256(testSecret)}})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.POST("/oauth/revoke", auth.RevocationHandler())
	w := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/oauth/revoke", strings.NewReader("token=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", clientAuth)
	r.ServeHTTP(w, req)
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("credentials without configured clients: got %d, want 401", w.Code)
	}
}

// Redis unreachable: introspection and revocation answer 503, never
// "inactive" or "revoked"; both work again when Redis is back.
func TestOAuthStoreUnavailable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		if b.IsCluster() {
			t.Skip("the proxy stands in for one node")
		}
		proxy := redistest.NewProxy(t, b.Addr)
		o := withOAuthRoutes(t, newAppAt(t, redistest.Backend{Name: b.Name, Addr: proxy.Addr()}, redistest.Prefix(t, b), oauthTune))
		tok := o.login("alice")
		proxy.Down()
		form := url.Values{"token": {tok.AccessToken}}
		expectOAuthError(t, "introspection during the outage", o.post("/oauth/introspect", form, "Authorization", clientAuth),
			http.StatusServiceUnavailable, "temporarily_unavailable")
		expectOAuthError(t, "revocation during the outage", o.post("/oauth/revoke", form),
			http.StatusServiceUnavailable, "temporarily_unavailable")
		expectRevoked(t, "revoking garbage during the outage", o.revoke("garbage", ""))
		proxy.Up()
		deadline := time.Now().Add(time.Second)
		for o.post("/oauth/introspect", form, "Authorization", clientAuth).status != http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatal("introspection did not recover within 1s")
			}
			time.Sleep(20 * time.Millisecond)
		}
		o.expectActive("after the outage", tok.AccessToken, "Bearer")
		expectRevoked(t, "revocation after the outage", o.revoke(tok.AccessToken, ""))
		o.expectInactive("after revocation", tok.AccessToken)
	})
}

// New checks Options.Clients and never shows a secret in its errors;
// IntrospectionHandler without clients is a set-up mistake caught at once.
func TestClientsOptions(t *testing.T) {
	secret := "s3cret-s3cret-s3cret"
	for _, c := range []struct {
		what    string
		clients []ginjwt.ClientCredentials
		names   string
	}{
		{"empty id", []ginjwt.ClientCredentials{{Secret: secret}}, "Options.Clients[0].ID"},
		{"colon in id", []ginjwt.ClientCredentials{{ID: "a:b", Secret: secret}}, "Options.Clients[0].ID"},
		{"non-ASCII id", []ginjwt.ClientCredentials{{ID: "bïlling", Secret: secret}}, "Options.Clients[0].ID"},
		{"repeated id", []ginjwt.ClientCredentials{{ID: "a", Secret: secret}, {ID: "a", Secret: secret + "2"}}, "Options.Clients[1].ID"},
		{"short secret", []ginjwt.ClientCredentials{{ID: "a", Secret: secret[:15]}}, "Options.Clients[0].Secret"},
		{"no secret", []ginjwt.ClientCredentials{{ID: "a"}}, "Options.Clients[0].Secret"},
		{"control character in secret", []ginjwt.ClientCredentials{{ID: "a", Secret: secret + "\n"}}, "Options.Clients[0].Secret"},
	} {
		_, err := ginjwt.New(ginjwt.Options{Store: memstore.New(), Keys: []ginjwt.Key{ginjwt.HS256(testSecret)}, Clients: c.clients})
		if err == nil {
			t.Errorf("%s: New accepted it", c.what)
			continue
		}
		if !strings.Contains(err.Error(), c.names) || !strings.Contains(err.Error(), "Options.Clients") {
			t.Errorf("%s: error %q does not name %s", c.what, err, c.names)
		}
		if strings.Contains(err.Error(), secret[:10]) {
			t.Errorf("%s: error %q shows the secret", c.what, err)
		}
	}
	auth, err := ginjwt.New(ginjwt.Options{Store: memstore.New(), Keys: []ginjwt.Key{ginjwt.HS256(testSecret)}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("IntrospectionHandler without Options.Clients did not panic at set-up")
		}
	}()
	auth.IntrospectionHandler()
}
