package ginjwt_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/memstore"
)

// The token cache shares one verified token's claims between requests, but
// application code only ever gets its own copy: a handler, a requirement or
// a caller of Verify that changes every field it can reach (through
// pointers and slices too) changes nothing another request reads, at the
// same time or later (run with -race).
func TestHandlersGetTheirOwnClaims(t *testing.T) {
	auth, err := ginjwt.New(ginjwt.Options{Store: memstore.New(), Keys: []ginjwt.Key{ginjwt.HS256(testSecret)}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tr, err := auth.IssueTokens(ctx, ginjwt.Identity{Subject: "alice", Roles: []string{"admin", "user"}, AMR: []string{"pwd", "otp"}, ACR: "mfa"}, ginjwt.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := auth.Verify(ctx, tr.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	want = cloneForCompare(want)

	changeAll := func(c *ginjwt.Claims) {
		if !reflect.DeepEqual(c, want) {
			t.Errorf("claims %+v, want %+v", c, want)
		}
		c.Audience = append(c.Audience, "x") // room for MutateClaims' index 0
		c.Confirmation = &ginjwt.Confirmation{}
		c.Extra = []byte(`{"a":1}`)
		ginjwt.MutateClaims(c)
	}
	requirement := func(c *ginjwt.Claims) error { changeAll(c); return nil }
	r := gin.New()
	r.GET("/read", auth.Middleware(), func(c *gin.Context) {
		if ginjwt.Subject(c) != want.Subject || ginjwt.SessionID(c) != want.SessionID {
			t.Errorf("Subject, SessionID = %q, %q", ginjwt.Subject(c), ginjwt.SessionID(c))
		}
		claims, _ := ginjwt.ClaimsFromContext(c)
		changeAll(claims)
		again, _ := ginjwt.ClaimsFromContext(c)
		if again != claims {
			t.Error("a second ClaimsFromContext gave another copy than the first")
		}
		c.Status(http.StatusNoContent)
	})
	r.GET("/required", auth.Middleware(requirement), func(c *gin.Context) {
		claims, _ := ginjwt.ClaimsFromContext(c)
		if claims.Issuer != "x" {
			t.Error("the handler did not get the claims its requirement saw")
		}
		c.Status(http.StatusNoContent)
	})

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := []string{"/read", "/required"}[i%2]
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != http.StatusNoContent {
				t.Errorf("%s: %d %s", path, w.Code, w.Body)
			}
			if claims, err := auth.Verify(ctx, tr.AccessToken); err != nil {
				t.Error(err)
			} else {
				changeAll(claims)
			}
		}()
	}
	wg.Wait()
	if got, err := auth.Verify(ctx, tr.AccessToken); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after every change Verify gives %+v, %v; want %+v", got, err, want)
	}
}

// cloneForCompare is a deep copy of c, for comparing with later.
func cloneForCompare(c *ginjwt.Claims) *ginjwt.Claims {
	cp := *c
	cp.Audience = slices.Clone(c.Audience)
	cp.AMR = slices.Clone(c.AMR)
	cp.Roles = slices.Clone(c.Roles)
	cp.Extra = slices.Clone(c.Extra)
	for _, d := range []**jwt.NumericDate{&cp.ExpiresAt, &cp.NotBefore, &cp.IssuedAt} {
		if *d != nil {
			copied := **d
			*d = &copied
		}
	}
	return &cp
}
