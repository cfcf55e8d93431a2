package ginjwt_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/clocktest"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// storeTimeout is the store timeout of the test apps.
const storeTimeout = 2 * time.Second

// testSecret is the HMAC secret of the test apps.
var testSecret = []byte("0123456789abcdef0123456789abcdef")

// testPasswords are the test users.
var testPasswords = map[string]string{"alice": "alice-pw", "bob": "bob-pw"}

// newClock is the test apps' clock, at a whole second of the real time.
func newClock() *clocktest.Clock { return clocktest.New(time.Now().Truncate(time.Second)) }

// testRoles are the roles of the test users.
var testRoles = map[string][]string{"alice": {"admin"}, "bob": {"user"}}

// app is a Gin app with jwtguard mounted, served over real HTTP.
type app struct {
	t      *testing.T
	auth   *ginjwt.Auth
	clock  *clocktest.Clock
	srv    *httptest.Server
	client redis.UniversalClient
	prefix string
	events *eventLog
}

// eventLog records the events an app emits.
type eventLog struct {
	mu     sync.Mutex
	events []ginjwt.Event
}

func (l *eventLog) add(e ginjwt.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// take returns the events recorded since the last take.
func (l *eventLog) take() []ginjwt.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.events
	l.events = nil
	return e
}

// forEachBackend runs f against miniredis and, when REDIS_ADDR or
// REDIS_CLUSTER_ADDRS is set, the real Redis or Redis Cluster.
func forEachBackend(t *testing.T, f func(t *testing.T, b redistest.Backend)) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { f(t, b) })
	}
}

// newApp starts an app on b; tune may change the options before New.
func newApp(t *testing.T, b redistest.Backend, tune func(*ginjwt.Options)) *app {
	return newAppAt(t, b, redistest.Prefix(t, b), tune)
}

// newAppAt starts an app on b under prefix; a cluster gets a ClusterClient.
func newAppAt(t *testing.T, b redistest.Backend, prefix string, tune func(*ginjwt.Options)) *app {
	t.Helper()
	client := b.ClientWith(t, &redis.UniversalOptions{MaxRetries: -1, ContextTimeoutEnabled: true})
	return newAppOn(t, client, prefix, tune)
}

// newAppOn starts an app whose store uses client, under prefix. The app
// and its store's scripts share one test clock (a.clock).
func newAppOn(t *testing.T, client redis.UniversalClient, prefix string, tune func(*ginjwt.Options)) *app {
	t.Helper()
	clk := newClock()
	store, err := redisstore.New(client, redisstore.WithPrefix(prefix), redisstore.WithTimeout(storeTimeout), redisstore.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	events := &eventLog{}
	opts := ginjwt.Options{
		Store:   store,
		Keys:    []ginjwt.Key{ginjwt.HS256(testSecret)},
		Now:     clk.Now,
		OnEvent: events.add,
		Authenticate: func(c *gin.Context) (ginjwt.Identity, error) {
			var body struct {
				Username string `json:"username"`
				Password string `json:"password"`
				OTP      string `json:"otp"` // "000000" makes a multi-factor login
			}
			if err := c.ShouldBindJSON(&body); err != nil {
				return ginjwt.Identity{}, ginjwt.ErrBadRequest
			}
			if err := ginjwt.LoginAttempt(c, body.Username); err != nil {
				return ginjwt.Identity{}, err
			}
			if pw, ok := testPasswords[body.Username]; !ok || pw != body.Password {
				return ginjwt.Identity{}, ginjwt.ErrInvalidCredentials
			}
			id := ginjwt.Identity{Subject: body.Username, Device: c.GetHeader("X-Device"), Roles: testRoles[body.Username], ACR: "pwd", AMR: []string{"pwd"}}
			if body.OTP == "000000" {
				id.ACR, id.AMR = "mfa", []string{"pwd", "otp"}
			}
			return id, nil
		},
	}
	if tune != nil {
		tune(&opts)
	}
	auth, err := ginjwt.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	// The test client is the only proxy: tests pick a client IP with
	// X-Forwarded-For.
	if err := r.SetTrustedProxies([]string{"127.0.0.1", "::1"}); err != nil {
		t.Fatal(err)
	}
	r.POST("/auth/login", auth.LoginHandler())
	r.GET("/auth/sessions", auth.SessionsHandler())
	r.DELETE("/auth/sessions/:id", auth.Middleware(), auth.RevokeSessionHandler())
	r.GET("/api/admin", auth.Middleware(ginjwt.RequireRole("admin")), func(c *gin.Context) { c.Status(http.StatusNoContent) })
	r.POST("/auth/refresh", auth.RefreshHandler())
	r.POST("/auth/logout", auth.LogoutHandler())
	r.POST("/auth/step-up", auth.Middleware(), auth.StepUpHandler())
	r.GET("/api/recent", auth.Middleware(auth.RequireRecentAuth(5*time.Minute)), func(c *gin.Context) { c.Status(http.StatusNoContent) })
	r.GET("/api/mfa", auth.Middleware(ginjwt.RequireACR("mfa")), func(c *gin.Context) { c.Status(http.StatusNoContent) })
	r.GET("/.well-known/jwks.json", auth.JWKSHandler())
	r.GET("/api/me", auth.Middleware(), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"subject": ginjwt.Subject(c), "session": ginjwt.SessionID(c)})
	})
	srv := httptest.NewUnstartedServer(r)
	if opts.Cookies != nil {
		srv.StartTLS() // Secure cookies only travel over HTTPS
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return &app{t: t, auth: auth, clock: clk, srv: srv, client: client, prefix: prefix, events: events}
}

// response is what a test sees of an HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errorBody is the decoded error body.
func (r response) errorBody() ginjwt.ErrorResponse {
	var e ginjwt.ErrorResponse
	_ = json.Unmarshal(r.body, &e)
	return e
}

// code is the specific error code of an error body: "reason" when present
// (the refresh route's RFC 6749 errors), else "error".
func (r response) code() string { return r.errorBody().Code() }

func (r response) tokens(t *testing.T) ginjwt.TokenResponse {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("want 200 with tokens, got %d %s", r.status, r.body)
	}
	var tr ginjwt.TokenResponse
	if err := json.Unmarshal(r.body, &tr); err != nil {
		t.Fatalf("token response: %v", err)
	}
	return tr
}

// do sends a request; header pairs are name, value.
func (a *app) do(method, path, contentType, body string, header ...string) response {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := a.srv.Client().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 500 && res.StatusCode != http.StatusServiceUnavailable {
		a.t.Errorf("%s %s answered %d: %s", method, path, res.StatusCode, b)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (a *app) login(user string) ginjwt.TokenResponse {
	a.t.Helper()
	return a.loginAs(user, "")
}

// loginAs logs user in from a device with the given label.
func (a *app) loginAs(user, device string) ginjwt.TokenResponse {
	a.t.Helper()
	return a.do("POST", "/auth/login", "application/json", `{"username":"`+user+`","password":"`+testPasswords[user]+`"}`,
		"X-Device", device, "User-Agent", "test-agent/"+device).tokens(a.t)
}

func (a *app) logoutScope(access, scope string) response {
	return a.do("POST", "/auth/logout?scope="+scope, "", "", "Authorization", "Bearer "+access)
}

func (a *app) me(access string) response {
	return a.do("GET", "/api/me", "", "", "Authorization", "Bearer "+access)
}

func (a *app) refresh(refreshToken string) response {
	body, _ := json.Marshal(map[string]string{"refresh_token": refreshToken})
	return a.do("POST", "/auth/refresh", "application/json", string(body))
}

func (a *app) refreshForm(refreshToken string) response {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	return a.do("POST", "/auth/refresh", "application/x-www-form-urlencoded", form.Encode())
}

func (a *app) logoutWithRefresh(refreshToken string) response {
	body, _ := json.Marshal(map[string]string{"refresh_token": refreshToken})
	return a.do("POST", "/auth/logout", "application/json", string(body))
}

func (a *app) logoutWithAccess(access string) response {
	return a.do("POST", "/auth/logout", "", "", "Authorization", "Bearer "+access)
}

// expect fails the test unless r has the status and, when code is not
// empty, the error code.
func expect(t *testing.T, what string, r response, status int, code string) {
	t.Helper()
	if r.status != status || (code != "" && r.code() != code) {
		t.Fatalf("%s: got %d %s, want %d %s", what, r.status, r.body, status, code)
	}
}

// expectGrant fails the test unless r is the refresh route's refusal of a
// grant: 400 {"error":"invalid_grant","error_description":"…","reason":reason}
// without WWW-Authenticate (RFC 6749 §5.2).
func expectGrant(t *testing.T, what string, r response, reason string) {
	t.Helper()
	expectOAuth(t, what, r, "invalid_grant", reason)
}

// expectOAuth fails the test unless r is a 400 RFC 6749 error answer with
// the OAuth code oauth and the specific reason, a description and no
// WWW-Authenticate.
func expectOAuth(t *testing.T, what string, r response, oauth, reason string) {
	t.Helper()
	expect(t, what, r, http.StatusBadRequest, reason)
	if e := r.errorBody(); e.Error != oauth || e.Reason != reason || e.ErrorDescription == "" {
		t.Fatalf("%s: got %s, want error %s with reason %s and a description", what, r.body, oauth, reason)
	}
	if h := r.header.Get("WWW-Authenticate"); h != "" {
		t.Fatalf("%s: a 400 %s with WWW-Authenticate %q", what, oauth, h)
	}
}

// ctx is a short context for direct API calls in tests.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}
