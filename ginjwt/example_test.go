package ginjwt_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/alicebob/miniredis/v2"
	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/memstore"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

// Mount login, refresh, logout and a guarded route, then watch an access
// token stop working after a refresh.
func Example() {
	mr, _ := miniredis.Run() // any Redis; an embedded one for the example
	defer mr.Close()
	store, _ := redisstore.New(redis.NewClient(&redis.Options{Addr: mr.Addr()}))

	auth, err := ginjwt.New(ginjwt.Options{
		Store: store,
		Keys:  []ginjwt.Key{ginjwt.HS256([]byte("use-32-or-more-random-bytes-here"))},
		Authenticate: func(c *gin.Context) (ginjwt.Identity, error) {
			if c.PostForm("password") != "secret" {
				return ginjwt.Identity{}, ginjwt.ErrInvalidCredentials
			}
			return ginjwt.Identity{Subject: c.PostForm("user")}, nil
		},
	})
	if err != nil {
		panic(err)
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/auth/login", auth.LoginHandler())
	r.POST("/auth/refresh", auth.RefreshHandler())
	r.POST("/auth/logout", auth.LogoutHandler())
	r.GET("/api/me", auth.Middleware(), func(c *gin.Context) {
		c.String(http.StatusOK, "hello "+ginjwt.Subject(c))
	})

	login := serve(r, "POST", "/auth/login", "user=alice&password=secret", "")
	var first ginjwt.TokenResponse
	_ = json.Unmarshal(login.Body.Bytes(), &first)
	fmt.Println(serve(r, "GET", "/api/me", "", first.AccessToken).Body)

	refreshed := serve(r, "POST", "/auth/refresh", "grant_type=refresh_token&refresh_token="+first.RefreshToken, "")
	var second ginjwt.TokenResponse
	_ = json.Unmarshal(refreshed.Body.Bytes(), &second)
	fmt.Println(serve(r, "GET", "/api/me", "", first.AccessToken).Body)
	fmt.Println(serve(r, "GET", "/api/me", "", second.AccessToken).Body)
	// Output:
	// hello alice
	// {"error":"token_revoked","error_description":"The token has been revoked."}
	// hello alice
}

// serve runs one form request through r.
func serve(r http.Handler, method, path, form, bearer string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(form))
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

// Errors carry a stable code for clients and match their sentinel with errors.Is.
func ExampleErrorCode() {
	err := fmt.Errorf("%w: while checking the session", ginjwt.ErrTokenRevoked)
	fmt.Println(ginjwt.ErrorCode(err), ginjwt.HTTPStatus(err))
	// Output: token_revoked 401
}

// At the refresh route a refused grant is a GrantError: the answer is 400
// with the RFC 6749 code as "error" and the specific reason as "reason". A
// custom Options.ErrorHandler reads both like this.
func ExampleGrantError() {
	// What RefreshHandler hands the ErrorHandler for a reused refresh token:
	var err error = &ginjwt.GrantError{Code: "invalid_grant", Err: ginjwt.ErrRefreshReused}

	var grant *ginjwt.GrantError
	if errors.As(err, &grant) {
		fmt.Println(ginjwt.HTTPStatus(err), grant.Code, ginjwt.ErrorCode(err), errors.Is(err, ginjwt.ErrRefreshReused))
	}
	// Output: 400 invalid_grant refresh_reused true
}

// Application claims given at login travel in the tokens and come back typed.
func ExampleClaims_DecodeExtra() {
	claims := &ginjwt.Claims{Extra: json.RawMessage(`{"name":"Alice","roles":["admin"]}`)}
	var profile struct {
		Name  string   `json:"name"`
		Roles []string `json:"roles"`
	}
	if err := claims.DecodeExtra(&profile); err != nil {
		panic(err)
	}
	fmt.Println(profile.Name, profile.Roles)
	// Output: Alice [admin]
}

// Sign a user in right after sign-up, without a second trip through the
// login route: Login answers the request as LoginHandler would.
func ExampleAuth_Login() {
	auth, err := ginjwt.New(ginjwt.Options{
		Store: memstore.New(), // one process; redisstore.New(client) for real
		Keys:  []ginjwt.Key{ginjwt.HS256([]byte("use-32-or-more-random-bytes-here"))},
	})
	if err != nil {
		panic(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/signup", func(c *gin.Context) {
		userID := "u-" + c.PostForm("email") // create the account here
		auth.Login(c, ginjwt.Identity{Subject: userID, Device: "web"})
	})

	w := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/signup", strings.NewReader("email=ada@example.com"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.ServeHTTP(w, req)
	var tok ginjwt.TokenResponse
	_ = json.Unmarshal(w.Body.Bytes(), &tok)
	claims, err := auth.Verify(req.Context(), tok.AccessToken)
	fmt.Println(w.Code, tok.TokenType, claims.Subject, err)
	// Output: 200 Bearer u-ada@example.com <nil>
}

// Issue tokens from Go and check them outside the middleware, as a
// WebSocket handler or a background job does.
func ExampleAuth_IssueTokens() {
	auth, err := ginjwt.New(ginjwt.Options{
		Store: memstore.New(),
		Keys:  []ginjwt.Key{ginjwt.HS256([]byte("use-32-or-more-random-bytes-here"))},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	tok, err := auth.IssueTokens(ctx, ginjwt.Identity{Subject: "u-1", Roles: []string{"admin"}}, ginjwt.ClientInfo{})
	if err != nil {
		panic(err)
	}
	claims, err := auth.Verify(ctx, tok.AccessToken, ginjwt.RequireRole("admin"))
	fmt.Println(claims.Subject, err)
	_ = auth.RevokeSession(ctx, "u-1", tok.SessionID)
	_, err = auth.Verify(ctx, tok.AccessToken)
	fmt.Println(ginjwt.ErrorCode(err))
	// Output:
	// u-1 <nil>
	// token_revoked
}
