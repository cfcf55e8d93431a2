package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/ginjwt/otelguard"
	"github.com/jwtguard/jwtguard/memstore"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// Fixture shared by every guard: HS256, the same secret, issuer, audience and
// subject.
var (
	secret = []byte("jwtguard-bench-secret-0123456789abcdef0123456789")

	// userAgent is a realistic 100-byte User-Agent (desktop Chrome, cut).
	userAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Sa"
)

const (
	issuer   = ginjwt.DefaultIssuer
	subject  = "user-12345"
	pingPath = "/api/ping"
	userHdr  = "X-Bench-User" // the bench's Authenticate takes the subject from it
)

// redisAddr is REDIS_ADDR or the default local Redis.
func redisAddr() string {
	if a := os.Getenv("REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

var prefixSeq atomic.Int64

// newRedis returns a client on the real Redis and a key prefix unique to this
// call; every key under the prefix is deleted when tb ends. It fails tb when
// Redis cannot be reached.
func newRedis(tb testing.TB) (*redis.Client, string) {
	tb.Helper()
	client := redis.NewClient(&redis.Options{Addr: redisAddr(), ContextTimeoutEnabled: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		tb.Fatalf("Redis at %s is unreachable (set REDIS_ADDR): %v", redisAddr(), err)
	}
	prefix := fmt.Sprintf("jwtguard-bench:%d-%d-%s:", os.Getpid(), prefixSeq.Add(1), randomID(4))
	tb.Cleanup(func() {
		deleteKeys(tb, client, prefix)
		_ = client.Close()
	})
	return client, prefix
}

// deleteKeys removes every key under prefix.
func deleteKeys(tb testing.TB, client *redis.Client, prefix string) {
	ctx := context.Background()
	iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	flush := func() {
		if len(batch) > 0 {
			if err := client.Unlink(ctx, batch...).Err(); err != nil {
				tb.Errorf("cleanup: %v", err)
			}
			batch = batch[:0]
		}
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			flush()
		}
	}
	flush()
	if err := iter.Err(); err != nil {
		tb.Errorf("cleanup scan: %v", err)
	}
}

// randomID is n random bytes in base64url.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// noContent is the handler behind every guard.
func noContent(c *gin.Context) { c.Status(http.StatusNoContent) }

// getRequest is the authenticated GET every guard serves. It is built once
// per benchmark goroutine and served many times; only the recorder is fresh.
func getRequest(token string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, pingPath, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("User-Agent", userAgent)
	return req
}

// serve runs req through engine and returns the status.
func serve(engine *gin.Engine, req *http.Request) int {
	w := httptest.NewRecorder()
	engine.ServeHTTP(w, req)
	return w.Code
}

// ---- jwtguard ---------------------------------------------------------------

// ourConfig is one configuration of our guard.
type ourConfig struct {
	tokenCache int                       // Options.TokenCacheSize: 0 default, negative off
	nearCache  bool                      // redisstore.WithNearCache
	memory     bool                      // memstore instead of Redis: the guard's CPU alone
	device     func(*gin.Context) string // Identity.Device; default the User-Agent
	omitClient bool                      // Options.OmitClientInfo
	acks       int                       // redisstore.WithReplicaAcks; 0 off
	noLimits   bool                      // Options.Limits.Off; else benchLimits
	otel       *otelguard.Instruments    // OpenTelemetry instruments; nil off
	dpop       bool                      // Options.DPoP optional, BaseURL dpopBase
}

// benchLimits are the default limits but for a refresh limit no benchmark
// reaches: a refresh pays the limit's round trip, never its 429.
var benchLimits = ginjwt.Limits{RefreshPerSession: ginjwt.Rate{Count: 1 << 30, Period: time.Second}}

// ourApp is an engine with jwtguard's login, refresh and guarded GET.
type ourApp struct {
	engine *gin.Engine
	trips  *roundTrips // on rdb
	auth   *ginjwt.Auth
	store  *redisstore.Store // nil, with rdb, for an app on memstore
	rdb    *redis.Client
	prefix string
}

// newOurApp builds an app on a fresh Redis namespace or, with cfg.memory, on
// memstore: no Redis at all, session state answered from the process's
// memory, so that what the guard costs is its own work; it reports zero
// round trips.
func newOurApp(tb testing.TB, cfg ourConfig) *ourApp {
	tb.Helper()
	if cfg.memory {
		engine, auth := newOurEngine(tb, cfg, memstore.New())
		return &ourApp{engine: engine, trips: &roundTrips{}, auth: auth}
	}
	rdb, prefix := newRedis(tb)
	return newOurAppOn(tb, cfg, rdb, prefix)
}

// newOurAppOn builds an app on an existing client and prefix, so that two
// apps (two instances) can share one Redis namespace.
func newOurAppOn(tb testing.TB, cfg ourConfig, rdb *redis.Client, prefix string) *ourApp {
	tb.Helper()
	trips := countRoundTrips(rdb)
	opts := []redisstore.Option{redisstore.WithPrefix(prefix)}
	if cfg.nearCache {
		opts = append(opts, nearCacheOption())
	}
	if cfg.acks > 0 {
		opts = append(opts, redisstore.WithReplicaAcks(cfg.acks, 500*time.Millisecond))
	}
	rs, err := redisstore.New(rdb, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { closeStore(tb, rs) })
	engine, auth := newOurEngine(tb, cfg, rs)
	if cfg.nearCache {
		waitNearCache(tb, rs)
	}
	return &ourApp{engine: engine, trips: trips, auth: auth, store: rs, rdb: rdb, prefix: prefix}
}

// newOurEngine mounts our login, refresh and guarded GET, configured by cfg,
// on store.
func newOurEngine(tb testing.TB, cfg ourConfig, store ginjwt.Store) (*gin.Engine, *ginjwt.Auth) {
	tb.Helper()
	limits := benchLimits
	if cfg.noLimits {
		limits = ginjwt.Limits{Off: true}
	}
	opts := ginjwt.Options{
		Store:          store,
		Keys:           []ginjwt.Key{ginjwt.HS256(secret)},
		TokenCacheSize: cfg.tokenCache,
		OmitClientInfo: cfg.omitClient,
		Limits:         limits,
		Authenticate: func(c *gin.Context) (ginjwt.Identity, error) {
			sub := c.GetHeader(userHdr)
			if sub == "" {
				sub = subject
			}
			device := c.GetHeader("User-Agent")
			if cfg.device != nil {
				device = cfg.device(c)
			}
			return ginjwt.Identity{Subject: sub, Device: device}, nil
		},
	}
	if cfg.dpop {
		opts.DPoP = ginjwt.DPoPOptions{Mode: ginjwt.DPoPOptional, BaseURL: dpopBase}
	}
	cfg.otel.Instrument(&opts) // nil: nothing
	auth, err := ginjwt.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	r := gin.New()
	r.POST("/auth/login", auth.LoginHandler())
	r.POST("/auth/refresh", auth.RefreshHandler())
	r.POST("/auth/logout", auth.LogoutHandler())
	r.GET(pingPath, cfg.otel.Guard(auth.Middleware(), noContent)...) // nil otel: the guard, then noContent
	return r, auth
}

// login logs sub in and returns the token pair.
func (a *ourApp) login(tb testing.TB, sub string) ginjwt.TokenResponse {
	tb.Helper()
	w := httptest.NewRecorder()
	a.engine.ServeHTTP(w, loginRequest(sub))
	var tr ginjwt.TokenResponse
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &tr) != nil || tr.AccessToken == "" {
		tb.Fatalf("login answered %d %s", w.Code, w.Body)
	}
	return tr
}

// loginRequest is a login of sub (the bench's Authenticate reads userHdr).
func loginRequest(sub string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/auth/login", nil)
	req.Header.Set(userHdr, sub)
	req.Header.Set("User-Agent", userAgent)
	return req
}

// logoutRequest is a logout with the refresh token rt, as a JSON body.
func logoutRequest(rt string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/auth/logout", strings.NewReader(`{"refresh_token":"`+rt+`"}`))
	req.Header.Set("Content-Type", "application/json")
	return req
}

// refreshRequest is a refresh with rt, as a JSON body.
func refreshRequest(rt string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/auth/refresh", strings.NewReader(`{"refresh_token":"`+rt+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	return req
}

// roundTrips counts the requests a go-redis client sends (a pipeline counts
// once); the near-cache's subscription connection is not counted.
type roundTrips struct{ n atomic.Int64 }

// countRoundTrips installs a counter on client.
func countRoundTrips(client *redis.Client) *roundTrips {
	rt := &roundTrips{}
	client.AddHook(rt)
	return rt
}

func (rt *roundTrips) load() int64 {
	if rt == nil {
		return 0
	}
	return rt.n.Load()
}

func (rt *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (rt *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		rt.n.Add(1)
		return next(ctx, cmd)
	}
}

func (rt *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		rt.n.Add(1)
		return next(ctx, cmds)
	}
}
