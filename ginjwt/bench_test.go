package ginjwt_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

// benchApp is an engine with a guarded GET /api/ping answering 204, and a
// logged-in access token, served in-process through ServeHTTP.
type benchApp struct {
	engine *gin.Engine
	access string
	tokens ginjwt.TokenResponse
	req    *http.Request // the guarded GET, reused: handlers do not modify it
}

func newBenchApp(b *testing.B, backend redistest.Backend, storeOpts ...redisstore.Option) *benchApp {
	client := backend.ClientWith(b, &redis.UniversalOptions{ContextTimeoutEnabled: true})
	store, err := redisstore.New(client, append([]redisstore.Option{redisstore.WithPrefix(redistest.Prefix(b, backend))}, storeOpts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	_, _, _ = store.State(b.Context(), "warm-up", "x") // starts the near-cache subscription, if any
	for len(storeOpts) > 0 && !store.NearCacheHealthy() {
		time.Sleep(time.Millisecond)
	}
	auth, err := ginjwt.New(ginjwt.Options{
		Store: store,
		Keys:  []ginjwt.Key{ginjwt.HS256(testSecret)},
		Authenticate: func(c *gin.Context) (ginjwt.Identity, error) {
			return ginjwt.Identity{Subject: "bench-user"}, nil
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	r := gin.New()
	r.POST("/auth/login", auth.LoginHandler())
	r.POST("/auth/refresh", auth.RefreshHandler())
	r.GET("/api/ping", auth.Middleware(), func(c *gin.Context) { c.Status(http.StatusNoContent) })
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest("POST", "/auth/login", nil))
	var tr ginjwt.TokenResponse
	if err := json.Unmarshal(w.Body.Bytes(), &tr); err != nil {
		b.Fatalf("login: %v %s", err, w.Body)
	}
	req, _ := http.NewRequest("GET", "/api/ping", nil)
	req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	return &benchApp{engine: r, access: tr.AccessToken, tokens: tr, req: req}
}

func (a *benchApp) ping(b *testing.B) {
	w := httptest.NewRecorder()
	a.engine.ServeHTTP(w, a.req)
	if w.Code != http.StatusNoContent {
		b.Fatalf("guard answered %d %s", w.Code, w.Body)
	}
}

// BenchmarkGuard is one guarded GET through gin: verification plus one
// store round trip.
func BenchmarkGuard(b *testing.B) {
	for _, backend := range redistest.Backends(b) {
		b.Run(backend.Name, func(b *testing.B) {
			a := newBenchApp(b, backend)
			b.ReportAllocs()
			for b.Loop() {
				a.ping(b)
			}
		})
		b.Run(backend.Name+"-parallel", func(b *testing.B) {
			a := newBenchApp(b, backend)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					a.ping(b)
				}
			})
		})
		b.Run(backend.Name+"-nearcache", func(b *testing.B) {
			a := newBenchApp(b, backend, redisstore.WithNearCache(0, 0))
			b.ReportAllocs()
			for b.Loop() {
				a.ping(b)
			}
		})
		b.Run(backend.Name+"-nearcache-parallel", func(b *testing.B) {
			a := newBenchApp(b, backend, redisstore.WithNearCache(0, 0))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					a.ping(b)
				}
			})
		})
	}
}

// BenchmarkRefresh is one rotation: verify the refresh token, one store
// script, sign a new pair.
func BenchmarkRefresh(b *testing.B) {
	for _, backend := range redistest.Backends(b) {
		b.Run(backend.Name, func(b *testing.B) {
			a := newBenchApp(b, backend)
			rt := a.tokens.RefreshToken
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/auth/refresh", strings.NewReader(`{"refresh_token":"`+rt+`"}`))
				req.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				a.engine.ServeHTTP(w, req)
				var tr ginjwt.TokenResponse
				if err := json.Unmarshal(w.Body.Bytes(), &tr); err != nil || w.Code != http.StatusOK {
					b.Fatalf("refresh answered %d %s", w.Code, w.Body)
				}
				rt = tr.RefreshToken
			}
		})
	}
}
