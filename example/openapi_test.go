package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/jwtguard/jwtguard/ginjwt"
)

// Every HTTP exchange of this package's tests goes through the app's
// OpenAPI document: startApp puts a validating transport under the test
// server's client, which do, doCSRF, form and every direct request use, and
// the WebSocket test validates its raw upgrade with validateExchange. A
// request the document rejects must be refused with a 4xx (the tests send
// bad requests on purpose); every answer must match the document: status,
// headers and body.

// Counts of the exchanges validated and the operations they exercised,
// reported by TestMain.
var (
	validated, refusedInvalid atomic.Int64
	exercised                 sync.Map // "METHOD /path" of the document
)

func TestMain(m *testing.M) {
	// The demo's static files: their bodies are read as strings.
	for _, ct := range []string{"text/html", "text/javascript", "text/css"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
	}
	code := m.Run()
	var unexercised []string
	if doc, err := openapi3.NewLoader().LoadFromData(openAPIDocument); err == nil {
		for path, item := range doc.Paths.Map() {
			for method := range item.Operations() {
				if _, ok := exercised.Load(method + " " + path); !ok {
					unexercised = append(unexercised, method+" "+path)
				}
			}
		}
	}
	slices.Sort(unexercised)
	if len(unexercised) == 0 {
		unexercised = []string{"none"}
	}
	fmt.Fprintf(os.Stderr, "openapi: %d requests and responses validated against example/openapi.json (%d invalid requests, refused with a 4xx); operations not exercised: %s\n",
		validated.Load(), refusedInvalid.Load(), strings.Join(unexercised, ", "))
	os.Exit(code)
}

// loadOpenAPI loads and validates example/openapi.json as OpenAPI 3.1 and
// returns it with a router over its paths.
func loadOpenAPI(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatalf("loading openapi.json: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() || doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi.json is OpenAPI %q, want 3.1.0", doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableSchemaFormatValidation(), openapi3.EnableSchemaPatternValidation(),
		openapi3.EnableSchemaDefaultsValidation(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("openapi.json is not valid OpenAPI 3.1: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("routing openapi.json: %v", err)
	}
	return doc, router
}

// The document is valid OpenAPI 3.1; it describes exactly the routes the
// app mounts, with the introspection route on; its error code enum is
// ginjwt's.
func TestOpenAPIDocument(t *testing.T) {
	doc, _ := loadOpenAPI(t)

	router, closeApp, err := newApp(config{secret: testSecret, introspection: ginjwt.ClientCredentials{ID: "billing", Secret: "billing-secret-0123456789"}}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeApp)
	param := regexp.MustCompile(`:([a-z]+)`)
	var mounted []string
	for _, r := range router.Routes() {
		path := param.ReplaceAllString(r.Path, "{$1}")
		if path == "/demo/*file" { // one gin route, three documented paths
			for _, p := range []string{"/demo/", "/demo/{file}", "/demo/jwtguard/{module}"} {
				mounted = append(mounted, r.Method+" "+p)
			}
			continue
		}
		mounted = append(mounted, r.Method+" "+path)
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	slices.Sort(mounted)
	slices.Sort(documented)
	if !slices.Equal(mounted, documented) {
		t.Errorf("routes mounted:\n%s\nroutes documented:\n%s", strings.Join(mounted, "\n"), strings.Join(documented, "\n"))
	}

	var codes []string
	for _, err := range []error{
		ginjwt.ErrTokenMissing, ginjwt.ErrTokenMalformed, ginjwt.ErrTokenInvalid, ginjwt.ErrTokenExpired,
		ginjwt.ErrTokenNotYetValid, ginjwt.ErrTokenWrongType, ginjwt.ErrTokenRevoked, ginjwt.ErrRefreshReused,
		ginjwt.ErrSessionExpired, ginjwt.ErrAccountDisabled, ginjwt.ErrKeyUnknown, ginjwt.ErrInvalidDPoPProof, ginjwt.ErrUseDPoPNonce, ginjwt.ErrInvalidCredentials,
		ginjwt.ErrInsufficientAuth, ginjwt.ErrInsufficientScope, ginjwt.ErrCSRF, ginjwt.ErrSessionNotFound,
		ginjwt.ErrBadRequest, ginjwt.ErrTooManyRequests, ginjwt.ErrStoreUnavailable, ginjwt.ErrServer,
	} {
		codes = append(codes, ginjwt.ErrorCode(err))
	}
	var enum []string
	for _, v := range doc.Components.Schemas["ErrorCode"].Value.Enum {
		enum = append(enum, v.(string))
	}
	if !slices.Equal(codes, enum) {
		t.Errorf("ErrorCode enum %q, want ginjwt's codes %q", enum, codes)
	}

	// The app serves the document it embeds.
	c := startApp(t, config{secret: testSecret})
	r := expect(t, "openapi.json", c.do("GET", "/openapi.json", "", ""), http.StatusOK, "")
	if !bytes.Equal(r.body, openAPIDocument) || !json.Valid(r.body) {
		t.Fatal("GET /openapi.json does not serve example/openapi.json")
	}
}

// openAPICheck is an http.RoundTripper that validates each request and its
// response against the app's OpenAPI document.
type openAPICheck struct {
	t      *testing.T
	router routers.Router
	base   http.RoundTripper
}

// openAPIRouter is the router of the document, loaded once: it is only
// read.
var openAPIRouter struct {
	sync.Once
	router routers.Router
}

// sharedOpenAPIRouter loads the document the first time.
func sharedOpenAPIRouter(t *testing.T) routers.Router {
	t.Helper()
	openAPIRouter.Do(func() { _, openAPIRouter.router = loadOpenAPI(t) })
	if openAPIRouter.router == nil {
		t.Fatal("openapi.json did not load")
	}
	return openAPIRouter.router
}

// checkOpenAPI makes every request of httpc validated.
func checkOpenAPI(t *testing.T, httpc *http.Client) {
	router := sharedOpenAPIRouter(t)
	base := httpc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	httpc.Transport = &openAPICheck{t: t, router: router, base: base}
}

func (v *openAPICheck) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	res, err := v.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	validateExchange(v.t, v.router, req, reqBody, res.StatusCode, res.Header, body)
	return res, nil
}

// validateExchange fails the test unless the response (status, header,
// body) matches the document, and the request does too or was refused with
// a 4xx.
func validateExchange(t *testing.T, router routers.Router, req *http.Request, reqBody []byte, status int, header http.Header, body []byte) {
	t.Helper()
	ctx := context.Background()
	what := fmt.Sprintf("openapi: %s %s answered %d %s", req.Method, req.URL.Path, status, body)
	vreq := req.Clone(ctx)
	vreq.Body, vreq.ContentLength = io.NopCloser(bytes.NewReader(reqBody)), int64(len(reqBody))
	route, params, err := router.FindRoute(vreq)
	if err != nil {
		t.Errorf("%s: not in openapi.json: %v", what, err)
		return
	}
	exercised.Store(route.Method+" "+route.Path, true)
	opts := &openapi3filter.Options{IncludeResponseStatus: true, AuthenticationFunc: credentialsSent}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		if status < 400 || status >= 500 {
			t.Errorf("%s: the request does not match openapi.json, yet was not refused: %v", what, err)
		} else {
			refusedInvalid.Add(1)
			t.Logf("%s: refused an invalid request: %v", what, err)
		}
	}
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)), Options: opts,
	})
	if err != nil {
		t.Errorf("%s: the response does not match openapi.json: %v", what, err)
	}
	validated.Add(1)
}

// credentialsSent is the AuthenticationFunc of the validation: it checks
// that a request carries the credentials of a security scheme its
// operation lists, not whether the server accepts them.
func credentialsSent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r, s := in.RequestValidationInput.Request, in.SecurityScheme
	switch {
	case s.Type == "http":
		scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if strings.EqualFold(scheme, s.Scheme) && cred != "" {
			return nil
		}
	case s.Type == "apiKey" && s.In == "cookie":
		if _, err := r.Cookie(s.Name); err == nil {
			return nil
		}
	case s.Type == "apiKey" && s.In == "header":
		if r.Header.Get(s.Name) != "" {
			return nil
		}
	}
	return errors.New("no " + in.SecuritySchemeName + " credentials")
}

// validateRaw validates an exchange the test made over a raw connection:
// the request as written, the response as read.
func validateRaw(t *testing.T, rawRequest string, res *http.Response, body []byte) {
	t.Helper()
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(rawRequest)))
	if err != nil {
		t.Fatalf("openapi: reading back the raw request: %v", err)
	}
	validateExchange(t, sharedOpenAPIRouter(t), req, nil, res.StatusCode, res.Header, body)
}

// The variants the other tests leave out, so that each documented
// operation is exercised and validated: form bodies, grant and scope
// errors, logout scopes, the cookie transport's session routes and
// step-up, the JWKS and HEAD on the demo.
func TestOpenAPIVariants(t *testing.T) {
	c := startApp(t, config{secret: testSecret, cookieInsecure: true})
	expect(t, "jwks", c.do("GET", "/.well-known/jwks.json", "", ""), http.StatusOK, "")
	for _, path := range []string{"/demo/", "/demo/app.js", "/demo/jwtguard/index.js"} {
		expect(t, "HEAD "+path, c.do("HEAD", path, "", ""), http.StatusOK, "")
	}

	tok := c.login("bob", "builder")
	r := c.form("/auth/refresh", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, "")
	tok = c.tokens(expect(t, "refresh with a form", r, http.StatusOK, ""))
	if tok.RefreshExpiresIn <= 0 { // optional in the document, for a session's last second
		t.Fatalf("refresh_expires_in %d", tok.RefreshExpiresIn)
	}
	r = c.form("/auth/refresh", url.Values{"grant_type": {"password"}, "refresh_token": {tok.RefreshToken}}, "")
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"unsupported_grant_type"`) {
		t.Fatalf("refresh with grant_type password: %d %s", r.status, r.body)
	}
	expect(t, "refresh without a token", c.do("POST", "/auth/refresh", "", `{}`), http.StatusBadRequest, "bad_request") // invalid_request
	expect(t, "logout with an unknown scope", c.do("POST", "/auth/logout?scope=everything", tok.AccessToken, ""), http.StatusBadRequest, "bad_request")
	expect(t, "logout without a token", c.do("POST", "/auth/logout", "", ""), http.StatusUnauthorized, "token_missing")
	other := c.login("bob", "builder")
	expect(t, "logout others", c.do("POST", "/auth/logout?scope=others", tok.AccessToken, ""), http.StatusNoContent, "")
	expect(t, "the other session", c.me(other.AccessToken), http.StatusUnauthorized, "token_revoked")
	expect(t, "logout global", c.do("POST", "/auth/logout", "", `{"refresh_token":"`+tok.RefreshToken+`","scope":"global"}`), http.StatusNoContent, "")

	// The cookie transport.
	jar, _ := cookiejar.New(nil)
	c.srv.Client().Jar = jar
	r = expect(t, "browser login", c.do("POST", "/web/auth/login", "", `{"username":"alice","password":"wonderland"}`), http.StatusOK, "")
	var tr ginjwt.TokenResponse
	if err := json.Unmarshal(r.body, &tr); err != nil || tr.CSRFToken == "" {
		t.Fatalf("browser login body %s", r.body)
	}
	send := func(method, path, csrf, body string) response {
		t.Helper()
		req, _ := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		res, err := c.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return response{status: res.StatusCode, body: b}
	}
	expect(t, "browser step-up without CSRF", send("POST", "/web/auth/step-up", "", `{"username":"alice","password":"wonderland"}`), http.StatusForbidden, "csrf_failed")
	expect(t, "browser step-up", send("POST", "/web/auth/step-up", tr.CSRFToken, `{"username":"alice","password":"wonderland"}`), http.StatusOK, "")
	bearer := c.login("alice", "wonderland")
	r = expect(t, "browser sessions", send("GET", "/web/auth/sessions", "", ""), http.StatusOK, "")
	var list ginjwt.SessionsResponse
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	for _, s := range list.Sessions {
		if !s.Current {
			expect(t, "browser ends a session without CSRF", send("DELETE", "/web/auth/sessions/"+s.ID, "", ""), http.StatusForbidden, "csrf_failed")
			expect(t, "browser ends a session", send("DELETE", "/web/auth/sessions/"+s.ID, tr.CSRFToken, ""), http.StatusNoContent, "")
		}
	}
	expect(t, "the bearer session ended by the browser", c.me(bearer.AccessToken), http.StatusUnauthorized, "token_revoked")
	expect(t, "browser password change without CSRF", send("POST", "/api/password", "", `{"current_password":"x","new_password":"long-enough"}`), http.StatusForbidden, "csrf_failed")
	expect(t, "browser logout global", send("POST", "/web/auth/logout?scope=global", tr.CSRFToken, ""), http.StatusNoContent, "")
	expect(t, "browser me after logout", send("GET", "/api/me", "", ""), http.StatusUnauthorized, "token_missing")
}

// bypassAllowed are the functions of this package's tests that may talk to
// the app without the validating transport, and why.
var bypassAllowed = map[string]string{
	"upgrade":      "a raw WebSocket upgrade, validated with validateRaw",
	"scrape":       "GET /metrics as Prometheus scrapes it: an operations endpoint, not part of openapi.json",
	"checkOpenAPI": "installs the validating transport",
}

// No test reaches the app around the OpenAPI check: every HTTP client but
// the test server's, and every raw connection, must be in bypassAllowed.
func TestNoOpenAPIBypass(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	bypasses := map[string]bool{ // package.name of what sends a request another way
		"http.Get": true, "http.Head": true, "http.Post": true, "http.PostForm": true,
		"http.DefaultClient": true, "http.DefaultTransport": true, "http.Client": true, "http.Transport": true,
		"net.Dial": true, "net.DialTimeout": true, "net.Dialer": true, "tls.Dial": true,
	}
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				pkg, ok := sel.X.(*ast.Ident)
				if ok && bypasses[pkg.Name+"."+sel.Sel.Name] && bypassAllowed[fn.Name.Name] == "" {
					t.Errorf("%s: %s uses %s.%s: send requests through startApp's client (c.do, c.form, c.srv.Client()), "+
						"or validate them with validateExchange and list %s in bypassAllowed",
						fset.Position(sel.Pos()), fn.Name.Name, pkg.Name, sel.Sel.Name, fn.Name.Name)
				}
				return true
			})
		}
	}
}
