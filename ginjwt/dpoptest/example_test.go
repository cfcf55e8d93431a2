package dpoptest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/ginjwt/dpoptest"
	"github.com/jwtguard/jwtguard/memstore"
)

// A test of a DPoP-protected API: log in with a proof, call the API with
// the bound token and a fresh proof, then replay that proof.
func Example() {
	gin.SetMode(gin.ReleaseMode)
	const base = "https://api.example.com"
	auth, err := ginjwt.New(ginjwt.Options{
		Store: memstore.New(),
		Keys:  []ginjwt.Key{ginjwt.HS256([]byte("use-32-or-more-random-bytes-here"))},
		DPoP:  ginjwt.DPoPOptions{Mode: ginjwt.DPoPRequired, BaseURL: base},
		Authenticate: func(c *gin.Context) (ginjwt.Identity, error) {
			return ginjwt.Identity{Subject: "alice"}, nil
		},
		Limits: ginjwt.Limits{Off: true},
	})
	if err != nil {
		panic(err)
	}
	r := gin.New()
	r.POST("/auth/login", auth.LoginHandler())
	r.GET("/api/me", auth.Middleware(), func(c *gin.Context) { c.String(http.StatusOK, ginjwt.Subject(c)) })

	key := dpoptest.NewKey()
	login := httptest.NewRequest("POST", "/auth/login", nil)
	login.Header.Set("DPoP", key.Proof("POST", base+"/auth/login", ""))
	w := httptest.NewRecorder()
	r.ServeHTTP(w, login)
	var tokens ginjwt.TokenResponse
	_ = json.Unmarshal(w.Body.Bytes(), &tokens)
	fmt.Println("login:", w.Code, tokens.TokenType)

	call := httptest.NewRequest("GET", "/api/me", nil)
	call.Header.Set("Authorization", "DPoP "+tokens.AccessToken)
	call.Header.Set("DPoP", key.Proof("GET", base+"/api/me", tokens.AccessToken))
	for _, what := range []string{"call", "replay"} {
		w = httptest.NewRecorder()
		r.ServeHTTP(w, call)
		fmt.Println(what+":", w.Code)
	}
	// Output:
	// login: 200 DPoP
	// call: 200
	// replay: 401
}
