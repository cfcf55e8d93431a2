package ginjwt_test

import (
	"context"
	"errors"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/clocktest"
	"github.com/jwtguard/jwtguard/memstore"
)

// legacySecret is the old system's HMAC secret in the legacy tests.
var legacySecret = []byte("the-gin-jwt-secret-of-the-old-app")

// New refuses a bad Options.LegacyTokens with an error naming the field.
func TestLegacyTokensOptions(t *testing.T) {
	until := time.Now().Add(24 * time.Hour)
	valid := func() ginjwt.Options {
		return ginjwt.Options{Store: memstore.New(), Keys: []ginjwt.Key{ginjwt.HS256(testSecret)},
			LegacyTokens: ginjwt.GinJWTLegacy(legacySecret, "HS256", "identity", until)}
	}
	if _, err := ginjwt.New(valid()); err != nil {
		t.Fatalf("valid options refused: %v", err)
	}
	cases := []struct {
		name   string
		change func(*ginjwt.LegacyTokens)
		names  string
	}{
		{"empty key", func(l *ginjwt.LegacyTokens) { l.Key = nil }, "Options.LegacyTokens.Key"},
		{"no algorithm", func(l *ginjwt.LegacyTokens) { l.Algorithm = "" }, "Options.LegacyTokens.Algorithm"},
		{"alg none", func(l *ginjwt.LegacyTokens) { l.Algorithm = "none" }, "Options.LegacyTokens.Algorithm"},
		{"public-key algorithm", func(l *ginjwt.LegacyTokens) { l.Algorithm = "RS256" }, "Options.LegacyTokens.Algorithm"},
		{"lower-case algorithm", func(l *ginjwt.LegacyTokens) { l.Algorithm = "hs256" }, "Options.LegacyTokens.Algorithm"},
		{"no identity key", func(l *ginjwt.LegacyTokens) { l.IdentityKey = "" }, "Options.LegacyTokens.IdentityKey"},
		{"no deadline", func(l *ginjwt.LegacyTokens) { l.Until = time.Time{} }, "Options.LegacyTokens.Until"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := valid()
			tc.change(o.LegacyTokens)
			auth, err := ginjwt.New(o)
			if err == nil || auth != nil {
				t.Fatal("New accepted it")
			}
			if !errors.Is(err, ginjwt.ErrInvalidOptions) {
				t.Errorf("error %q does not wrap ErrInvalidOptions", err)
			}
			if !strings.Contains(err.Error(), tc.names) {
				t.Errorf("error %q does not name %s", err, tc.names)
			}
		})
	}
}

// legacyFixture is an Auth with LegacyTokens on a test clock.
type legacyFixture struct {
	auth  *ginjwt.Auth
	clock *clocktest.Clock
	until time.Time
}

func newLegacyFixture(t *testing.T, tune func(*ginjwt.LegacyTokens)) *legacyFixture {
	t.Helper()
	clk := newClock()
	until := clk.Now().Add(24 * time.Hour)
	legacy := ginjwt.GinJWTLegacy(legacySecret, "HS256", "identity", until)
	if tune != nil {
		tune(legacy)
	}
	auth, err := ginjwt.New(ginjwt.Options{
		Store:        memstore.New(memstore.WithClock(clk.Now)),
		Keys:         []ginjwt.Key{ginjwt.HS256(testSecret)},
		Now:          clk.Now,
		LegacyTokens: legacy,
		Authenticate: func(*gin.Context) (ginjwt.Identity, error) { return ginjwt.Identity{}, ginjwt.ErrInvalidCredentials },
	})
	if err != nil {
		t.Fatal(err)
	}
	return &legacyFixture{auth: auth, clock: clk, until: until}
}

// ginJWTToken signs claims as gin-jwt's LoginHandler does: golang-jwt's
// default header ({"alg":…,"typ":"JWT"}), the app's payload, exp and orig_iat.
func ginJWTToken(t *testing.T, method jwt.SigningMethod, key any, now time.Time, payload jwt.MapClaims) string {
	t.Helper()
	claims := jwt.MapClaims{"exp": now.Add(time.Hour).Unix(), "orig_iat": now.Unix()}
	for k, v := range payload {
		claims[k] = v
	}
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Verify accepts a gin-jwt token during the cutover, with Legacy claims,
// and refuses it after Until, after its exp, or when anything is off.
func TestLegacyTokensVerify(t *testing.T) {
	f := newLegacyFixture(t, func(l *ginjwt.LegacyTokens) { l.RolesKey = "roles" })
	ctx := context.Background()
	now := f.clock.Now()
	good := ginJWTToken(t, jwt.SigningMethodHS256, legacySecret, now, jwt.MapClaims{"identity": "alice", "roles": []string{"admin"}, "name": "Alice"})

	claims, err := f.auth.Verify(ctx, good, ginjwt.RequireRole("admin"))
	if err != nil {
		t.Fatalf("legacy token refused: %v", err)
	}
	if !claims.Legacy || claims.Subject != "alice" || claims.SessionID != "" {
		t.Errorf("claims = %+v", claims)
	}
	var extra struct{ Name string }
	if err := claims.DecodeExtra(&extra); err != nil || extra.Name != "Alice" {
		t.Errorf("Extra = %s (%v)", claims.Extra, err)
	}
	if _, err := f.auth.Verify(ctx, good, ginjwt.RequireRole("auditor")); !errors.Is(err, ginjwt.ErrInsufficientScope) {
		t.Errorf("missing role: %v", err)
	}
	numeric := ginJWTToken(t, jwt.SigningMethodHS256, legacySecret, now, jwt.MapClaims{"identity": 12345678901234567})
	if claims, err := f.auth.Verify(ctx, numeric); err != nil || claims.Subject != "12345678901234567" {
		t.Errorf("numeric identity: %v, %v", claims, err)
	}

	// want is the sentinel of the refusal; nil means the refusal the
	// token gets without LegacyTokens (the legacy path changes nothing).
	refused := map[string]struct {
		token string
		want  error
	}{
		"other key":          {ginJWTToken(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret!!"), now, jwt.MapClaims{"identity": "alice"}), nil},
		"other algorithm":    {ginJWTToken(t, jwt.SigningMethodHS512, legacySecret, now, jwt.MapClaims{"identity": "alice"}), nil},
		"alg none":           {ginJWTToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, now, jwt.MapClaims{"identity": "alice"}), nil},
		"no identity":        {ginJWTToken(t, jwt.SigningMethodHS256, legacySecret, now, jwt.MapClaims{"user": "alice"}), nil},
		"empty identity":     {ginJWTToken(t, jwt.SigningMethodHS256, legacySecret, now, jwt.MapClaims{"identity": ""}), nil},
		"object identity":    {ginJWTToken(t, jwt.SigningMethodHS256, legacySecret, now, jwt.MapClaims{"identity": map[string]string{"id": "alice"}}), nil},
		"no exp":             {ginJWTToken(t, jwt.SigningMethodHS256, legacySecret, now, jwt.MapClaims{"identity": "alice", "exp": nil}), nil},
		"expired":            {ginJWTToken(t, jwt.SigningMethodHS256, legacySecret, now, jwt.MapClaims{"identity": "alice", "exp": now.Add(-time.Minute).Unix()}), ginjwt.ErrTokenExpired},
		"expired, other key": {ginJWTToken(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret!!"), now, jwt.MapClaims{"identity": "alice", "exp": now.Add(-time.Minute).Unix()}), nil},
		"roles not strings":  {ginJWTToken(t, jwt.SigningMethodHS256, legacySecret, now, jwt.MapClaims{"identity": "alice", "roles": []int{1}}), nil},
	}
	plain, err := ginjwt.New(ginjwt.Options{Store: memstore.New(), Keys: []ginjwt.Key{ginjwt.HS256(testSecret)}, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range refused {
		_, err := f.auth.Verify(ctx, tc.token)
		if tc.want == nil {
			_, without := plain.Verify(ctx, tc.token)
			if err == nil || without == nil || ginjwt.ErrorCode(err) != ginjwt.ErrorCode(without) {
				t.Errorf("%s: error %v, without the option %v", name, err, without)
			}
		} else if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", name, err, tc.want)
		}
	}

	// A token that says it is one of ours is never a legacy token, even
	// signed with the legacy key.
	ours := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"identity": "alice", "exp": now.Add(time.Hour).Unix()})
	ours.Header["typ"] = "at+jwt"
	raw, err := ours.SignedString(legacySecret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth.Verify(ctx, raw); err == nil {
		t.Error("a token typed at+jwt went down the legacy path")
	}

	// The cutover ends at Until, whatever the token's exp.
	f.clock.Set(f.until.Add(-2 * time.Minute))
	late := ginJWTToken(t, jwt.SigningMethodHS256, legacySecret, f.clock.Now(), jwt.MapClaims{"identity": "alice"})
	if claims, err := f.auth.Verify(ctx, late); err != nil || !claims.ExpiresAt.Time.Equal(f.until) {
		t.Errorf("before Until: %v, %v (exp must be cut to Until)", claims, err)
	}
	f.clock.Set(f.until)
	if _, err := f.auth.Verify(ctx, late); !errors.Is(err, ginjwt.ErrKeyUnknown) {
		t.Errorf("at Until: %v, want ErrKeyUnknown", err)
	}
}

// The legacy path never rescues one of this package's tokens, and without
// the option a legacy token gets the same refusal as before.
func TestLegacyTokensLeaveOurTokensAlone(t *testing.T) {
	f := newLegacyFixture(t, nil)
	ctx := context.Background()
	tokens, err := f.auth.IssueTokens(ctx, ginjwt.Identity{Subject: "alice"}, ginjwt.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := f.auth.Verify(ctx, tokens.AccessToken)
	if err != nil || claims.Legacy {
		t.Fatalf("our token: %+v, %v", claims, err)
	}
	if _, err := f.auth.Verify(ctx, tokens.RefreshToken); !errors.Is(err, ginjwt.ErrTokenWrongType) {
		t.Errorf("refresh token at the guard: %v", err)
	}
	if err := f.auth.RevokeSession(ctx, "alice", tokens.SessionID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth.Verify(ctx, tokens.AccessToken); !errors.Is(err, ginjwt.ErrTokenRevoked) {
		t.Errorf("revoked token: %v", err)
	}
	f.clock.Advance(time.Hour)
	if _, err := f.auth.Verify(ctx, tokens.AccessToken); !errors.Is(err, ginjwt.ErrTokenExpired) {
		t.Errorf("expired token: %v", err)
	}

	plain, err := ginjwt.New(ginjwt.Options{Store: memstore.New(), Keys: []ginjwt.Key{ginjwt.HS256(testSecret)}})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Set(time.Now())
	legacy := ginJWTToken(t, jwt.SigningMethodHS256, legacySecret, time.Now(), jwt.MapClaims{"identity": "alice"})
	if _, err := plain.Verify(ctx, legacy); !errors.Is(err, ginjwt.ErrTokenWrongType) {
		t.Errorf("legacy token without the option: %v", err)
	}
	if _, err := f.auth.Verify(ctx, legacy); err != nil {
		t.Errorf("legacy token with the option: %v", err)
	}
}

// The guard lets a legacy token through to ordinary routes, but never to
// a route that needs a session.
func TestLegacyTokensMiddleware(t *testing.T) {
	f := newLegacyFixture(t, nil)
	r := gin.New()
	r.GET("/api/me", f.auth.Middleware(), func(c *gin.Context) {
		claims, _ := ginjwt.ClaimsFromContext(c)
		c.JSON(http.StatusOK, gin.H{"subject": ginjwt.Subject(c), "legacy": claims.Legacy})
	})
	r.GET("/auth/sessions", f.auth.Middleware(), f.auth.SessionsHandler())
	r.POST("/auth/step-up", f.auth.Middleware(), f.auth.StepUpHandler())
	r.POST("/auth/refresh", f.auth.RefreshHandler())
	token := ginJWTToken(t, jwt.SigningMethodHS256, legacySecret, f.clock.Now(), jwt.MapClaims{"identity": "alice"})
	serve := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w
	}
	if w := serve("GET", "/api/me", ""); w.Code != http.StatusOK || w.Body.String() != `{"legacy":true,"subject":"alice"}` {
		t.Errorf("guarded route: %d %s", w.Code, w.Body)
	}
	for _, path := range []string{"/auth/sessions", "/auth/step-up"} {
		method := "GET"
		if path == "/auth/step-up" {
			method = "POST"
		}
		if w := serve(method, path, ""); w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "token_wrong_type") {
			t.Errorf("%s: %d %s", path, w.Code, w.Body)
		}
	}
	if w := serve("POST", "/auth/refresh", `{"refresh_token":"`+token+`"}`); w.Code < 400 || w.Code >= 500 {
		t.Errorf("refresh with a legacy token: %d %s", w.Code, w.Body)
	}
}

// A legacy token in gin-jwt's cookie is accepted on an unsafe request only
// from the same origin: it has no CSRF token.
func TestLegacyTokensFromCookie(t *testing.T) {
	clk := newClock()
	auth, err := ginjwt.New(ginjwt.Options{
		Store:        memstore.New(memstore.WithClock(clk.Now)),
		Keys:         []ginjwt.Key{ginjwt.HS256(testSecret)},
		Now:          clk.Now,
		TokenLookup:  []ginjwt.TokenExtractor{ginjwt.FromHeader, ginjwt.FromCookie("jwt")},
		LegacyTokens: ginjwt.GinJWTLegacy(legacySecret, "HS256", "identity", clk.Now().Add(time.Hour)),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.Any("/api/me", auth.Middleware(), func(c *gin.Context) { c.String(http.StatusOK, ginjwt.Subject(c)) })
	token := ginJWTToken(t, jwt.SigningMethodHS256, legacySecret, clk.Now(), jwt.MapClaims{"identity": "alice"})
	for _, tc := range []struct {
		method, site string
		status       int
	}{
		{"GET", "cross-site", http.StatusOK},
		{"POST", "same-origin", http.StatusOK},
		{"POST", "cross-site", http.StatusForbidden},
	} {
		req := httptest.NewRequest(tc.method, "/api/me", nil)
		req.AddCookie(&http.Cookie{Name: "jwt", Value: token})
		req.Header.Set("Sec-Fetch-Site", tc.site)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.site, w.Code, w.Body, tc.status)
		}
	}
}

// During a cutover from appleboy/gin-jwt, the tokens it issued keep working
// at guarded routes until they expire, and never after the deadline.
func ExampleGinJWTLegacy() {
	oldSecret := []byte(os.Getenv("GIN_JWT_SECRET")) // gin-jwt's Key
	deadline := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	auth, err := ginjwt.New(ginjwt.Options{
		Store: memstore.New(),
		Keys:  []ginjwt.Key{ginjwt.HS256([]byte(os.Getenv("JWTGUARD_SECRET")))},
		// gin-jwt's SigningAlgorithm and IdentityKey.
		LegacyTokens: ginjwt.GinJWTLegacy(oldSecret, "HS256", "id", deadline),
	})
	if err != nil {
		log.Fatal(err)
	}
	r := gin.New()
	r.GET("/api/me", auth.Middleware(), func(c *gin.Context) {
		claims, _ := ginjwt.ClaimsFromContext(c)
		c.JSON(http.StatusOK, gin.H{"user": claims.Subject, "legacy": claims.Legacy})
	})
	// Trade a legacy token for a jwtguard session with a refresh token.
	r.POST("/auth/migrate", auth.Middleware(), func(c *gin.Context) {
		claims, _ := ginjwt.ClaimsFromContext(c)
		if !claims.Legacy {
			c.AbortWithStatus(http.StatusConflict)
			return
		}
		auth.Login(c, ginjwt.Identity{Subject: claims.Subject})
	})
}
