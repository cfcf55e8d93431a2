package ginjwt_test

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
)

// The attack suite: hostile and broken tokens and requests of every class
// that RFC 8725 and the OWASP JWT cheat sheet list, sent to the guard
// (GET /api/me), refresh (POST /auth/refresh) and logout (POST /auth/logout).
// Every row gets its status and error code, never a 5xx; no answer echoes the
// token; every 401 carries a WWW-Authenticate challenge; the refresh route
// refuses as a token endpoint (400 with the RFC 6749 code, the specific one
// as reason, no challenge); and at the end the legitimate session of every
// app still works.
func TestAttacks(t *testing.T) {
	keys := newAttackKeys(t)
	forEachBackend(t, func(t *testing.T, b redistest.Backend) {
		s := newAttackSuite(t, b, keys)
		rows := s.rows(t)
		if len(rows) < 40 {
			t.Fatalf("only %d rows", len(rows))
		}
		for _, x := range rows {
			t.Run(x.route+"/"+x.name, func(t *testing.T) { s.run(t, x) })
		}
		if n := s.fetches.Load(); n != 0 {
			t.Errorf("jku/x5u URLs were fetched %d times", n)
		}
		s.legitimateSessionsStillWork(t)
	})
}

// attackKeys are the asymmetric keys of the suite: the apps' own and an
// attacker's of each type.
type attackKeys struct {
	rsa, evilRSA *rsa.PrivateKey
	ec, evilEC   *ecdsa.PrivateKey
	evilEC384    *ecdsa.PrivateKey
	ed, evilEd   ed25519.PrivateKey
}

func newAttackKeys(t *testing.T) *attackKeys {
	t.Helper()
	var k attackKeys
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if k.evilRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if k.evilEC, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if k.evilEC384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	if _, k.evilEd, err = ed25519.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	return &k
}

// attackSuite is the apps under attack on one backend, with a legitimate
// session on each.
type attackSuite struct {
	keys *attackKeys

	hs, rs, es, ed *app // HS256 (no kid), RS256 kid "rs", ES256 kid "es", EdDSA kid "ed"
	billing        *app // another service: issuer "billing", the same HMAC secret as hs
	// web is the HS256 app with the cookie transport, reading the access
	// token from the header, the cookie or the query parameter access_token.
	web *app

	hsTok, rsTok, esTok, edTok, billingTok ginjwt.TokenResponse
	// webAlice and webBob are the tokens of web, from its cookies.
	webAlice, webBob ginjwt.TokenResponse

	// jku is an attacker's server that jku and x5u headers point at; the
	// library must never fetch from it.
	jku     *httptest.Server
	fetches atomic.Int64
}

func newAttackSuite(t *testing.T, b redistest.Backend, keys *attackKeys) *attackSuite {
	s := &attackSuite{keys: keys}
	withKey := func(k ginjwt.Key) func(*ginjwt.Options) {
		return func(o *ginjwt.Options) { o.Keys = []ginjwt.Key{k} }
	}
	s.hs = newApp(t, b, nil)
	s.rs = newApp(t, b, withKey(ginjwt.Key{ID: "rs", Algorithm: "RS256", Private: keys.rsa}))
	s.es = newApp(t, b, withKey(ginjwt.Key{ID: "es", Algorithm: "ES256", Private: keys.ec}))
	s.ed = newApp(t, b, withKey(ginjwt.Key{ID: "ed", Algorithm: "EdDSA", Private: keys.ed}))
	s.billing = newApp(t, b, func(o *ginjwt.Options) { o.Issuer = "billing" })
	s.web = newApp(t, b, func(o *ginjwt.Options) {
		o.Cookies = &ginjwt.CookieOptions{RefreshPath: "/auth/refresh"}
		o.TokenLookup = []ginjwt.TokenExtractor{ginjwt.FromHeader, ginjwt.FromCookie("jwtguard_access"), ginjwt.FromQuery("access_token")}
	})
	s.hsTok, s.rsTok, s.esTok, s.edTok = s.hs.login("alice"), s.rs.login("alice"), s.es.login("alice"), s.ed.login("alice")
	s.billingTok = s.billing.login("alice")
	s.webAlice, s.webBob = cookieLogin(t, s.web, "alice"), cookieLogin(t, s.web, "bob")
	s.jku = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"keys":[]}`)
	}))
	t.Cleanup(s.jku.Close)
	return s
}

// cookieLogin logs user in to a cookie app and returns the tokens of its
// cookies.
func cookieLogin(t *testing.T, a *app, user string) ginjwt.TokenResponse {
	t.Helper()
	r := a.do("POST", "/auth/login", "application/json", `{"username":"`+user+`","password":"`+testPasswords[user]+`"}`)
	var tr ginjwt.TokenResponse
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		switch c.Name {
		case "jwtguard_access":
			tr.AccessToken = c.Value
		case "jwtguard_refresh":
			tr.RefreshToken = c.Value
		}
	}
	if tr.AccessToken == "" || tr.RefreshToken == "" {
		t.Fatalf("login did not set the token cookies: %d %s", r.status, r.body)
	}
	return tr
}

// attack is one row of the table.
type attack struct {
	name   string
	route  string // "guard", "refresh" or "logout"
	target *app   // nil: the HS256 app

	authz       string   // Authorization header, if not empty
	moreAuthz   []string // further Authorization headers
	cookie      string   // Cookie header, if not empty
	ctype, body string   // request body
	query       string   // query, such as "?scope=global"

	// via is how the request travels: "" through the HTTP client, "engine"
	// straight into the gin engine with httptest.NewRecorder (header values
	// the client refuses to send), "raw" over a raw TCP connection to the
	// server (what net/http itself does with such bytes).
	via string

	token  string // the hostile token, which no answer may echo
	status int
	code   string // "" when the answer is not an error of this package
}

func guardRow(name, token, code string) attack {
	return attack{name: name, route: "guard", authz: "Bearer " + token, token: token, status: http.StatusUnauthorized, code: code}
}

// refreshRow is a refresh with token, which the route refuses as a token
// endpoint: 400 invalid_grant with code as the reason.
func refreshRow(name, token, code string) attack {
	body, _ := json.Marshal(map[string]string{"refresh_token": token})
	return attack{name: name, route: "refresh", ctype: "application/json", body: string(body), token: token, status: http.StatusBadRequest, code: code}
}

func logoutBearerRow(name, token, code string) attack {
	x := guardRow(name, token, code)
	x.route = "logout"
	return x
}

func logoutBodyRow(name, token, code string) attack {
	x := refreshRow(name, token, code)
	x.route, x.status = "logout", http.StatusUnauthorized
	return x
}

func (x attack) on(a *app) attack { x.target = a; return x }

func (x attack) want(status int, code string) attack { x.status, x.code = status, code; return x }

func (x attack) through(via string) attack { x.via = via; return x }

// send makes the row's request to a.
func (x attack) send(t *testing.T, a *app) response {
	t.Helper()
	method, path := http.MethodPost, "/auth/"+x.route+x.query
	if x.route == "guard" {
		method, path = http.MethodGet, "/api/me"+x.query
	}
	var authz []string
	if x.authz != "" {
		authz = append([]string{x.authz}, x.moreAuthz...)
	}
	switch x.via {
	case "engine":
		req := httptest.NewRequest(method, path, strings.NewReader(x.body))
		if x.ctype != "" {
			req.Header["Content-Type"] = []string{x.ctype}
		}
		if authz != nil {
			req.Header["Authorization"] = authz
		}
		if x.cookie != "" {
			req.Header["Cookie"] = []string{x.cookie}
		}
		w := httptest.NewRecorder()
		a.srv.Config.Handler.ServeHTTP(w, req)
		return response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	case "raw":
		conn, err := net.Dial("tcp", a.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		var req bytes.Buffer
		fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: jwtguard.test\r\nConnection: close\r\n", method, path)
		for _, v := range authz {
			fmt.Fprintf(&req, "Authorization: %s\r\n", v)
		}
		if x.cookie != "" {
			fmt.Fprintf(&req, "Cookie: %s\r\n", x.cookie)
		}
		if x.ctype != "" {
			fmt.Fprintf(&req, "Content-Type: %s\r\n", x.ctype)
		}
		fmt.Fprintf(&req, "Content-Length: %d\r\n\r\n%s", len(x.body), x.body)
		if _, err := conn.Write(req.Bytes()); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return response{status: res.StatusCode, header: res.Header, body: body}
	}
	req, err := http.NewRequest(method, a.srv.URL+path, strings.NewReader(x.body))
	if err != nil {
		t.Fatal(err)
	}
	if x.ctype != "" {
		req.Header.Set("Content-Type", x.ctype)
	}
	for _, v := range authz {
		req.Header.Add("Authorization", v)
	}
	if x.cookie != "" {
		req.Header.Set("Cookie", x.cookie)
	}
	res, err := a.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: body}
}

// run sends one row and checks the answer.
func (s *attackSuite) run(t *testing.T, x attack) {
	a := x.target
	if a == nil {
		a = s.hs
	}
	r := x.send(t, a)
	if r.status >= 500 {
		t.Fatalf("answered %d: %s", r.status, r.body)
	}
	expect(t, x.name, r, x.status, x.code)
	if x.code == "" && r.code() != "" {
		t.Errorf("unexpected error code %q", r.code())
	}
	if len(x.token) >= 8 && bytes.Contains(r.body, []byte(x.token)) {
		t.Errorf("the answer echoes the token: %s", r.body)
	}
	for _, tok := range []ginjwt.TokenResponse{s.hsTok, s.rsTok, s.esTok, s.edTok, s.billingTok, s.webAlice, s.webBob} {
		if r.status != http.StatusOK && (bytes.Contains(r.body, []byte(tok.AccessToken)) || bytes.Contains(r.body, []byte(tok.RefreshToken))) {
			t.Errorf("the answer echoes a legitimate token: %s", r.body)
		}
	}
	if r.status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without a Bearer WWW-Authenticate challenge: %q", r.header.Get("WWW-Authenticate"))
	}
	if x.route == "refresh" && r.status == http.StatusBadRequest {
		// RFC 6749 §5.2: the OAuth code, the specific one as the reason.
		oauth := "invalid_grant"
		if x.code == "bad_request" {
			oauth = "invalid_request"
			if strings.Contains(x.body, `"grant_type":"password"`) {
				oauth = "unsupported_grant_type"
			}
		}
		expectOAuth(t, x.name, r, oauth, x.code)
	}
	if x.code != "" && r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("error answer without Cache-Control: no-store")
	}
}

// legitimateSessionsStillWork checks that none of the rows hurt the
// sessions under attack: each access token passes the guard, and each
// refresh token still rotates.
func (s *attackSuite) legitimateSessionsStillWork(t *testing.T) {
	t.Helper()
	for _, c := range []struct {
		name string
		a    *app
		tok  ginjwt.TokenResponse
	}{{"hs", s.hs, s.hsTok}, {"rs", s.rs, s.rsTok}, {"es", s.es, s.esTok}, {"ed", s.ed, s.edTok}, {"billing", s.billing, s.billingTok}} {
		expect(t, c.name+": access token after the attacks", c.a.me(c.tok.AccessToken), http.StatusOK, "")
		next := c.a.refresh(c.tok.RefreshToken).tokens(t)
		expect(t, c.name+": refreshed access token", c.a.me(next.AccessToken), http.StatusOK, "")
	}
	for _, tok := range []ginjwt.TokenResponse{s.webAlice, s.webBob} {
		expect(t, "web: access token after the attacks", s.web.me(tok.AccessToken), http.StatusOK, "")
	}
}

// forge signs header and payload JSON with method and key, as whoever holds
// key can.
func forge(t *testing.T, method jwt.SigningMethod, key any, header, payload string) string {
	t.Helper()
	signing := b64(header) + "." + b64(payload)
	sig, err := method.Sign(signing, key)
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// refreshKeyFor derives the refresh-token HMAC key from an HMAC secret the
// way the library does: HKDF-SHA256 with the refresh info string, as long as
// the secret (32 to 64 bytes).
func refreshKeyFor(t testing.TB, secret []byte) []byte {
	t.Helper()
	k, err := hkdf.Key(sha256.New, secret, nil, "jwtguard refresh token v1", min(max(len(secret), 32), 64))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// dropClaim, as a value for withClaims, removes the claim.
type dropClaim struct{}

// withClaims returns payload with claims set (name, value pairs) or dropped.
// Numbers stay exact: json.Number in, json.Number out.
func withClaims(t *testing.T, payload string, kv ...any) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(payload))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		name := kv[i].(string)
		if _, drop := kv[i+1].(dropClaim); drop {
			delete(m, name)
		} else {
			m[name] = kv[i+1]
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// segments splits a compact JWS.
func segments(token string) (header, payload, sig string) {
	parts := strings.SplitN(token, ".", 3)
	return parts[0], parts[1], parts[2]
}

// replaceAt returns s with the byte at i replaced by c.
func replaceAt(s string, i int, c byte) string { return s[:i] + string(c) + s[i+1:] }

// otherB64 returns a base64url character that differs from c.
func otherB64(c byte) byte {
	if c == 'A' {
		return 'B'
	}
	return 'A'
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkixOf(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// selfSignedCert is a certificate an attacker made for their own key, for x5c.
func selfSignedCert(t *testing.T, key *rsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "jwtguard"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rows builds the table against the suite's live sessions.
func (s *attackSuite) rows(t *testing.T) []attack {
	const (
		malformed  = "token_malformed"
		invalid    = "token_invalid"
		keyUnknown = "key_unknown" // refresh and logout: the key is gone, log in again
		expired    = "token_expired"
		notYet     = "token_not_yet_valid"
		wrongType  = "token_wrong_type"
		missing    = "token_missing"
		badRequest = "bad_request"
	)
	k := s.keys
	tok := s.hsTok
	now := s.hs.clock.Now().Unix()
	access := claimsOf(t, tok.AccessToken)   // a genuine access payload of the HS256 app
	refresh := claimsOf(t, tok.RefreshToken) // a genuine refresh payload of the HS256 app
	refreshKey := refreshKeyFor(t, testSecret)
	evil := []byte("attacker-secret-attacker-secret-!")

	const ah = `{"alg":"HS256","typ":"at+jwt"}` // access header of the HS256 app
	const rh = `{"alg":"HS256","typ":"rt+jwt"}` // refresh header of the HS256 app
	ours := func(header, payload string) string { return signHS256(t, header, payload, testSecret) }
	oursRefresh := func(header, payload string) string { return signHS256(t, header, payload, refreshKey) }
	claims := func(kv ...any) string { return withClaims(t, access, kv...) }
	refreshClaims := func(kv ...any) string { return withClaims(t, refresh, kv...) }
	unsigned := func(header, payload string) string { return b64(header) + "." + b64(payload) + "." }

	_, _, genuineSig := segments(tok.AccessToken)
	ghdr, gpay, _ := segments(tok.AccessToken)

	rsAccess := claimsOf(t, s.rsTok.AccessToken)
	rsRefresh := claimsOf(t, s.rsTok.RefreshToken)
	esAccess := claimsOf(t, s.esTok.AccessToken)
	edAccess := claimsOf(t, s.edTok.AccessToken)
	rsPub := &k.rsa.PublicKey
	rsPKIX := pkixOf(t, rsPub)
	rsPEM := pemOf("PUBLIC KEY", rsPKIX)
	rsPKCS1PEM := pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(rsPub))
	esPKIX := pkixOf(t, &k.ec.PublicKey)
	esPoint, err := k.ec.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	edPub := k.ed.Public().(ed25519.PublicKey)
	edPKIX := pkixOf(t, edPub)

	evilJWK := func(kid string) map[string]any {
		j := map[string]any{"kty": "RSA", "n": base64.RawURLEncoding.EncodeToString(k.evilRSA.N.Bytes()), "e": "AQAB"}
		if kid != "" {
			j["kid"] = kid
		}
		return j
	}
	evilECJWK := map[string]any{"kty": "EC", "crv": "P-256",
		"x": base64.RawURLEncoding.EncodeToString(k.evilEC.X.FillBytes(make([]byte, 32))),
		"y": base64.RawURLEncoding.EncodeToString(k.evilEC.Y.FillBytes(make([]byte, 32)))}
	evilEdJWK := map[string]any{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(k.evilEd.Public().(ed25519.PublicKey))}
	jkuURL := s.jku.URL + "/jwks.json"

	hdr := func(fields ...any) string { // an access header of the given fields
		m := map[string]any{}
		for i := 0; i+1 < len(fields); i += 2 {
			m[fields[i].(string)] = fields[i+1]
		}
		return jsonOf(t, m)
	}

	bigClaims := claims("ext", map[string]string{"pad": strings.Repeat("x", 8<<10)})
	deep := json.RawMessage(strings.Repeat("[", 2000) + strings.Repeat("]", 2000))
	tooDeep := strings.Replace(access, "{", `{"ext":`+strings.Repeat("[", 3000)+`,`, 1)

	rows := []attack{
		// --- alg none, in any spelling, with and without a signature (RFC 8725 §2.1, §3.1)
		guardRow("alg none unsigned", unsigned(`{"alg":"none","typ":"at+jwt"}`, access), invalid),
		guardRow("alg None unsigned", unsigned(`{"alg":"None","typ":"at+jwt"}`, access), invalid),
		guardRow("alg NONE unsigned", unsigned(`{"alg":"NONE","typ":"at+jwt"}`, access), invalid),
		guardRow("alg nOnE unsigned", unsigned(`{"alg":"nOnE","typ":"at+jwt"}`, access), invalid),
		guardRow("alg none with a genuine signature", unsigned(`{"alg":"none","typ":"at+jwt"}`, access)+genuineSig, invalid),
		guardRow("alg None with a genuine signature", unsigned(`{"alg":"None","typ":"at+jwt"}`, access)+genuineSig, invalid),
		guardRow("alg NONE with a forged signature", ours(`{"alg":"NONE","typ":"at+jwt"}`, access), invalid),
		guardRow("alg nOnE with a forged signature", ours(`{"alg":"nOnE","typ":"at+jwt"}`, access), invalid),
		guardRow("alg empty", unsigned(`{"alg":"","typ":"at+jwt"}`, access), invalid),
		guardRow("alg missing", ours(`{"typ":"at+jwt"}`, access), invalid),
		guardRow("alg a number", ours(`{"alg":256,"typ":"at+jwt"}`, access), invalid),
		guardRow("alg none naming the RSA key", unsigned(`{"alg":"none","typ":"at+jwt","kid":"rs"}`, rsAccess), invalid).on(s.rs),
		refreshRow("refresh alg none", unsigned(`{"alg":"none","typ":"rt+jwt"}`, refresh), invalid),
		refreshRow("refresh alg NONE", unsigned(`{"alg":"NONE","typ":"rt+jwt"}`, refresh), invalid),
		logoutBearerRow("logout alg none access token", unsigned(`{"alg":"none","typ":"at+jwt"}`, access), invalid),
		logoutBodyRow("logout alg None refresh token", unsigned(`{"alg":"None","typ":"rt+jwt"}`, refresh), invalid),

		// --- HS/RS confusion: the public key used as an HMAC secret (RFC 8725 §2.1)
		guardRow("HS256 with the RSA public key PEM as secret", forge(t, jwt.SigningMethodHS256, rsPEM, `{"alg":"HS256","typ":"at+jwt","kid":"rs"}`, rsAccess), invalid).on(s.rs),
		guardRow("HS256 with the RSA public key PKCS#1 PEM as secret", forge(t, jwt.SigningMethodHS256, rsPKCS1PEM, `{"alg":"HS256","typ":"at+jwt","kid":"rs"}`, rsAccess), invalid).on(s.rs),
		guardRow("HS256 with the RSA public key DER as secret", forge(t, jwt.SigningMethodHS256, rsPKIX, `{"alg":"HS256","typ":"at+jwt","kid":"rs"}`, rsAccess), invalid).on(s.rs),
		guardRow("HS512 with the RSA public key PEM, no kid", forge(t, jwt.SigningMethodHS512, rsPEM, `{"alg":"HS512","typ":"at+jwt"}`, rsAccess), invalid).on(s.rs),
		guardRow("PS256 signed with the RS256 key", forge(t, jwt.SigningMethodPS256, k.rsa, `{"alg":"PS256","typ":"at+jwt","kid":"rs"}`, rsAccess), invalid).on(s.rs),
		refreshRow("refresh HS256 with the RSA public key PEM", forge(t, jwt.SigningMethodHS256, rsPEM, `{"alg":"HS256","typ":"rt+jwt","kid":"rs"}`, rsRefresh), invalid).on(s.rs),
		refreshRow("refresh RS256 signed with the access signing key", forge(t, jwt.SigningMethodRS256, k.rsa, `{"alg":"RS256","typ":"rt+jwt","kid":"rs"}`, rsRefresh), invalid).on(s.rs),
		logoutBearerRow("logout HS256 with the RSA public key PEM", forge(t, jwt.SigningMethodHS256, rsPEM, `{"alg":"HS256","typ":"at+jwt","kid":"rs"}`, rsAccess), invalid).on(s.rs),
		guardRow("HS256 with the ECDSA public key PEM as secret", forge(t, jwt.SigningMethodHS256, pemOf("PUBLIC KEY", esPKIX), `{"alg":"HS256","typ":"at+jwt","kid":"es"}`, esAccess), invalid).on(s.es),
		guardRow("HS256 with the ECDSA public key DER as secret", forge(t, jwt.SigningMethodHS256, esPKIX, `{"alg":"HS256","typ":"at+jwt","kid":"es"}`, esAccess), invalid).on(s.es),
		guardRow("HS256 with the ECDSA public point as secret", forge(t, jwt.SigningMethodHS256, esPoint.Bytes(), `{"alg":"HS256","typ":"at+jwt","kid":"es"}`, esAccess), invalid).on(s.es),
		guardRow("ES384 by an attacker's P-384 key naming the ES256 key", forge(t, jwt.SigningMethodES384, k.evilEC384, `{"alg":"ES384","typ":"at+jwt","kid":"es"}`, esAccess), invalid).on(s.es),
		guardRow("HS256 with the Ed25519 public key PEM as secret", forge(t, jwt.SigningMethodHS256, pemOf("PUBLIC KEY", edPKIX), `{"alg":"HS256","typ":"at+jwt","kid":"ed"}`, edAccess), invalid).on(s.ed),
		guardRow("HS256 with the raw Ed25519 public key as secret", forge(t, jwt.SigningMethodHS256, []byte(edPub), `{"alg":"HS256","typ":"at+jwt","kid":"ed"}`, edAccess), invalid).on(s.ed),
		guardRow("alg Ed25519 (fully specified name) by an attacker", forge(t, jwt.SigningMethodEdDSA, k.evilEd, `{"alg":"Ed25519","typ":"at+jwt","kid":"ed"}`, edAccess), invalid).on(s.ed),
		guardRow("RS256 on the HMAC app by an attacker's key", forge(t, jwt.SigningMethodRS256, k.evilRSA, `{"alg":"RS256","typ":"at+jwt"}`, access), invalid),

		// --- kid injection and unknown kid (RFC 8725 §3.10): kid is only a map key
		guardRow("kid path traversal to /dev/null, empty secret", signHS256(t, `{"alg":"HS256","typ":"at+jwt","kid":"../../../dev/null"}`, access, nil), invalid),
		guardRow("kid /etc/passwd", ours(`{"alg":"HS256","typ":"at+jwt","kid":"/etc/passwd"}`, access), invalid),
		guardRow("kid SQL injection", signHS256(t, `{"alg":"HS256","typ":"at+jwt","kid":"x' UNION SELECT 'attacker-secret-attacker-secret-!' --"}`, access, evil), invalid),
		guardRow("kid command injection", ours(`{"alg":"HS256","typ":"at+jwt","kid":"key|rm -rf /;$(id)"}`, access), invalid),
		guardRow("kid empty, attacker's secret", signHS256(t, `{"alg":"HS256","typ":"at+jwt","kid":""}`, access, evil), invalid),
		guardRow("kid empty on a keyring with ids", forge(t, jwt.SigningMethodRS256, k.evilRSA, `{"alg":"RS256","typ":"at+jwt","kid":""}`, rsAccess), invalid).on(s.rs),
		guardRow("kid a number", ours(`{"alg":"HS256","typ":"at+jwt","kid":0}`, access), invalid),
		guardRow("kid null", ours(`{"alg":"HS256","typ":"at+jwt","kid":null}`, access), invalid),
		guardRow("kid an array", forge(t, jwt.SigningMethodRS256, k.rsa, `{"alg":"RS256","typ":"at+jwt","kid":["rs"]}`, rsAccess), invalid).on(s.rs),
		guardRow("kid very long", ours(hdr("alg", "HS256", "typ", "at+jwt", "kid", strings.Repeat("k", 4000)), access), invalid),
		guardRow("kid in another case", forge(t, jwt.SigningMethodRS256, k.rsa, `{"alg":"RS256","typ":"at+jwt","kid":"RS"}`, rsAccess), invalid).on(s.rs),
		guardRow("kid with a NUL byte", forge(t, jwt.SigningMethodRS256, k.rsa, `{"alg":"RS256","typ":"at+jwt","kid":"rs\u0000"}`, rsAccess), invalid).on(s.rs),
		guardRow("unknown kid signed with our key", ours(`{"alg":"HS256","typ":"at+jwt","kid":"2025-retired"}`, access), invalid),
		refreshRow("refresh kid path traversal", signHS256(t, `{"alg":"HS256","typ":"rt+jwt","kid":"../../../dev/null"}`, refresh, nil), keyUnknown),
		logoutBearerRow("logout unknown kid", ours(`{"alg":"HS256","typ":"at+jwt","kid":"other"}`, access), keyUnknown),

		// --- jku, x5u, jwk, x5c: never followed, never trusted (RFC 8725 §3.10)
		guardRow("jku to an attacker's JWKS", signHS256(t, hdr("alg", "HS256", "typ", "at+jwt", "jku", jkuURL), access, evil), invalid),
		guardRow("embedded oct jwk with the attacker's secret", signHS256(t, hdr("alg", "HS256", "typ", "at+jwt", "jwk", map[string]string{"kty": "oct", "k": base64.RawURLEncoding.EncodeToString(evil)}), access, evil), invalid),
		guardRow("jku naming the RSA kid", forge(t, jwt.SigningMethodRS256, k.evilRSA, hdr("alg", "RS256", "typ", "at+jwt", "kid", "rs", "jku", jkuURL), rsAccess), invalid).on(s.rs),
		guardRow("x5u to an attacker's certificate", forge(t, jwt.SigningMethodRS256, k.evilRSA, hdr("alg", "RS256", "typ", "at+jwt", "kid", "rs", "x5u", s.jku.URL+"/cert.pem"), rsAccess), invalid).on(s.rs),
		guardRow("embedded RSA jwk naming the RSA kid", forge(t, jwt.SigningMethodRS256, k.evilRSA, hdr("alg", "RS256", "typ", "at+jwt", "kid", "rs", "jwk", evilJWK("rs")), rsAccess), invalid).on(s.rs),
		guardRow("embedded RSA jwk without kid", forge(t, jwt.SigningMethodRS256, k.evilRSA, hdr("alg", "RS256", "typ", "at+jwt", "jwk", evilJWK("")), rsAccess), invalid).on(s.rs),
		guardRow("x5c with the attacker's self-signed certificate", forge(t, jwt.SigningMethodRS256, k.evilRSA, hdr("alg", "RS256", "typ", "at+jwt", "kid", "rs", "x5c", []string{base64.StdEncoding.EncodeToString(selfSignedCert(t, k.evilRSA))}), rsAccess), invalid).on(s.rs),
		guardRow("embedded EC jwk", forge(t, jwt.SigningMethodES256, k.evilEC, hdr("alg", "ES256", "typ", "at+jwt", "kid", "es", "jwk", evilECJWK), esAccess), invalid).on(s.es),
		guardRow("embedded OKP jwk", forge(t, jwt.SigningMethodEdDSA, k.evilEd, hdr("alg", "EdDSA", "typ", "at+jwt", "kid", "ed", "jwk", evilEdJWK), edAccess), invalid).on(s.ed),
		refreshRow("refresh with jku", signHS256(t, hdr("alg", "HS256", "typ", "rt+jwt", "jku", jkuURL), refresh, evil), invalid),
		logoutBodyRow("logout with x5u", signHS256(t, hdr("alg", "HS256", "typ", "rt+jwt", "x5u", jkuURL), refresh, evil), invalid),

		// --- issuer and audience (RFC 8725 §3.8, §3.9)
		guardRow("wrong iss", ours(ah, claims("iss", "evil")), invalid),
		guardRow("iss missing", ours(ah, claims("iss", dropClaim{})), invalid),
		guardRow("iss with a trailing NUL", ours(ah, claims("iss", "jwtguard\x00")), invalid),
		guardRow("iss an array", ours(ah, claims("iss", []string{"jwtguard"})), malformed),
		guardRow("wrong aud", ours(ah, claims("aud", "evil")), invalid),
		guardRow("aud array without ours", ours(ah, claims("aud", []string{"billing", "mail"})), invalid),
		guardRow("aud empty array", ours(ah, claims("aud", []string{})), invalid),
		guardRow("aud in another case", ours(ah, claims("aud", "JWTGuard")), invalid),
		guardRow("aud missing", ours(ah, claims("aud", dropClaim{})), invalid),
		guardRow("genuine token of another issuer with our key", s.billingTok.AccessToken, invalid),
		refreshRow("refresh genuine token of another issuer", s.billingTok.RefreshToken, invalid),
		refreshRow("refresh wrong iss", oursRefresh(rh, refreshClaims("iss", "evil")), invalid),
		logoutBearerRow("logout genuine token of another issuer", s.billingTok.AccessToken, invalid),
		logoutBodyRow("logout refresh token with wrong aud", oursRefresh(rh, refreshClaims("aud", "evil")), invalid),

		// --- type confusion (RFC 8725 §3.11)
		guardRow("refresh token as access token", tok.RefreshToken, wrongType),
		guardRow("header typ JWT", ours(`{"alg":"HS256","typ":"JWT"}`, access), wrongType),
		guardRow("header typ missing", ours(`{"alg":"HS256"}`, access), wrongType),
		guardRow("header typ a number", ours(`{"alg":"HS256","typ":1}`, access), wrongType),
		guardRow("header typ rt+jwt over access claims", ours(`{"alg":"HS256","typ":"rt+jwt"}`, access), wrongType),
		guardRow("claim typ refresh under the access header", ours(ah, claims("typ", "refresh")), wrongType),
		guardRow("claim typ missing", ours(ah, claims("typ", dropClaim{})), wrongType),
		guardRow("claim typ in another case", ours(ah, claims("typ", "Access")), wrongType),
		guardRow("refresh claims signed with the refresh key under the access header", oursRefresh(ah, refreshClaims("typ", "access")), invalid),
		refreshRow("access token as refresh token", tok.AccessToken, wrongType),
		refreshRow("refresh header signed with the access key", ours(rh, refresh), invalid),
		refreshRow("refresh with header typ at+jwt", oursRefresh(ah, refresh), wrongType),
		refreshRow("refresh with header typ JWT", oursRefresh(`{"alg":"HS256","typ":"JWT"}`, refresh), wrongType),
		refreshRow("refresh with claim typ access", oursRefresh(rh, refreshClaims("typ", "access")), wrongType),
		logoutBearerRow("logout refresh token as bearer", tok.RefreshToken, wrongType),
		logoutBodyRow("logout access token as refresh_token", tok.AccessToken, wrongType),

		// --- time claims (RFC 7519 §4.1.4-6; leeway 10 s)
		guardRow("expired", ours(ah, claims("exp", now-60)), expired),
		guardRow("expired within leeway", ours(ah, claims("exp", now-5)), "").want(http.StatusOK, ""),
		guardRow("nbf in the future beyond leeway", ours(ah, claims("nbf", now+60)), notYet),
		guardRow("nbf in the future within leeway", ours(ah, claims("nbf", now+5)), "").want(http.StatusOK, ""),
		guardRow("iat in the future", ours(ah, claims("iat", now+3600)), notYet),
		guardRow("iat in the future within leeway", ours(ah, claims("iat", now+5)), "").want(http.StatusOK, ""),
		guardRow("exp missing", ours(ah, claims("exp", dropClaim{})), invalid),
		guardRow("exp null", ours(ah, claims("exp", nil)), invalid),
		guardRow("exp a string", ours(ah, claims("exp", fmt.Sprint(now+600))), malformed),
		guardRow("nbf a string", ours(ah, claims("nbf", fmt.Sprint(now))), malformed),
		guardRow("exp a boolean", ours(ah, claims("exp", true)), malformed),
		guardRow("exp zero", ours(ah, claims("exp", 0)), expired),
		guardRow("exp negative", ours(ah, claims("exp", -1)), expired),
		guardRow("exp beyond float64", ours(ah, claims("exp", json.Number("1e400"))), malformed),
		refreshRow("refresh expired", oursRefresh(rh, refreshClaims("exp", now-60)), expired),
		refreshRow("refresh nbf in the future", oursRefresh(rh, refreshClaims("nbf", now+3600)), notYet),
		refreshRow("refresh exp missing", oursRefresh(rh, refreshClaims("exp", dropClaim{})), invalid),

		// --- signature tampering
		guardRow("signature stripped", b64(ah)+"."+b64(access)+".", invalid),
		guardRow("signature and its dot stripped", b64(ah)+"."+b64(access), malformed),
		guardRow("signature truncated to a valid length", tok.AccessToken[:len(tok.AccessToken)-3], invalid),
		guardRow("signature truncated to an impossible length", tok.AccessToken[:len(tok.AccessToken)-2], malformed),
		guardRow("signature with a flipped bit", ghdr+"."+gpay+"."+replaceAt(genuineSig, 10, otherB64(genuineSig[10])), invalid),
		guardRow("signature with its spare low bits set", ghdr+"."+gpay+"."+genuineSig[:len(genuineSig)-1]+string(spareBits(genuineSig[len(genuineSig)-1])), malformed),
		guardRow("signature with an embedded newline", ghdr+"."+gpay+"."+genuineSig[:20]+"\n"+genuineSig[20:], malformed).through("engine"),
		guardRow("payload tampered, genuine signature", ghdr+"."+b64(claims("sub", "bob"))+"."+genuineSig, invalid),
		guardRow("signature of another token", ghdr+"."+gpay+"."+sigOf(s.billingTok.AccessToken), invalid),
		guardRow("signed with an attacker's secret", signHS256(t, ah, access, evil), invalid),
		refreshRow("refresh signature stripped", tok.RefreshToken[:strings.LastIndex(tok.RefreshToken, ".")+1], invalid),
		refreshRow("refresh signature truncated", tok.RefreshToken[:len(tok.RefreshToken)-3], invalid),
		logoutBodyRow("logout refresh signature flipped", flipSig(tok.RefreshToken), invalid),

		// --- segments and encoding
		guardRow("four segments", tok.AccessToken+"."+genuineSig, malformed),
		guardRow("five segments (JWE shape)", ghdr+"."+gpay+"."+genuineSig+"."+genuineSig+"."+genuineSig, malformed),
		guardRow("header segment repeated", ghdr+"."+ghdr+"."+gpay+"."+genuineSig, malformed),
		guardRow("all segments empty", "..", malformed),
		guardRow("empty header segment", "."+gpay+"."+genuineSig, malformed),
		guardRow("empty payload segment", ghdr+".."+genuineSig, malformed),
		guardRow("one segment", gpay, malformed),
		guardRow("standard base64 characters", ghdr+"."+gpay+"."+replaceAt(genuineSig, 5, '+'), malformed),
		guardRow("non-base64 characters in the header", "eyJ*bGci~."+gpay+"."+genuineSig, malformed),
		guardRow("padding in every segment", base64.URLEncoding.EncodeToString([]byte(ah))+"."+base64.URLEncoding.EncodeToString([]byte(access+" "))+"."+genuineSig+"=", malformed),
		guardRow("padding after the signature", tok.AccessToken+"==", malformed),
		guardRow("header not JSON", b64("alg=HS256")+"."+gpay+"."+genuineSig, malformed),
		guardRow("header a JSON array", b64(`["HS256"]`)+"."+gpay+"."+genuineSig, malformed),
		refreshRow("refresh four segments", tok.RefreshToken+".x", malformed),
		refreshRow("refresh x.y.z", "x.y.z", malformed),

		// --- size (RFC 8725 §3.4: bound what is parsed)
		guardRow("oversized token", ours(ah, bigClaims), malformed),
		guardRow("oversized garbage", strings.Repeat("a", 9000), malformed),
		guardRow("huge Authorization header (200 KiB)", strings.Repeat("eyJ", 70_000), malformed),
		guardRow("huge JOSE header under the size cap, attacker-signed", signHS256(t, hdr("alg", "HS256", "typ", "at+jwt", "x-pad", strings.Repeat("p", 5000)), access, evil), invalid),
		guardRow("huge JOSE header over the size cap", ours(hdr("alg", "HS256", "typ", "at+jwt", "x-pad", strings.Repeat("p", 9000)), access), malformed),
		refreshRow("refresh oversized token", oursRefresh(rh, withClaims(t, refresh, "ext", map[string]string{"pad": strings.Repeat("x", 9000)})), malformed),
		refreshRow("refresh body over 16 KiB", strings.Repeat("a", 20_000), badRequest),

		// --- unicode and control characters
		guardRow("control character (raw TCP)", "abc\x01def.ghi.jkl", "").through("raw").want(http.StatusBadRequest, ""),
		guardRow("NUL byte (raw TCP)", tok.AccessToken+"\x00", "").through("raw").want(http.StatusBadRequest, ""),
		guardRow("NUL after a genuine token (engine)", tok.AccessToken+"\x00", malformed).through("engine"),
		guardRow("DEL characters (engine)", "\x7f\x7f.\x7f.\x7f", malformed).through("engine"),
		guardRow("ESC sequence (engine)", "\x1b[31m.x.y", malformed).through("engine"),
		guardRow("CR LF only (engine)", "\r\n", missing).through("engine"),
		guardRow("fullwidth look-alike characters", "ｅｙＪ.ｅｙＪ.ｓｉｇ", malformed),
		guardRow("zero-width space inside a genuine token", ghdr+"."+gpay+"\u200b."+genuineSig, malformed),
		guardRow("right-to-left override", "\u202e"+tok.AccessToken, malformed),
		guardRow("invalid UTF-8", "\xff\xfe.\xc0\xaf.\xed\xa0\x80", malformed),
		guardRow("NUL in the typ header", ours(`{"alg":"HS256","typ":"at+jwt\u0000"}`, access), wrongType),
		attack{name: "no-break space after the scheme", route: "guard", authz: "Bearer\u00a0" + tok.AccessToken, status: http.StatusUnauthorized, code: missing},
		refreshRow("refresh NUL in the token", "\x00"+tok.RefreshToken, malformed),
		refreshRow("refresh token of control characters", "\x01\x02.\x03.\x04", malformed),

		// --- claims JSON: duplicates, case collisions, escapes, wrong types (SPEC §9)
		guardRow("duplicate sub", ours(ah, strings.Replace(access, "{", `{"sub":"bob",`, 1)), malformed),
		guardRow("duplicate sid, attacker-signed", signHS256(t, ah, strings.Replace(access, "{", `{"sid":"x",`, 1), evil), malformed),
		guardRow("case-colliding EXP", ours(ah, strings.Replace(access, "{", `{"EXP":99999999999,`, 1)), malformed),
		guardRow("case-colliding Sid", ours(ah, strings.Replace(access, "{", `{"Sid":"other",`, 1)), malformed),
		guardRow("long s folding to sid (ſid)", ours(ah, strings.Replace(access, "{", "{\"\u017fid\":\"other\",", 1)), malformed),
		guardRow("escaped long s folding to sid", ours(ah, strings.Replace(access, "{", `{"\u017fid":"other",`, 1)), malformed),
		guardRow("escaped claim name", ours(ah, strings.Replace(access, `"sub":`, `"\u0073ub":`, 1)), malformed),
		guardRow("sub a number", ours(ah, claims("sub", 42)), malformed),
		guardRow("sid a number", ours(ah, claims("sid", 7)), malformed),
		guardRow("jti an object", ours(ah, claims("jti", map[string]int{"a": 1})), malformed),
		guardRow("aud a number", ours(ah, claims("aud", 5)), malformed),
		guardRow("roles a string", ours(ah, claims("roles", "admin")), malformed),
		guardRow("ver a string", ours(ah, claims("ver", "1")), malformed),
		guardRow("gen a string", ours(ah, claims("gen", "1")), malformed),
		guardRow("gen zero", ours(ah, claims("gen", 0)), invalid),
		guardRow("gen negative", ours(ah, claims("gen", -1)), invalid),
		guardRow("ver negative", ours(ah, claims("ver", -5)), invalid),
		guardRow("gen fractional", ours(ah, claims("gen", 1.5)), malformed),
		guardRow("ver beyond int64", ours(ah, claims("ver", json.Number("99999999999999999999"))), malformed),
		guardRow("gen 1e30", ours(ah, claims("gen", json.Number("1e30"))), malformed),
		guardRow("auth_time a string", ours(ah, claims("auth_time", "yesterday")), malformed),
		guardRow("deeply nested ext, attacker-signed", signHS256(t, ah, claims("ext", deep), evil), invalid),
		guardRow("unbalanced nesting", ours(ah, tooDeep), malformed),
		guardRow("payload a JSON array", ours(ah, `[`+access+`]`), malformed),
		guardRow("payload a bare string", ours(ah, `"alice"`), malformed),
		guardRow("payload null (decodes to no claims: exp missing)", ours(ah, `null`), invalid),
		guardRow("payload empty", ours(ah, ``), malformed),
		guardRow("payload with a byte order mark", ours(ah, "\ufeff"+access), malformed),
		refreshRow("refresh duplicate gen", oursRefresh(rh, strings.Replace(refresh, "{", `{"gen":999,`, 1)), malformed),
		refreshRow("refresh gen a string", oursRefresh(rh, refreshClaims("gen", "2")), malformed),
		refreshRow("refresh gen zero", oursRefresh(rh, refreshClaims("gen", 0)), invalid),
		refreshRow("refresh case-colliding VER", oursRefresh(rh, strings.Replace(refresh, "{", `{"VER":1,`, 1)), malformed),

		// --- JOSE header names and UTF-8: a header must read the same to every
		// JSON parser. Each of these is signed with the app's own key, so only
		// the parser rules refuse it.
		guardRow("escaped crit header name", ours(`{"alg":"HS256","typ":"at+jwt","\u0063rit":["foo"]}`, access), malformed),
		guardRow("escaped alg header name reading none", ours(`{"alg":"HS256","typ":"at+jwt","\u0061lg":"none"}`, access), malformed),
		guardRow("escaped kid header name", ours(`{"alg":"HS256","typ":"at+jwt","\u006bid":"other"}`, access), malformed),
		guardRow("duplicate alg, none first", ours(`{"alg":"none","typ":"at+jwt","alg":"HS256"}`, access), malformed),
		guardRow("duplicate typ", ours(`{"alg":"HS256","typ":"rt+jwt","typ":"at+jwt"}`, access), malformed),
		guardRow("duplicate kid", forge(t, jwt.SigningMethodRS256, k.rsa, `{"alg":"RS256","typ":"at+jwt","kid":"other","kid":"rs"}`, rsAccess), malformed).on(s.rs),
		guardRow("duplicate unread header parameter", ours(`{"alg":"HS256","typ":"at+jwt","x":1,"x":2}`, access), malformed),
		guardRow("case-colliding ALG", ours(`{"alg":"HS256","typ":"at+jwt","ALG":"none"}`, access), malformed),
		guardRow("case-colliding Crit", ours(`{"alg":"HS256","typ":"at+jwt","Crit":["exp"]}`, access), malformed),
		guardRow("Kelvin sign folding to kid", forge(t, jwt.SigningMethodRS256, k.rsa, "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"rs\",\"\u212aid\":\"x\"}", rsAccess), malformed).on(s.rs),
		guardRow("invalid UTF-8 in a header name", ours("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"x\xff\":1}", access), malformed),
		guardRow("invalid UTF-8 in an unread header value", ours("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"x\":\"\xc0\xaf\"}", access), malformed),
		guardRow("UTF-16 surrogate in the kid", forge(t, jwt.SigningMethodRS256, k.rsa, "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"rs\xed\xa0\x80\"}", rsAccess), malformed).on(s.rs),
		guardRow("invalid UTF-8 in sub", ours(ah, strings.Replace(access, `"sub":"alice"`, "\"sub\":\"alice\xff\"", 1)), malformed),
		guardRow("invalid UTF-8 in ext", ours(ah, strings.Replace(access, "{", "{\"ext\":{\"name\":\"\xfe\"},", 1)), malformed),
		guardRow("invalid UTF-8 in a role", ours(ah, strings.Replace(access, `"roles":["admin"]`, "\"roles\":[\"admin\xc3\"]", 1)), malformed),
		refreshRow("refresh escaped crit header name", oursRefresh(`{"alg":"HS256","typ":"rt+jwt","\u0063rit":["foo"]}`, refresh), malformed),
		refreshRow("refresh invalid UTF-8 in sid", oursRefresh(rh, strings.Replace(refresh, `"sid":"`, "\"sid\":\"\xff", 1)), malformed),
		logoutBearerRow("logout escaped alg header name", ours(`{"alg":"HS256","typ":"at+jwt","\u0061lg":"none"}`, access), malformed),

		// --- repeated credentials: one Authorization header, one access
		// cookie, one query parameter, never "first wins"
		guardRow("two Authorization headers, genuine first", tok.AccessToken, malformed).withAuthz("Bearer " + signHS256(t, ah, access, evil)),
		guardRow("two Authorization headers, genuine second", signHS256(t, ah, access, evil), malformed).withAuthz("Bearer " + tok.AccessToken),
		guardRow("the genuine Authorization header twice", tok.AccessToken, malformed).withAuthz("Bearer " + tok.AccessToken),
		guardRow("two Authorization headers (raw TCP)", tok.AccessToken, malformed).withAuthz("Bearer " + tok.AccessToken).through("raw"),
		attack{name: "Basic then Bearer", route: "guard", authz: "Basic YWxpY2U6cHc=", moreAuthz: []string{"Bearer " + tok.AccessToken},
			status: http.StatusUnauthorized, code: malformed},
		attack{name: "two Basic headers", route: "guard", authz: "Basic YWxpY2U6cHc=", moreAuthz: []string{"Basic Ym9iOnB3"},
			status: http.StatusUnauthorized, code: missing},
		logoutBearerRow("logout with two Authorization headers", tok.AccessToken, malformed).withAuthz("Bearer " + tok.AccessToken).withQuery("?scope=global"),
		attack{name: "two access cookies (cookie tossing)", route: "guard", target: s.web, cookie: "jwtguard_access=" + s.webBob.AccessToken + "; jwtguard_access=" + s.webAlice.AccessToken,
			token: s.webBob.AccessToken, status: http.StatusUnauthorized, code: malformed},
		attack{name: "the access cookie twice", route: "guard", target: s.web, cookie: "jwtguard_access=" + s.webAlice.AccessToken + "; jwtguard_access=" + s.webAlice.AccessToken,
			status: http.StatusUnauthorized, code: malformed},
		attack{name: "two refresh cookies (cookie tossing)", route: "refresh", target: s.web, cookie: "jwtguard_refresh=" + s.webBob.RefreshToken + "; jwtguard_refresh=" + s.webAlice.RefreshToken,
			token: s.webBob.RefreshToken, status: http.StatusBadRequest, code: malformed},
		attack{name: "access_token query parameter twice", route: "guard", target: s.web, query: "?access_token=" + s.webBob.AccessToken + "&access_token=" + s.webAlice.AccessToken,
			token: s.webBob.AccessToken, status: http.StatusUnauthorized, code: malformed},

		// --- request bodies of refresh and logout
		{name: "form with a forged token first", route: "refresh", ctype: "application/x-www-form-urlencoded",
			body:   url.Values{"grant_type": {"refresh_token"}, "refresh_token": {unsigned(`{"alg":"none","typ":"rt+jwt"}`, refresh), tok.RefreshToken}}.Encode(),
			status: http.StatusBadRequest, code: invalid},
		{name: "refresh_token a JSON array", route: "refresh", ctype: "application/json", body: `{"refresh_token":["` + tok.RefreshToken + `"]}`, status: http.StatusBadRequest, code: badRequest},
		{name: "refresh_token an object", route: "refresh", ctype: "application/json", body: `{"refresh_token":{"alg":"none"}}`, status: http.StatusBadRequest, code: badRequest},
		{name: "two JSON objects", route: "refresh", ctype: "application/json", body: `{"refresh_token":"x.y.z"}{"refresh_token":"a.b.c"}`, status: http.StatusBadRequest, code: badRequest},
		{name: "multipart body", route: "refresh", ctype: "multipart/form-data; boundary=x", body: "--x\r\nContent-Disposition: form-data; name=\"refresh_token\"\r\n\r\nx.y.z\r\n--x--\r\n", status: http.StatusBadRequest, code: badRequest},
		{name: "Content-Type with a broken parameter", route: "refresh", ctype: "application/json; charset", body: `{"refresh_token":"x.y.z"}`, status: http.StatusBadRequest, code: badRequest},
		{name: "grant_type password", route: "refresh", ctype: "application/json", body: `{"grant_type":"password","refresh_token":"` + tok.RefreshToken + `"}`, status: http.StatusBadRequest, code: badRequest},

		// --- logout: a bad credential anywhere ends nothing
		{name: "genuine access token with a forged refresh token", route: "logout", authz: "Bearer " + tok.AccessToken,
			ctype: "application/json", body: jsonOf(t, map[string]string{"refresh_token": unsigned(`{"alg":"none","typ":"rt+jwt"}`, refresh)}),
			status: http.StatusUnauthorized, code: invalid},
		{name: "forged access token with a genuine refresh token", route: "logout", authz: "Bearer " + signHS256(t, ah, access, evil),
			ctype: "application/json", body: jsonOf(t, map[string]string{"refresh_token": tok.RefreshToken}),
			status: http.StatusUnauthorized, code: invalid},
		logoutBearerRow("scope global with a forged token", signHS256(t, ah, access, evil), invalid).withQuery("?scope=global"),
		logoutBearerRow("scope others with a token of another issuer", s.billingTok.AccessToken, invalid).withQuery("?scope=others"),
		logoutBearerRow("scope global with an expired token", ours(ah, claims("exp", now-60)), expired).withQuery("?scope=global"),
		logoutBearerRow("logout four segments", tok.AccessToken+".x", malformed),
		logoutBearerRow("logout oversized", strings.Repeat("a", 9000), malformed),
		logoutBodyRow("logout duplicate sid", oursRefresh(rh, strings.Replace(refresh, "{", `{"sid":"other",`, 1)), malformed),
		{name: "unknown scope", route: "logout", query: "?scope=universe", authz: "Bearer " + tok.AccessToken, status: http.StatusBadRequest, code: badRequest},
	}
	return rows
}

func (x attack) withQuery(q string) attack { x.query = q; return x }

// withAuthz adds Authorization headers after the row's own.
func (x attack) withAuthz(values ...string) attack {
	x.moreAuthz = append(x.moreAuthz, values...)
	return x
}

// spareBits returns the base64url character that decodes to the same bits
// as c in the last position of a 32-byte value (whose low two bits are
// padding), but with those padding bits set: a non-canonical spelling.
func spareBits(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return alphabet[strings.IndexByte(alphabet, c)|3]
}

// sigOf returns the signature segment of token.
func sigOf(token string) string { _, _, sig := segments(token); return sig }

// flipSig changes a character in the middle of token's signature.
func flipSig(token string) string {
	i := strings.LastIndex(token, ".") + 8
	return replaceAt(token, i, otherB64(token[i]))
}
