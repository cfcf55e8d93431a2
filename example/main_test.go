package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// testSecret is the HMAC secret of the test apps.
var testSecret = []byte("example-test-secret-0123456789abcdef")

// TestFlow drives the app over HTTP against the embedded miniredis and, when
// REDIS_ADDR, REDIS_CLUSTER_ADDRS or REDIS_SENTINEL_ADDRS is set, against
// that Redis, configured as the app reads it; a Redis that is set must be
// reachable.
func TestFlow(t *testing.T) {
	t.Run("miniredis", func(t *testing.T) {
		testFlow(t, startApp(t, config{secret: testSecret}))
	})
	for _, b := range redistest.Backends(t)[1:] {
		t.Run(b.Name, func(t *testing.T) {
			// A unique prefix, whose keys are deleted when the test ends,
			// keeps a shared Redis clean.
			cfg := config{keyPrefix: redistest.Prefix(t, b), secret: testSecret}
			switch {
			case b.IsCluster():
				cfg.clusterAddrs = b.Addrs
			case b.IsSentinel():
				cfg.sentinelAddrs, cfg.masterName = b.SentinelAddrs, b.MasterName
			default:
				cfg.redisAddr = b.Addr
			}
			testFlow(t, startApp(t, cfg))
		})
		if b.IsSentinel() { // a primary with a replica: durable writes
			t.Run(b.Name+"+acks", func(t *testing.T) {
				cfg := config{keyPrefix: redistest.Prefix(t, b), secret: testSecret, replicaAcks: 1, ackTimeout: 500 * time.Millisecond,
					sentinelAddrs: b.SentinelAddrs, masterName: b.MasterName}
				testFlow(t, startApp(t, cfg))
			})
		}
	}
}

func testFlow(t *testing.T, c *client) {
	expect(t, "healthz", c.do("GET", "/healthz", "", ""), http.StatusOK, "")

	first := c.login("alice", "wonderland")
	r := expect(t, "me with the first access token", c.me(first.AccessToken), http.StatusOK, "")
	var me meResponse
	if err := json.Unmarshal(r.body, &me); err != nil {
		t.Fatalf("me: %v in %s", err, r.body)
	}
	if me.Subject != "u-1001" || me.Profile.Name != "Alice" || me.SessionID == "" {
		t.Fatalf("me: got %s, want subject u-1001, name Alice and a session id", r.body)
	}

	second := c.tokens(expect(t, "refresh", c.refresh(first.RefreshToken), http.StatusOK, ""))
	expect(t, "me with the refreshed-away access token", c.me(first.AccessToken), http.StatusUnauthorized, "token_revoked")
	expect(t, "me with the new access token", c.me(second.AccessToken), http.StatusOK, "")

	expect(t, "logout with the refresh token only", c.logout(second.RefreshToken), http.StatusNoContent, "")
	expectGrant(t, "refresh after logout", c.refresh(second.RefreshToken), "token_revoked")
	expect(t, "me after logout", c.me(second.AccessToken), http.StatusUnauthorized, "token_revoked")

	expect(t, "wrong password", c.do("POST", "/auth/login", "", `{"username":"alice","password":"nope"}`),
		http.StatusUnauthorized, "invalid_credentials")
	expect(t, "unknown user", c.do("POST", "/auth/login", "", `{"username":"mallory","password":"wonderland"}`),
		http.StatusUnauthorized, "invalid_credentials")
	expect(t, "malformed JSON", c.do("POST", "/auth/login", "", `{"username":"alice",`),
		http.StatusBadRequest, "bad_request")

	testRolesAndSessions(t, c)
	testChangePassword(t, c)
}

// testRolesAndSessions checks the admin route and the session routes.
func testRolesAndSessions(t *testing.T, c *client) {
	alice, bob := c.login("alice", "wonderland"), c.login("bob", "builder")
	expect(t, "admin route as alice", c.do("GET", "/api/admin", alice.AccessToken, ""), http.StatusOK, "")
	expect(t, "admin route as bob", c.do("GET", "/api/admin", bob.AccessToken, ""), http.StatusForbidden, "insufficient_scope")

	other := c.login("alice", "wonderland")
	r := expect(t, "alice's sessions", c.do("GET", "/auth/sessions", alice.AccessToken, ""), http.StatusOK, "")
	var list ginjwt.SessionsResponse
	if err := json.Unmarshal(r.body, &list); err != nil || len(list.Sessions) < 2 {
		t.Fatalf("sessions %s: %v", r.body, err)
	}
	var otherID string
	for _, s := range list.Sessions {
		if !s.Current && s.Device == "example-test" {
			otherID = s.ID
		}
	}
	expect(t, "bob ends alice's session", c.do("DELETE", "/auth/sessions/"+otherID, bob.AccessToken, ""), http.StatusNotFound, "session_not_found")
	expect(t, "alice ends her other session", c.do("DELETE", "/auth/sessions/"+otherID, alice.AccessToken, ""), http.StatusNoContent, "")
	expect(t, "the other session after", c.me(other.AccessToken), http.StatusUnauthorized, "token_revoked")
	expect(t, "alice's own session after", c.me(alice.AccessToken), http.StatusOK, "")
}

// testChangePassword checks that a password change logs the user out
// everywhere, then puts the demo password back.
func testChangePassword(t *testing.T, c *client) {
	phone, laptop := c.login("bob", "builder"), c.login("bob", "builder")
	expect(t, "wrong current password", c.do("POST", "/api/password", phone.AccessToken, `{"current_password":"nope","new_password":"builder-2026"}`),
		http.StatusUnauthorized, "invalid_credentials")
	expect(t, "change password", c.do("POST", "/api/password", phone.AccessToken, `{"current_password":"builder","new_password":"builder-2026"}`),
		http.StatusNoContent, "")
	expect(t, "phone after the change", c.me(phone.AccessToken), http.StatusUnauthorized, "token_revoked")
	expect(t, "laptop after the change", c.me(laptop.AccessToken), http.StatusUnauthorized, "token_revoked")
	expectGrant(t, "laptop refresh after the change", c.refresh(laptop.RefreshToken), "token_revoked")
	expect(t, "old password", c.do("POST", "/auth/login", "", `{"username":"bob","password":"builder"}`), http.StatusUnauthorized, "invalid_credentials")
	c.login("bob", "builder-2026")
	if err := setPassword("u-1002", "builder-2026", "builder"); err != nil {
		t.Fatalf("putting the demo password back: %v", err)
	}
}

// TestBrowserTransport drives the cookie routes with a cookie jar.
func TestBrowserTransport(t *testing.T) {
	c := startApp(t, config{secret: testSecret, cookieInsecure: true})
	jar, _ := cookiejar.New(nil)
	c.srv.Client().Jar = jar

	r := expect(t, "browser login", c.do("POST", "/web/auth/login", "", `{"username":"alice","password":"wonderland"}`), http.StatusOK, "")
	var tr ginjwt.TokenResponse
	if err := json.Unmarshal(r.body, &tr); err != nil || tr.AccessToken != "" || tr.CSRFToken == "" {
		t.Fatalf("browser login body %s", r.body)
	}
	expect(t, "me with the cookie", c.do("GET", "/api/me", "", ""), http.StatusOK, "")
	expect(t, "refresh without CSRF", c.do("POST", "/web/auth/refresh", "", ""), http.StatusForbidden, "csrf_failed")
	expect(t, "refresh", c.doCSRF("POST", "/web/auth/refresh", tr.CSRFToken), http.StatusOK, "")
	expect(t, "logout", c.doCSRF("POST", "/web/auth/logout", tr.CSRFToken), http.StatusNoContent, "")
	expect(t, "me after logout", c.do("GET", "/api/me", "", ""), http.StatusUnauthorized, "token_missing")
}

// doCSRF sends a body-less request with the CSRF header.
func (c *client) doCSRF(method, path, csrf string) response {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.srv.URL+path, nil)
	req.Header.Set("X-CSRF-Token", csrf)
	r, _ := c.send(req)
	return r
}

// TestUnreachableRedis checks that the app refuses to start without the
// Redis it was told to use.
func TestUnreachableRedis(t *testing.T) {
	_, _, err := newApp(config{redisAddr: "127.0.0.1:1", secret: testSecret}, testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "REDIS_ADDR") {
		t.Fatalf("newApp with an unreachable Redis: got %v, want an error naming REDIS_ADDR", err)
	}
}

func TestLoadConfig(t *testing.T) {
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			v, ok := vars[k]
			return v, ok
		}
	}
	cfg, err := loadConfig(env(nil))
	if err != nil || cfg.addr != ":8080" || len(cfg.secret) != 32 || !cfg.secretGenerated {
		t.Fatalf("empty environment: got %+v, %v; want :8080 and a generated 32-byte secret", cfg, err)
	}
	for _, short := range []string{"", "too-short"} {
		if _, err := loadConfig(env(map[string]string{"JWT_SECRET": short})); err == nil {
			t.Errorf("JWT_SECRET of %d bytes accepted", len(short))
		}
	}
	cfg, err = loadConfig(env(map[string]string{"ADDR": ":9090", "JWT_SECRET": string(testSecret)}))
	if err != nil || cfg.addr != ":9090" || string(cfg.secret) != string(testSecret) || cfg.secretGenerated {
		t.Fatalf("ADDR and JWT_SECRET set: got %+v, %v", cfg, err)
	}
	cfg, err = loadConfig(env(map[string]string{"REDIS_SENTINEL_ADDRS": " a:1, b:2 ,", "REDIS_MASTER_NAME": "m"}))
	if err != nil || len(cfg.sentinelAddrs) != 2 || cfg.sentinelAddrs[1] != "b:2" || cfg.masterName != "m" {
		t.Fatalf("Sentinel set: got %+v, %v", cfg, err)
	}
	for v, want := range map[string]ginjwt.DPoPMode{"": ginjwt.DPoPOff, "off": ginjwt.DPoPOff, "optional": ginjwt.DPoPOptional, "required": ginjwt.DPoPRequired} {
		if cfg, err := loadConfig(env(map[string]string{"DPOP": v})); err != nil || cfg.dpop != want {
			t.Errorf("DPOP=%q: got mode %d, %v; want %d", v, cfg.dpop, err, want)
		}
	}
	if _, err := loadConfig(env(map[string]string{"DPOP": "yes"})); err == nil || !strings.Contains(err.Error(), "DPOP") {
		t.Errorf("DPOP=yes: got %v, want an error naming DPOP", err)
	}
	if cfg, err := loadConfig(env(map[string]string{"DPOP": "required", "DPOP_NONCE_LIFETIME": "5m"})); err != nil || cfg.dpopNonce != 5*time.Minute {
		t.Errorf("DPOP_NONCE_LIFETIME=5m: got %v, %v", cfg.dpopNonce, err)
	}
	for _, bad := range []map[string]string{{"DPOP_NONCE_LIFETIME": "5m"}, {"DPOP": "optional", "DPOP_NONCE_LIFETIME": "soon"}} {
		if _, err := loadConfig(env(bad)); err == nil || !strings.Contains(err.Error(), "DPOP_NONCE_LIFETIME") {
			t.Errorf("%v: got %v, want an error naming DPOP_NONCE_LIFETIME", bad, err)
		}
	}
	cfg, err = loadConfig(env(map[string]string{"REDIS_ADDR": "a:1", "REDIS_REPLICA_ACKS": "1", "REDIS_REPLICA_ACK_TIMEOUT": "200ms"}))
	if err != nil || cfg.replicaAcks != 1 || cfg.ackTimeout != 200*time.Millisecond {
		t.Fatalf("replica acks set: got %+v, %v", cfg, err)
	}
	for _, bad := range []map[string]string{
		{"REDIS_SENTINEL_ADDRS": "a:1"}, // no master name
		{"REDIS_REPLICA_ACKS": "1"},     // the embedded Redis has no replicas
		{"REDIS_ADDR": "a:1", "REDIS_REPLICA_ACKS": "one"},
		{"REDIS_ADDR": "a:1", "REDIS_REPLICA_ACKS": "1", "REDIS_REPLICA_ACK_TIMEOUT": "5s"},
		{"REDIS_ADDR": "a:1", "REDIS_CLUSTER_ADDRS": "b:1"},
		{"REDIS_CLUSTER_ADDRS": "b:1", "REDIS_SENTINEL_ADDRS": "a:1", "REDIS_MASTER_NAME": "m"},
	} {
		if _, err := loadConfig(env(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// testLogger logs to the test's output, shown for failed tests and with -v.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

// client talks to an app served by httptest.
type client struct {
	t   *testing.T
	srv *httptest.Server
}

// startApp builds the app for cfg and serves it until the test ends.
func startApp(t *testing.T, cfg config) *client {
	t.Helper()
	router, closeApp, err := newApp(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(router)
	// Every request through srv.Client() is validated against openapi.json.
	checkOpenAPI(t, srv.Client())
	t.Cleanup(func() {
		srv.Close()
		closeApp()
	})
	return &client{t: t, srv: srv}
}

// response is what a test sees of an answer.
type response struct {
	status int
	body   []byte
}

// do sends a request with an optional bearer token and JSON body.
func (c *client) do(method, path, token, body string) response {
	c.t.Helper()
	req := c.newRequest(method, path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	r, _ := c.send(req)
	return r
}

// newRequest is a request to the app with an optional JSON body.
func (c *client) newRequest(method, path, body string) *http.Request {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("User-Agent", "example-test")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// send sends req through the validating client and reads the answer.
func (c *client) send(req *http.Request) (response, http.Header) {
	c.t.Helper()
	res, err := c.srv.Client().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{status: res.StatusCode, body: b}, res.Header
}

func (c *client) login(username, password string) ginjwt.TokenResponse {
	c.t.Helper()
	body, _ := json.Marshal(credentials{Username: username, Password: password})
	return c.tokens(expect(c.t, "login "+username, c.do("POST", "/auth/login", "", string(body)), http.StatusOK, ""))
}

func (c *client) me(access string) response { return c.do("GET", "/api/me", access, "") }

func (c *client) refresh(refreshToken string) response {
	body, _ := json.Marshal(map[string]string{"refresh_token": refreshToken})
	return c.do("POST", "/auth/refresh", "", string(body))
}

func (c *client) logout(refreshToken string) response {
	body, _ := json.Marshal(map[string]string{"refresh_token": refreshToken})
	return c.do("POST", "/auth/logout", "", string(body))
}

// tokens decodes a token response.
func (c *client) tokens(r response) ginjwt.TokenResponse {
	c.t.Helper()
	var tr ginjwt.TokenResponse
	if err := json.Unmarshal(r.body, &tr); err != nil || tr.AccessToken == "" || tr.RefreshToken == "" {
		c.t.Fatalf("token response %s: %v", r.body, err)
	}
	return tr
}

// expect fails the test unless r has the status and, when code is not empty,
// the specific error code ("reason" when present, else "error"); it returns
// r.
func expect(t *testing.T, what string, r response, status int, code string) response {
	t.Helper()
	var e ginjwt.ErrorResponse
	_ = json.Unmarshal(r.body, &e)
	if r.status != status || (code != "" && e.Code() != code) {
		t.Fatalf("%s: got %d %s, want %d %s", what, r.status, r.body, status, code)
	}
	return r
}

// expectGrant fails the test unless r is the refresh route's refusal of
// the grant: 400 invalid_grant with the specific reason (RFC 6749 §5.2).
func expectGrant(t *testing.T, what string, r response, reason string) {
	t.Helper()
	var e ginjwt.ErrorResponse
	_ = json.Unmarshal(r.body, &e)
	if r.status != http.StatusBadRequest || e.Error != "invalid_grant" || e.Reason != reason || e.ErrorDescription == "" {
		t.Fatalf("%s: got %d %s, want 400 invalid_grant with reason %s", what, r.status, r.body, reason)
	}
}
