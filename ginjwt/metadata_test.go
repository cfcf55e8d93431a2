package ginjwt_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/memstore"
)

// The metadata document has the members RFC 8414 requires, absolute URLs
// built from the configuration whatever the Host header says, and the
// issuer the tokens carry.
func TestMetadata(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		o := newOAuthApp(t, b)
		req, err := http.NewRequest("GET", o.oauth.URL+"/.well-known/oauth-authorization-server", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "evil.example"
		req.Header.Set("X-Forwarded-Host", "evil.example")
		req.Header.Set("X-Forwarded-Proto", "http")
		res, err := o.oauth.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("metadata: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		if strings.Contains(string(body), "evil") {
			t.Fatalf("the forged Host is reflected: %s", body)
		}
		var md map[string]any
		if err := json.Unmarshal(body, &md); err != nil {
			t.Fatal(err)
		}
		str := func(name string) string {
			v, _ := md[name].(string)
			return v
		}
		list := func(name string) []string {
			var out []string
			for _, v := range md[name].([]any) {
				out = append(out, v.(string))
			}
			return out
		}
		want := map[string]string{
			"issuer":                 oauthIssuer,
			"token_endpoint":         o.srv.URL + "/auth/refresh",
			"jwks_uri":               o.srv.URL + "/.well-known/jwks.json",
			"revocation_endpoint":    o.oauth.URL + "/oauth/revoke",
			"introspection_endpoint": o.oauth.URL + "/oauth/introspect",
		}
		for name, v := range want {
			if str(name) != v {
				t.Errorf("%s = %q, want %q", name, str(name), v)
			}
			if u, err := url.Parse(str(name)); err != nil || !u.IsAbs() || u.Host == "" {
				t.Errorf("%s = %q is not an absolute URL", name, str(name))
			}
		}
		for name, v := range map[string][]string{
			"grant_types_supported":                         {"refresh_token"},
			"token_endpoint_auth_methods_supported":         {"none"},
			"revocation_endpoint_auth_methods_supported":    {"client_secret_basic", "none"},
			"introspection_endpoint_auth_methods_supported": {"client_secret_basic"},
			"access_token_signing_alg_values_supported":     {"HS256"},
		} {
			if got := list(name); !slices.Equal(got, v) {
				t.Errorf("%s = %q, want %q", name, got, v)
			}
		}
		// RFC 8414 §3.2: members with zero elements are omitted.
		for _, name := range []string{"response_types_supported", "authorization_endpoint"} {
			if _, ok := md[name]; ok {
				t.Errorf("%s present: %v", name, md[name])
			}
		}

		// The issuer is the tokens' iss, and the refresh route's tokens too.
		tok := o.login("alice")
		for _, raw := range []string{tok.AccessToken, tok.RefreshToken} {
			if iss := unverifiedClaims(t, raw).Issuer; iss != str("issuer") {
				t.Fatalf("token iss %q, metadata issuer %q", iss, str("issuer"))
			}
		}
	})
}

// Metadata refuses an issuer or endpoint RFC 8414 does not allow, naming
// the option; development on localhost works over http.
func TestMetadataOptions(t *testing.T) {
	newAuth := func(t *testing.T, issuer string, clients bool) *ginjwt.Auth {
		t.Helper()
		o := ginjwt.Options{Store: memstore.New(), Keys: []ginjwt.Key{ginjwt.HS256(testSecret)}, Issuer: issuer}
		if clients {
			o.Clients = []ginjwt.ClientCredentials{{ID: oauthClientID, Secret: oauthClientSecret}}
		}
		auth, err := ginjwt.New(o)
		if err != nil {
			t.Fatal(err)
		}
		return auth
	}
	token := ginjwt.MetadataOptions{TokenEndpoint: "/auth/refresh"}
	for _, issuer := range []string{"http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080", "https://example.com/auth"} {
		md, err := newAuth(t, issuer, false).Metadata(token)
		if err != nil {
			t.Errorf("issuer %q refused: %v", issuer, err)
			continue
		}
		if md.Issuer != issuer || md.TokenEndpoint != issuer+"/auth/refresh" || md.RevocationEndpointAuthMethodsSupported != nil {
			t.Errorf("issuer %q: got %+v", issuer, md)
		}
	}
	md, err := newAuth(t, "https://example.com/", false).Metadata(ginjwt.MetadataOptions{TokenEndpoint: "/auth/refresh", RevocationEndpoint: "/oauth/revoke"})
	if err != nil || md.TokenEndpoint != "https://example.com/auth/refresh" || !slices.Equal(md.RevocationEndpointAuthMethodsSupported, []string{"none"}) {
		t.Errorf("issuer with a trailing slash: %+v, %v", md, err)
	}

	for _, c := range []struct {
		what, issuer string
		clients      bool
		m            ginjwt.MetadataOptions
		names        string
	}{
		{"default issuer", "", false, token, "Options.Issuer"},
		{"issuer not a URL", "billing", false, token, "Options.Issuer"},
		{"http issuer", "http://example.com", false, token, "Options.Issuer"},
		{"issuer on a lookalike of localhost", "http://localhost.example.com", false, token, "Options.Issuer"},
		{"issuer with a query", "https://example.com?tenant=1", false, token, "Options.Issuer"},
		{"issuer with an empty query", "https://example.com?", false, token, "Options.Issuer"},
		{"issuer with a fragment", "https://example.com#x", false, token, "Options.Issuer"},
		{"issuer with user information", "https://user:pw@example.com", false, token, "Options.Issuer"},
		{"no token endpoint", "https://example.com", false, ginjwt.MetadataOptions{}, "MetadataOptions.TokenEndpoint"},
		{"relative token endpoint", "https://example.com", false, ginjwt.MetadataOptions{TokenEndpoint: "auth/refresh"}, "MetadataOptions.TokenEndpoint"},
		{"scheme-relative token endpoint", "https://example.com", false, ginjwt.MetadataOptions{TokenEndpoint: "//evil.example/refresh"}, "MetadataOptions.TokenEndpoint"},
		{"http endpoint", "https://example.com", false, ginjwt.MetadataOptions{TokenEndpoint: "http://example.com/refresh"}, "MetadataOptions.TokenEndpoint"},
		{"bad base URL", "https://example.com", false, ginjwt.MetadataOptions{BaseURL: "example.com", TokenEndpoint: "/refresh"}, "MetadataOptions.BaseURL"},
		{"introspection without clients", "https://example.com", false, ginjwt.MetadataOptions{TokenEndpoint: "/refresh", IntrospectionEndpoint: "/introspect"}, "Options.Clients"},
	} {
		auth := newAuth(t, c.issuer, c.clients)
		_, err := auth.Metadata(c.m)
		if err == nil {
			t.Errorf("%s: accepted", c.what)
			continue
		}
		if !errors.Is(err, ginjwt.ErrInvalidOptions) || !strings.Contains(err.Error(), c.names) {
			t.Errorf("%s: error %q does not wrap ErrInvalidOptions or name %s", c.what, err, c.names)
		}
		if strings.Contains(err.Error(), "pw@") {
			t.Errorf("%s: error %q shows user information", c.what, err)
		}
		if h, err := auth.MetadataHandler(c.m); err == nil || h != nil {
			t.Errorf("%s: MetadataHandler accepted it", c.what)
		}
	}
}

// With DPoP on, the metadata lists the proof algorithms (RFC 9449 §5.1):
// the configured ones, or every one accepted by default; without DPoP the
// member is absent.
func TestMetadataDPoPAlgorithms(t *testing.T) {
	for _, tc := range []struct {
		dpop ginjwt.DPoPOptions
		want []string
	}{
		{ginjwt.DPoPOptions{}, nil},
		{ginjwt.DPoPOptions{Mode: ginjwt.DPoPOptional, BaseURL: "https://api.example.com"}, []string{"ES256", "EdDSA", "Ed25519", "RS256", "PS256"}},
		{ginjwt.DPoPOptions{Mode: ginjwt.DPoPRequired, BaseURL: "https://api.example.com", Algorithms: []string{"ES256"}}, []string{"ES256"}},
	} {
		auth, err := ginjwt.New(ginjwt.Options{Store: memstore.New(), Keys: []ginjwt.Key{ginjwt.HS256(testSecret)}, Issuer: "https://api.example.com", DPoP: tc.dpop})
		if err != nil {
			t.Fatal(err)
		}
		md, err := auth.Metadata(ginjwt.MetadataOptions{TokenEndpoint: "/auth/refresh"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(md.DPoPSigningAlgs, tc.want) {
			t.Errorf("DPoP mode %d: dpop_signing_alg_values_supported %q, want %q", tc.dpop.Mode, md.DPoPSigningAlgs, tc.want)
		}
		body, _ := json.Marshal(md)
		if has := strings.Contains(string(body), "dpop_signing_alg_values_supported"); has != (tc.want != nil) {
			t.Errorf("DPoP mode %d: member present %v in %s", tc.dpop.Mode, has, body)
		}
	}
}
