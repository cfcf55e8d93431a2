package memstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/memstore"
)

// An app on one machine, with no Redis: log in, call a guarded route, log
// out, and watch the access token stop working.
func Example() {
	auth, err := ginjwt.New(ginjwt.Options{
		Store: memstore.New(), // one process only; use redisstore for several
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
	r.POST("/auth/logout", auth.LogoutHandler())
	r.GET("/api/me", auth.Middleware(), func(c *gin.Context) {
		c.String(http.StatusOK, "hello "+ginjwt.Subject(c))
	})

	var tokens ginjwt.TokenResponse
	_ = json.Unmarshal(serve(r, "POST", "/auth/login", "user=alice&password=secret", "").Body.Bytes(), &tokens)
	fmt.Println(serve(r, "GET", "/api/me", "", tokens.AccessToken).Body)
	fmt.Println(serve(r, "POST", "/auth/logout", "", tokens.AccessToken).Code)
	fmt.Println(serve(r, "GET", "/api/me", "", tokens.AccessToken).Body)
	// Output:
	// hello alice
	// 204
	// {"error":"token_revoked","error_description":"The token has been revoked."}
}

// In a test, one clock for the app and the store: advancing it ends idle
// sessions in the store as time would.
func ExampleWithClock() {
	now := time.Date(2030, time.January, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now } // a test's clock; guard it if goroutines share it
	auth, err := ginjwt.New(ginjwt.Options{
		Store:      memstore.New(memstore.WithClock(clock)),
		Keys:       []ginjwt.Key{ginjwt.HS256([]byte("use-32-or-more-random-bytes-here"))},
		Now:        clock,
		RefreshTTL: 24 * time.Hour, // idle lifetime of a session
		Authenticate: func(*gin.Context) (ginjwt.Identity, error) {
			return ginjwt.Identity{Subject: "alice", Device: "phone"}, nil
		},
	})
	if err != nil {
		panic(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/auth/login", auth.LoginHandler())

	serve(r, "POST", "/auth/login", "", "")
	sessions, _ := auth.Sessions(context.Background(), "alice")
	fmt.Println(len(sessions), sessions[0].Device, sessions[0].Created.UTC().Format(time.Kitchen))

	now = now.Add(24 * time.Hour) // a day without a refresh
	sessions, _ = auth.Sessions(context.Background(), "alice")
	fmt.Println(len(sessions))
	// Output:
	// 1 phone 9:00AM
	// 0
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
