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
	fixedState bool                      // answer State from memory: the guard's CPU alone
	device     func(*gin.Context) string // Identity.Device; default the User-Agent
	omitClient bool                      // Options.OmitClientInfo
}

// ourApp is an engine with jwtguard's login, refresh and guarded GET.
type ourApp struct {
	engine *gin.Engine
	trips  *roundTrips // on rdb
	auth   *ginjwt.Auth
	store  *redisstore.Store
	rdb    *redis.Client
	prefix string
}

func newOurApp(tb testing.TB, cfg ourConfig) *ourApp {
	tb.Helper()
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
	rs, err := redisstore.New(rdb, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { closeStore(tb, rs) })
	var store ginjwt.Store = rs
	if cfg.fixedState {
		store = &fixedStateStore{Store: rs}
	}
	auth, err := ginjwt.New(ginjwt.Options{
		Store:          store,
		Keys:           []ginjwt.Key{ginjwt.HS256(secret)},
		TokenCacheSize: cfg.tokenCache,
		OmitClientInfo: cfg.omitClient,
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
	})
	if err != nil {
		tb.Fatal(err)
	}
	r := gin.New()
	r.POST("/auth/login", auth.LoginHandler())
	r.POST("/auth/refresh", auth.RefreshHandler())
	r.GET(pingPath, auth.Middleware(), noContent)
	if cfg.nearCache {
		waitNearCache(tb, rs)
	}
	return &ourApp{engine: r, trips: trips, auth: auth, store: rs, rdb: rdb, prefix: prefix}
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

// refreshRequest is a refresh with rt, as a JSON body.
func refreshRequest(rt string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/auth/refresh", strings.NewReader(`{"refresh_token":"`+rt+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	return req
}

// fixedStateStore is redisstore for everything but State, which it answers
// from memory with the state of the last session created: the guard then
// does all of its own work without the round trip.
type fixedStateStore struct {
	*redisstore.Store
	version atomic.Int64
}

func (s *fixedStateStore) CreateSession(ctx context.Context, sub string, ns ginjwt.NewSession) (int64, error) {
	v, err := s.Store.CreateSession(ctx, sub, ns)
	if err == nil {
		s.version.Store(v)
	}
	return v, err
}

func (s *fixedStateStore) State(context.Context, string, string) (ginjwt.SessionState, bool, error) {
	return ginjwt.SessionState{UserVersion: s.version.Load(), Generation: 1}, true, nil
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
