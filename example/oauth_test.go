package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtguard/jwtguard/ginjwt"
)

// PUBLIC_URL and the introspection client's credentials are read, checked
// and defaulted.
func TestLoadConfigOAuth(t *testing.T) {
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			v, ok := vars[k]
			return v, ok
		}
	}
	cfg, err := loadConfig(env(nil))
	if err != nil || cfg.publicURL != "http://localhost:8080" || cfg.introspection.ID != "" {
		t.Fatalf("empty environment: got %q, %+v, %v; want http://localhost:8080 and no introspection client", cfg.publicURL, cfg.introspection.ID, err)
	}
	cfg, err = loadConfig(env(map[string]string{"PUBLIC_URL": "https://api.example.com/", "INTROSPECTION_CLIENT_ID": "billing",
		"INTROSPECTION_CLIENT_SECRET": "billing-secret-0123456789"}))
	if err != nil || cfg.publicURL != "https://api.example.com" || cfg.introspection.ID != "billing" || cfg.introspection.Secret != "billing-secret-0123456789" {
		t.Fatalf("PUBLIC_URL and the client set: got %q, %q, %v", cfg.publicURL, cfg.introspection.ID, err)
	}
	for _, bad := range []map[string]string{
		{"PUBLIC_URL": "api.example.com"},
		{"PUBLIC_URL": "ftp://api.example.com"},
		{"PUBLIC_URL": "https://api.example.com?x=1"},
		{"PUBLIC_URL": "https://api.example.com#top"},
		{"INTROSPECTION_CLIENT_ID": "billing"},
		{"INTROSPECTION_CLIENT_SECRET": "billing-secret-0123456789"},
		{"INTROSPECTION_CLIENT_ID": "billing", "INTROSPECTION_CLIENT_SECRET": "short"},
	} {
		_, err := loadConfig(env(bad))
		if err == nil {
			t.Errorf("%v accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), "billing-secret") {
			t.Errorf("%v: error %q shows the secret", bad, err)
		}
	}
	// Plain http beyond localhost is refused when the app starts: RFC 8414
	// issuers are https URLs.
	_, _, err = newApp(config{secret: testSecret, publicURL: "http://api.example.com"}, testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "PUBLIC_URL") {
		t.Fatalf("PUBLIC_URL over http beyond localhost: got %v, want an error naming PUBLIC_URL", err)
	}
}

// The example serves the metadata with URLs under PUBLIC_URL, whatever the
// Host header says; its tokens carry PUBLIC_URL as iss; the introspection
// and revocation routes it lists work.
func TestOAuthRoutes(t *testing.T) {
	const publicURL = "https://api.example.test"
	client := ginjwt.ClientCredentials{ID: "billing", Secret: "billing-secret-0123456789"}
	c := startApp(t, config{secret: testSecret, publicURL: publicURL, introspection: client})

	req, _ := http.NewRequest("GET", c.srv.URL+"/.well-known/oauth-authorization-server", nil)
	req.Host = "evil.example"
	res, err := c.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var md map[string]any
	if err := json.Unmarshal(body, &md); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("metadata: %d %s", res.StatusCode, body)
	}
	if strings.Contains(string(body), "evil") {
		t.Fatalf("the Host header is reflected: %s", body)
	}
	for name, want := range map[string]string{
		"issuer":                 publicURL,
		"token_endpoint":         publicURL + "/auth/refresh",
		"jwks_uri":               publicURL + "/.well-known/jwks.json",
		"revocation_endpoint":    publicURL + "/oauth/revoke",
		"introspection_endpoint": publicURL + "/oauth/introspect",
	} {
		if md[name] != want {
			t.Errorf("%s = %v, want %s", name, md[name], want)
		}
	}

	tok := c.login("alice", "wonderland")
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok.AccessToken, &claims); err != nil || claims.Issuer != publicURL {
		t.Fatalf("access token iss %q (%v), want %s", claims.Issuer, err, publicURL)
	}

	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(client.ID+":"+client.Secret))
	introspect := func(token string) bool {
		t.Helper()
		r := c.form("/oauth/introspect", url.Values{"token": {token}}, basic)
		var out struct {
			Active bool `json:"active"`
		}
		if err := json.Unmarshal(r.body, &out); err != nil || r.status != http.StatusOK {
			t.Fatalf("introspection: %d %s", r.status, r.body)
		}
		return out.Active
	}
	if !introspect(tok.AccessToken) {
		t.Fatal("current access token inactive")
	}
	if r := c.form("/oauth/introspect", url.Values{"token": {tok.AccessToken}}, ""); r.status != http.StatusUnauthorized {
		t.Fatalf("introspection without credentials: %d %s", r.status, r.body)
	}
	if r := c.form("/oauth/revoke", url.Values{"token": {tok.RefreshToken}}, ""); r.status != http.StatusOK {
		t.Fatalf("revocation: %d %s", r.status, r.body)
	}
	if introspect(tok.AccessToken) {
		t.Fatal("access token active after its refresh token was revoked")
	}
	expect(t, "me after revocation", c.me(tok.AccessToken), http.StatusUnauthorized, "token_revoked")

	// Without credentials configured, introspection is off and unlisted.
	off := startApp(t, config{secret: testSecret})
	if r := off.form("/oauth/introspect", url.Values{"token": {"x"}}, basic); r.status != http.StatusNotFound {
		t.Fatalf("introspection without a client configured: %d %s", r.status, r.body)
	}
	r := off.do("GET", "/.well-known/oauth-authorization-server", "", "")
	if r.status != http.StatusOK || strings.Contains(string(r.body), "introspection") || !strings.Contains(string(r.body), `"issuer":"http://localhost:8080"`) {
		t.Fatalf("metadata without introspection: %d %s", r.status, r.body)
	}
}

// form posts an application/x-www-form-urlencoded body, with an
// Authorization header when auth is not empty.
func (c *client) form(path string, form url.Values, auth string) response {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	r, _ := c.send(req)
	return r
}
