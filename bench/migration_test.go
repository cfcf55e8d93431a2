package bench

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jwtv2 "github.com/appleboy/gin-jwt/v2"
	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/memstore"
)

// The cutover of docs/migrating-from-gin-jwt.md, end to end: a real gin-jwt
// v2 middleware issues tokens through its LoginHandler, and a jwtguard app
// with Options.LegacyTokens takes them until the deadline.

// migrationSecret is the gin-jwt app's Key.
var migrationSecret = []byte("the-old-gin-jwt-secret-of-the-app")

// migrationClock is a settable clock for the jwtguard app.
type migrationClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *migrationClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *migrationClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// ginJWTLogin logs user in at a gin-jwt v2 app configured as a typical
// README app (HS256, IdentityKey "id", a role in the payload) and returns
// the token of its LoginHandler's answer.
func ginJWTLogin(t *testing.T, user string) string {
	t.Helper()
	mw, err := jwtv2.New(&jwtv2.GinJWTMiddleware{
		Realm:       "old app",
		Key:         migrationSecret,
		Timeout:     time.Hour,
		MaxRefresh:  24 * time.Hour,
		IdentityKey: "id",
		PayloadFunc: func(data any) jwtv2.MapClaims {
			return jwtv2.MapClaims{"id": data, "role": "admin"}
		},
		Authenticator: func(c *gin.Context) (any, error) {
			var login struct {
				Username string `json:"username"`
				Password string `json:"password"`
			}
			if err := c.ShouldBind(&login); err != nil || login.Password != "pw" {
				return nil, jwtv2.ErrFailedAuthentication
			}
			return login.Username, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.POST("/login", mw.LoginHandler)
	req := httptest.NewRequest("POST", "/login", strings.NewReader(`{"username":"`+user+`","password":"pw"}`))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	var body struct {
		Code  int    `json:"code"`
		Token string `json:"token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != http.StatusOK || body.Token == "" {
		t.Fatalf("gin-jwt login: %d %s", w.Code, w.Body)
	}
	return body.Token
}

// migrationApp is the jwtguard app after the switch.
type migrationApp struct {
	t      *testing.T
	auth   *ginjwt.Auth
	engine *gin.Engine
	clock  *migrationClock
	until  time.Time
}

func newMigrationApp(t *testing.T, legacy bool) *migrationApp {
	t.Helper()
	clk := &migrationClock{now: time.Now()}
	until := clk.Now().Add(7 * 24 * time.Hour)
	opts := ginjwt.Options{
		Store: memstore.New(memstore.WithClock(clk.Now)),
		Keys:  []ginjwt.Key{ginjwt.HS256(secret)},
		Now:   clk.Now,
		Authenticate: func(c *gin.Context) (ginjwt.Identity, error) {
			var login struct {
				Username string `json:"username"`
				Password string `json:"password"`
			}
			if err := c.ShouldBindJSON(&login); err != nil || login.Password != "pw" {
				return ginjwt.Identity{}, ginjwt.ErrInvalidCredentials
			}
			return ginjwt.Identity{Subject: login.Username, Roles: []string{"admin"}}, nil
		},
	}
	if legacy {
		opts.LegacyTokens = ginjwt.GinJWTLegacy(migrationSecret, "HS256", "id", until)
		opts.LegacyTokens.RolesKey = "role"
	}
	auth, err := ginjwt.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.POST("/auth/login", auth.LoginHandler())
	r.POST("/auth/refresh", auth.RefreshHandler())
	r.POST("/auth/logout", auth.LogoutHandler())
	// The exchange route of the guide: a legacy token buys a session.
	r.POST("/auth/migrate", auth.Middleware(), func(c *gin.Context) {
		claims, _ := ginjwt.ClaimsFromContext(c)
		if !claims.Legacy {
			c.AbortWithStatus(http.StatusConflict) // already a jwtguard session
			return
		}
		auth.Login(c, ginjwt.Identity{Subject: claims.Subject, Roles: claims.Roles})
	})
	r.GET("/api/admin", auth.Middleware(ginjwt.RequireRole("admin")), func(c *gin.Context) {
		claims, _ := ginjwt.ClaimsFromContext(c)
		c.JSON(http.StatusOK, gin.H{"subject": ginjwt.Subject(c), "legacy": claims.Legacy})
	})
	return &migrationApp{t: t, auth: auth, engine: r, clock: clk, until: until}
}

// do serves a request with an optional bearer token and JSON body.
func (a *migrationApp) do(method, path, bearer, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	a.engine.ServeHTTP(w, req)
	return w
}

// expectOK checks a 200 of /api/admin for subject, legacy or not.
func (a *migrationApp) expectOK(what, token, subject string, legacy bool) {
	a.t.Helper()
	w := a.do("GET", "/api/admin", token, "")
	var body struct {
		Subject string `json:"subject"`
		Legacy  bool   `json:"legacy"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	if w.Code != http.StatusOK || body.Subject != subject || body.Legacy != legacy {
		a.t.Errorf("%s: %d %s, want 200 for %s (legacy %v)", what, w.Code, w.Body, subject, legacy)
	}
}

// expectRefused checks that w is a 4xx with error code code ("" for any).
func expectRefused(t *testing.T, what string, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	var body ginjwt.ErrorResponse
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	if w.Code != status || code != "" && body.Code() != code {
		t.Errorf("%s: %d %s, want %d %s", what, w.Code, w.Body, status, code)
	}
}

func TestMigrationLegacyTokenDuringCutover(t *testing.T) {
	app := newMigrationApp(t, true)
	legacy := ginJWTLogin(t, "alice")

	app.expectOK("legacy token at a guarded route", legacy, "alice", true)
	if claims, err := app.auth.Verify(t.Context(), legacy, ginjwt.RequireRole("admin")); err != nil || !claims.Legacy || claims.Subject != "alice" {
		t.Errorf("Verify: %+v, %v", claims, err)
	}

	// No session: never at refresh or logout.
	body, _ := json.Marshal(map[string]string{"refresh_token": legacy})
	expectRefused(t, "legacy token at refresh", app.do("POST", "/auth/refresh", "", string(body)), http.StatusBadRequest, "token_wrong_type")
	expectRefused(t, "legacy token as the bearer of logout", app.do("POST", "/auth/logout", legacy, ""), http.StatusUnauthorized, "token_wrong_type")
	expectRefused(t, "legacy token as the refresh token of logout", app.do("POST", "/auth/logout", "", string(body)), http.StatusUnauthorized, "")
	// gin-jwt's own refresh, with the old token as bearer, does not exist here.
	expectRefused(t, "gin-jwt refresh style", app.do("POST", "/auth/refresh", legacy, ""), http.StatusBadRequest, "")

	// The exchange route trades it for a jwtguard session.
	w := app.do("POST", "/auth/migrate", legacy, "")
	var tokens ginjwt.TokenResponse
	if err := json.Unmarshal(w.Body.Bytes(), &tokens); err != nil || w.Code != http.StatusOK || tokens.RefreshToken == "" {
		t.Fatalf("migrate: %d %s", w.Code, w.Body)
	}
	app.expectOK("migrated access token", tokens.AccessToken, "alice", false)
	body, _ = json.Marshal(map[string]string{"refresh_token": tokens.RefreshToken})
	if w := app.do("POST", "/auth/refresh", "", string(body)); w.Code != http.StatusOK {
		t.Errorf("refresh of the migrated session: %d %s", w.Code, w.Body)
	}
	// The legacy token itself still works: it cannot be revoked, only outlived.
	app.expectOK("legacy token after the exchange", legacy, "alice", true)
}

func TestMigrationLegacyTokenLifetime(t *testing.T) {
	app := newMigrationApp(t, true)
	start := app.clock.Now()
	legacy := ginJWTLogin(t, "alice") // gin-jwt Timeout: one hour

	app.clock.Set(start.Add(59 * time.Minute))
	app.expectOK("legacy token before its exp", legacy, "alice", true)
	app.clock.Set(start.Add(61 * time.Minute))
	expectRefused(t, "legacy token after its exp", app.do("GET", "/api/admin", legacy, ""), http.StatusUnauthorized, "token_expired")

	// A token still within its exp dies at Until.
	app.clock.Set(app.until.Add(-30 * time.Minute))
	late := ginJWTLogin(t, "bob") // gin-jwt's clock is the real one: mint one valid at the app's time
	late = resign(t, late, func(c jwt.MapClaims) { c["exp"] = app.clock.Now().Add(time.Hour).Unix() })
	app.expectOK("legacy token just before Until", late, "bob", true)
	app.clock.Set(app.until)
	expectRefused(t, "legacy token at Until", app.do("GET", "/api/admin", late, ""), http.StatusUnauthorized, "key_unknown")
	if _, err := app.auth.Verify(t.Context(), late); ginjwt.ErrorCode(err) != "key_unknown" {
		t.Errorf("Verify at Until: %v", err)
	}
}

// resign changes a gin-jwt token's claims and signs it again with the
// gin-jwt app's key, as that app would have.
func resign(t *testing.T, token string, change func(jwt.MapClaims)) string {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, err := jwt.NewParser().ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return migrationSecret, nil }); err != nil {
		t.Fatal(err)
	}
	change(claims)
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(migrationSecret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMigrationForgedLegacyTokens(t *testing.T) {
	app := newMigrationApp(t, true)
	plain := newMigrationApp(t, false)
	legacy := ginJWTLogin(t, "alice")
	header, payload, _ := strings.Cut(legacy, ".")
	payload, _, _ = strings.Cut(payload, ".")
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(legacy, claims); err != nil {
		t.Fatal(err)
	}
	sign := func(m jwt.SigningMethod, key any, change func(jwt.MapClaims)) string {
		c := jwt.MapClaims{}
		for k, v := range claims {
			c[k] = v
		}
		change(c)
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	same := func(jwt.MapClaims) {}
	tampered, _ := json.Marshal(map[string]any{"id": "mallory", "role": "admin", "exp": claims["exp"], "orig_iat": claims["orig_iat"]})
	forged := map[string]string{
		"other key":       sign(jwt.SigningMethodHS256, []byte("not-the-gin-jwt-secret-of-the-app"), same),
		"other algorithm": sign(jwt.SigningMethodHS512, migrationSecret, same),
		"jwtguard key":    sign(jwt.SigningMethodHS256, secret, same),
		"alg none":        sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, same),
		"tampered payload": header + "." + base64.RawURLEncoding.EncodeToString(tampered) + "." +
			legacy[strings.LastIndex(legacy, ".")+1:],
		"no signature":   header + "." + payload + ".",
		"no exp":         sign(jwt.SigningMethodHS256, migrationSecret, func(c jwt.MapClaims) { delete(c, "exp") }),
		"no identity":    sign(jwt.SigningMethodHS256, migrationSecret, func(c jwt.MapClaims) { delete(c, "id") }),
		"typed as ours":  typedAsOurs(t, claims),
		"empty identity": sign(jwt.SigningMethodHS256, migrationSecret, func(c jwt.MapClaims) { c["id"] = "" }),
	}
	for name, token := range forged {
		w := app.do("GET", "/api/admin", token, "")
		without := plain.do("GET", "/api/admin", token, "")
		var got, want ginjwt.ErrorResponse
		_ = json.Unmarshal(w.Body.Bytes(), &got)
		_ = json.Unmarshal(without.Body.Bytes(), &want)
		if w.Code != http.StatusUnauthorized || w.Code != without.Code || got.Code() != want.Code() {
			t.Errorf("%s: %d %s, without LegacyTokens %d %s", name, w.Code, w.Body, without.Code, without.Body)
		}
	}
	// The genuine token, for contrast.
	app.expectOK("genuine legacy token", legacy, "alice", true)
}

// typedAsOurs signs claims with the gin-jwt key under a jwtguard access
// token header: the legacy path must not even look at it.
func typedAsOurs(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["typ"] = "at+jwt"
	s, err := tok.SignedString(migrationSecret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Ordinary jwtguard tokens behave exactly as without LegacyTokens: a
// revoked or expired one is not rescued by the legacy path.
func TestMigrationOrdinaryTokensUnchanged(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		app := newMigrationApp(t, legacy)
		w := app.do("POST", "/auth/login", "", `{"username":"carol","password":"pw"}`)
		var tokens ginjwt.TokenResponse
		if err := json.Unmarshal(w.Body.Bytes(), &tokens); err != nil || w.Code != http.StatusOK {
			t.Fatalf("login: %d %s", w.Code, w.Body)
		}
		app.expectOK("jwtguard token", tokens.AccessToken, "carol", false)
		expectRefused(t, "refresh token at the guard", app.do("GET", "/api/admin", tokens.RefreshToken, ""), http.StatusUnauthorized, "token_wrong_type")
		if w := app.do("POST", "/auth/logout", tokens.AccessToken, ""); w.Code/100 != 2 {
			t.Fatalf("logout: %d %s", w.Code, w.Body)
		}
		expectRefused(t, "revoked jwtguard token", app.do("GET", "/api/admin", tokens.AccessToken, ""), http.StatusUnauthorized, "token_revoked")
		if _, err := app.auth.Verify(t.Context(), tokens.AccessToken); ginjwt.ErrorCode(err) != "token_revoked" {
			t.Errorf("Verify of a revoked token (legacy %v): %v", legacy, err)
		}
		app.clock.Set(app.clock.Now().Add(time.Hour))
		expectRefused(t, "expired jwtguard token", app.do("GET", "/api/admin", tokens.AccessToken, ""), http.StatusUnauthorized, "token_expired")
		expectRefused(t, "no token", app.do("GET", "/api/admin", "", ""), http.StatusUnauthorized, "token_missing")
	}
}
