package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/ginjwt/dpoptest"
)

// dpopAnswer is what the DPoP tests see of an answer: the response and
// the nonce it hands out.
type dpopAnswer struct {
	response
	nonce string
}

// dpopDo sends a request with a proof of key for it (none when key is
// nil), a DPoP-bound access token when not empty, a JSON body and the
// nonce when not empty. The proof names the public URL, not the test
// server's address.
func (c *client) dpopDo(key *dpoptest.Key, method, path, access, body, nonce string) dpopAnswer {
	c.t.Helper()
	req := c.newRequest(method, path, body)
	if access != "" {
		req.Header.Set("Authorization", "DPoP "+access)
	}
	if key != nil {
		var opts []func(map[string]any)
		if nonce != "" {
			opts = append(opts, dpoptest.WithNonce(nonce))
		}
		req.Header.Set("DPoP", key.Proof(method, defaultPublicURL+path, access, opts...))
	}
	r, header := c.send(req)
	return dpopAnswer{r, header.Get("DPoP-Nonce")}
}

// With DPOP=required and DPOP_NONCE_LIFETIME the example binds every
// bearer session to the client's key and wants the server's nonce in every
// proof; every exchange is checked against openapi.json.
func TestDPoP(t *testing.T) {
	c := startApp(t, config{secret: testSecret, dpop: ginjwt.DPoPRequired, dpopNonce: time.Minute})
	key, thief := dpoptest.NewKey(), dpoptest.NewKey()
	login := `{"username":"alice","password":"wonderland"}`

	// The metadata tells clients which proof algorithms to use.
	var md struct {
		Algs []string `json:"dpop_signing_alg_values_supported"`
	}
	r := expect(t, "metadata", c.do("GET", "/.well-known/oauth-authorization-server", "", ""), http.StatusOK, "")
	if err := json.Unmarshal(r.body, &md); err != nil || !slices.Contains(md.Algs, "ES256") || !slices.Contains(md.Algs, "EdDSA") {
		t.Fatalf("metadata: %s (%v); want dpop_signing_alg_values_supported with ES256 and EdDSA", r.body, err)
	}

	expect(t, "login without a proof", c.dpopDo(nil, "POST", "/auth/login", "", login, "").response, http.StatusBadRequest, "invalid_dpop_proof")
	first := c.dpopDo(key, "POST", "/auth/login", "", login, "")
	expect(t, "login without the nonce", first.response, http.StatusBadRequest, "use_dpop_nonce")
	nonce := first.nonce
	if nonce == "" {
		t.Fatal("use_dpop_nonce without a DPoP-Nonce header")
	}
	tr := c.tokens(expect(t, "login", c.dpopDo(key, "POST", "/auth/login", "", login, nonce).response, http.StatusOK, ""))
	if tr.TokenType != "DPoP" {
		t.Fatalf("token_type %q", tr.TokenType)
	}

	me := c.dpopDo(key, "GET", "/api/me", tr.AccessToken, "", nonce)
	expect(t, "the API with a proof", me.response, http.StatusOK, "")
	var who meResponse
	if err := json.Unmarshal(me.body, &who); err != nil || who.Subject == "" {
		t.Fatalf("me: %s, %v", me.body, err)
	}
	expect(t, "the API without the nonce", c.dpopDo(key, "GET", "/api/me", tr.AccessToken, "", "").response, http.StatusUnauthorized, "use_dpop_nonce")
	expect(t, "the API with another key", c.dpopDo(thief, "GET", "/api/me", tr.AccessToken, "", nonce).response, http.StatusUnauthorized, "invalid_dpop_proof")
	expect(t, "the bound token as a bearer token", c.me(tr.AccessToken), http.StatusUnauthorized, "token_invalid")

	refresh := `{"refresh_token":"` + tr.RefreshToken + `"}`
	expect(t, "refresh with another key", c.dpopDo(thief, "POST", "/auth/refresh", "", refresh, nonce).response, http.StatusBadRequest, "invalid_dpop_proof")
	next := c.tokens(expect(t, "refresh", c.dpopDo(key, "POST", "/auth/refresh", "", refresh, nonce).response, http.StatusOK, ""))
	expect(t, "sessions", c.dpopDo(key, "GET", "/auth/sessions", next.AccessToken, "", nonce).response, http.StatusOK, "")
	expect(t, "logout", c.dpopDo(key, "POST", "/auth/logout", next.AccessToken, "", nonce).response, http.StatusNoContent, "")
	expect(t, "after logout", c.dpopDo(key, "GET", "/api/me", next.AccessToken, "", nonce).response, http.StatusUnauthorized, "token_revoked")
}
