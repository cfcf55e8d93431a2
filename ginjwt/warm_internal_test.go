package ginjwt

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
)

// countingStore answers State with one session state, and counts the calls.
type countingStore struct {
	Store
	st    SessionState
	calls *int
}

func (s countingStore) State(context.Context, string, string) (SessionState, bool, error) {
	*s.calls++
	return s.st, true, nil
}

// The warm path answers a cached bearer token's request with its session
// check alone, on the real clock only; a DPoP-bound token, a token never
// verified, one past its session's end and any app with its own clock take
// the full checks.
func TestWarmRequest(t *testing.T) {
	for _, c := range []struct {
		name   string
		tune   func(*Options)
		claims func(*Claims)
		warm   bool // the second request answers from the warm path
	}{
		{"real clock", nil, nil, true},
		{"own clock", func(o *Options) { o.Now = time.Now }, nil, false},
		{"OnGuard", func(o *Options) { o.OnGuard = func(context.Context, time.Time, error) {} }, nil, true},
		{"token cache off", func(o *Options) { o.TokenCacheSize = -1 }, nil, false},
		{"session ended", nil, func(c *Claims) { c.AuthTime = time.Now().Add(-DefaultSessionMaxAge - time.Second).Unix() }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			o := Options{Store: countingStore{st: SessionState{UserVersion: 42, Generation: 1}, calls: &calls},
				Limits: Limits{Off: true}, Keys: []Key{HS256(fuzzSecret)}}
			if c.tune != nil {
				c.tune(&o)
			}
			a, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			claims := Claims{
				RegisteredClaims: jwt.RegisteredClaims{
					Issuer: a.opts.Issuer, Subject: "alice", Audience: jwt.ClaimStrings{a.opts.Audience},
					IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
					ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)), ID: "ZnV6ei1hY2Nlc3MtanRpMQ",
				},
				SessionID: "ZnV6ei1zZXNzaW9uLWlkMQ", UserVersion: 42, Generation: 1, AuthTime: now.Unix(),
			}
			if c.claims != nil {
				c.claims(&claims)
			}
			token, err := a.issue(accessKind, &claims)
			if err != nil {
				t.Fatal(err)
			}
			request := func() (*gin.Context, *httptest.ResponseRecorder) {
				w := httptest.NewRecorder()
				ctx, _ := gin.CreateTestContext(w)
				ctx.Request = httptest.NewRequest(http.MethodGet, "/", nil)
				ctx.Request.Header.Set("Authorization", "Bearer "+token)
				return ctx, w
			}
			for i := range 2 {
				ctx, _ := request()
				raw, ambient := lookupToken(ctx, a.lookup)
				_, answered, err := a.warmRequest(ctx, raw, ambient)
				if want := c.warm && i == 1; answered != want || err != nil {
					t.Fatalf("request %d: warmRequest answered %v, %v; want %v, nil", i+1, answered, err, want)
				}
				ctx, w := request()
				a.Middleware()(ctx)
				if wantOK := c.name != "session ended"; (w.Code == http.StatusOK) != wantOK || ctx.IsAborted() == wantOK {
					t.Fatalf("request %d: the guard answered %d (aborted %v)", i+1, w.Code, ctx.IsAborted())
				}
			}
			if c.warm && calls != 3 {
				t.Fatalf("%d session checks, want 3: the warm path checks the session too", calls)
			}
		})
	}
}
