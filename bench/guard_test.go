package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jwtv2 "github.com/appleboy/gin-jwt/v2"
	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/redis/go-redis/v9"
)

// Every guard benchmark serves the same authenticated GET through a gin
// engine in release mode (gin.New(): no logger, no recovery) with
// engine.ServeHTTP and a fresh httptest.ResponseRecorder, and checks the 204.
// The request is built once per goroutine. Parallel variants use
// b.RunParallel (GOMAXPROCS goroutines) and report req/s for the machine.

// ---- harness ------------------------------------------------------------------

// runServe serves req b.N times and fails on any status but 204. With trips
// set, it reports the Redis round trips per request.
func runServe(b *testing.B, engine *gin.Engine, token string, trips *roundTrips) {
	req := getRequest(token)
	if code := serve(engine, req); code != http.StatusNoContent {
		b.Fatalf("guard answered %d", code)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := trips.load()
	for b.Loop() {
		if code := serve(engine, req); code != http.StatusNoContent {
			b.Fatalf("guard answered %d", code)
		}
	}
	reportTrips(b, trips, start)
}

// reportTrips reports the round trips per operation since start.
func reportTrips(b *testing.B, trips *roundTrips, start int64) {
	if trips != nil {
		b.ReportMetric(float64(trips.load()-start)/float64(b.N), "redis-rt/op")
	}
}

// runServeParallel is runServe with b.RunParallel; it reports req/s.
func runServeParallel(b *testing.B, engine *gin.Engine, token string, trips *roundTrips) {
	if code := serve(engine, getRequest(token)); code != http.StatusNoContent {
		b.Fatalf("guard answered %d", code)
	}
	var bad atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start := trips.load()
	b.RunParallel(func(pb *testing.PB) {
		req := getRequest(token)
		for pb.Next() {
			if code := serve(engine, req); code != http.StatusNoContent {
				bad.Store(int64(code))
			}
		}
	})
	b.StopTimer()
	if code := bad.Load(); code != 0 {
		b.Fatalf("guard answered %d", code)
	}
	reportRate(b)
	reportTrips(b, trips, start)
}

// reportRate reports operations per second of wall time.
func reportRate(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "req/s")
	}
}

// ---- baseline -----------------------------------------------------------------

func baselineEngine() *gin.Engine {
	r := gin.New()
	r.GET(pingPath, noContent)
	return r
}

// BenchmarkBaseline: the route without any guard.
func BenchmarkBaseline(b *testing.B) { runServe(b, baselineEngine(), "", nil) }

func BenchmarkBaselineParallel(b *testing.B) { runServeParallel(b, baselineEngine(), "", nil) }

// BenchmarkBaselineSet: the route with a middleware that only stores one
// value in gin's context (c.Set), as every guard that hands claims to its
// handlers does: gin's own cost of that, its context map.
func BenchmarkBaselineSet(b *testing.B) {
	type key struct{}
	r := gin.New()
	r.GET(pingPath, func(c *gin.Context) { c.Set(key{}, c) }, noContent)
	runServe(b, r, "", nil)
}

// ---- appleboy/gin-jwt v2.10.3 --------------------------------------------------

// appleboyApp configures gin-jwt through its public API, as its README does,
// for HS256 with the secret, and mints a token with its own TokenGenerator
// carrying the same claims as the others (gin-jwt adds exp and orig_iat).
func appleboyApp(b *testing.B) (*gin.Engine, string) {
	now := time.Now()
	mw, err := jwtv2.New(&jwtv2.GinJWTMiddleware{
		Realm:       "bench",
		Key:         secret,
		Timeout:     15 * time.Minute,
		MaxRefresh:  time.Hour,
		IdentityKey: "sub",
		PayloadFunc: func(data any) jwtv2.MapClaims {
			return jwtv2.MapClaims{
				"sub": data, "iat": now.Unix(), "nbf": now.Unix(), "jti": randomID(16),
				"iss": issuer, "aud": []string{issuer},
				"typ": ginjwt.TypeAccess, "sid": randomID(16), "ver": int64(3141592653589793),
			}
		},
		Authenticator: func(*gin.Context) (any, error) { return subject, nil },
	})
	if err != nil {
		b.Fatal(err)
	}
	token, _, err := mw.TokenGenerator(subject)
	if err != nil {
		b.Fatal(err)
	}
	r := gin.New()
	r.GET(pingPath, mw.MiddlewareFunc(), noContent)
	return r, token
}

// BenchmarkAppleboyGinJWT: appleboy/gin-jwt's stateless guard, the anchor.
func BenchmarkAppleboyGinJWT(b *testing.B) {
	r, token := appleboyApp(b)
	runServe(b, r, token, nil)
}

func BenchmarkAppleboyGinJWTParallel(b *testing.B) {
	r, token := appleboyApp(b)
	runServeParallel(b, r, token, nil)
}

// ---- hand-written golang-jwt v5 guards ------------------------------------------

// handClaims are the registered claims plus typ, sid and ver.
type handClaims struct {
	jwt.RegisteredClaims
	Type      string `json:"typ"`
	SessionID string `json:"sid"`
	Version   int64  `json:"ver"`
}

// handApp is a minimal guard: Bearer header, golang-jwt v5 ParseWithClaims
// with a reused parser (pinned HS256, exp required, iss and aud checked), the
// typ claim, and, with rdb set, one GET of the user's version key compared
// with the token's ver: the naive revocation check per request.
func handApp(b *testing.B, withRedis bool) (*gin.Engine, string, *roundTrips) {
	var rdb *redis.Client
	var prefix string
	var trips *roundTrips
	const version = 3141592653589793
	if withRedis {
		rdb, prefix = newRedis(b)
		trips = countRoundTrips(rdb)
		if err := rdb.Set(context.Background(), prefix+"ver:"+subject, version, time.Hour).Err(); err != nil {
			b.Fatal(err)
		}
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(issuer),
	)
	keyFunc := func(*jwt.Token) (any, error) { return secret, nil }
	guard := func(c *gin.Context) {
		h := c.GetHeader("Authorization")
		if !strings.HasPrefix(h, "Bearer ") {
			c.AbortWithStatus(http.StatusUnauthorized)
			return
		}
		claims := &handClaims{}
		if _, err := parser.ParseWithClaims(h[len("Bearer "):], claims, keyFunc); err != nil || claims.Type != ginjwt.TypeAccess {
			c.AbortWithStatus(http.StatusUnauthorized)
			return
		}
		if rdb != nil {
			v, err := rdb.Get(c.Request.Context(), prefix+"ver:"+claims.Subject).Int64()
			if err != nil && err != redis.Nil {
				c.AbortWithStatus(http.StatusServiceUnavailable)
				return
			}
			if err == redis.Nil || v != claims.Version {
				c.AbortWithStatus(http.StatusUnauthorized)
				return
			}
		}
		c.Set("claims", claims)
		c.Next()
	}
	now := time.Now()
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, handClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   subject,
			Issuer:    issuer,
			Audience:  jwt.ClaimStrings{issuer},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)),
			ID:        randomID(16),
		},
		Type:      ginjwt.TypeAccess,
		SessionID: randomID(16),
		Version:   version,
	}).SignedString(secret)
	if err != nil {
		b.Fatal(err)
	}
	r := gin.New()
	r.GET(pingPath, guard, noContent)
	return r, token, trips
}

// BenchmarkHandRolledStateless: golang-jwt v5 verification only.
func BenchmarkHandRolledStateless(b *testing.B) {
	r, token, trips := handApp(b, false)
	runServe(b, r, token, trips)
}

func BenchmarkHandRolledStatelessParallel(b *testing.B) {
	r, token, trips := handApp(b, false)
	runServeParallel(b, r, token, trips)
}

// BenchmarkHandRolledRedisGET: golang-jwt v5 verification and one GET.
func BenchmarkHandRolledRedisGET(b *testing.B) {
	r, token, trips := handApp(b, true)
	runServe(b, r, token, trips)
}

func BenchmarkHandRolledRedisGETParallel(b *testing.B) {
	r, token, trips := handApp(b, true)
	runServeParallel(b, r, token, trips)
}

// ---- jwtguard -------------------------------------------------------------------

// ourGuard builds our app in cfg and logs one session in.
func ourGuard(b *testing.B, cfg ourConfig) (*ourApp, ginjwt.TokenResponse) {
	a := newOurApp(b, cfg)
	return a, a.login(b, subject)
}

// checkRevocation revokes the session behind tr and checks that the guard
// refuses its access token within a second: a cached guard must still refuse
// revoked tokens.
func checkRevocation(b *testing.B, a *ourApp, tr ginjwt.TokenResponse) {
	b.StopTimer()
	var claims struct {
		jwt.RegisteredClaims
		SessionID string `json:"sid"`
	}
	if _, _, err := jwt.NewParser().ParseUnverified(tr.AccessToken, &claims); err != nil {
		b.Fatal(err)
	}
	if err := a.auth.RevokeSession(context.Background(), claims.Subject, claims.SessionID); err != nil {
		b.Fatal(err)
	}
	req := getRequest(tr.AccessToken)
	deadline := time.Now().Add(time.Second)
	for serve(a.engine, req) != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			b.Fatal("a revoked token still passes the guard after 1s")
		}
		time.Sleep(100 * time.Microsecond)
	}
}

var (
	coldConfig       = ourConfig{tokenCache: -1}
	tokenCacheConfig = ourConfig{}
	warmConfig       = ourConfig{nearCache: true}
	statelessConfig  = ourConfig{tokenCache: -1, memory: true}
)

// BenchmarkOurGuardCold: full verification and one round trip per request
// (token cache off, no near-cache).
func BenchmarkOurGuardCold(b *testing.B) {
	a, tr := ourGuard(b, coldConfig)
	runServe(b, a.engine, tr.AccessToken, a.trips)
	checkRevocation(b, a, tr)
}

func BenchmarkOurGuardColdParallel(b *testing.B) {
	a, tr := ourGuard(b, coldConfig)
	runServeParallel(b, a.engine, tr.AccessToken, a.trips)
	checkRevocation(b, a, tr)
}

// BenchmarkOurGuardTokenCache: the default token cache skips verification of
// a token seen before; still one round trip per request.
func BenchmarkOurGuardTokenCache(b *testing.B) {
	a, tr := ourGuard(b, tokenCacheConfig)
	runServe(b, a.engine, tr.AccessToken, a.trips)
	checkRevocation(b, a, tr)
}

func BenchmarkOurGuardTokenCacheParallel(b *testing.B) {
	a, tr := ourGuard(b, tokenCacheConfig)
	runServeParallel(b, a.engine, tr.AccessToken, a.trips)
	checkRevocation(b, a, tr)
}

// BenchmarkOurGuardWarm: token cache and near-cache on, same token again:
// no round trip in the steady state (one per session per near-cache TTL).
func BenchmarkOurGuardWarm(b *testing.B) {
	a, tr := ourGuard(b, warmConfig)
	runServe(b, a.engine, tr.AccessToken, a.trips)
	checkRevocation(b, a, tr)
}

func BenchmarkOurGuardWarmParallel(b *testing.B) {
	a, tr := ourGuard(b, warmConfig)
	runServeParallel(b, a.engine, tr.AccessToken, a.trips)
	checkRevocation(b, a, tr)
}

// BenchmarkOurStatelessCPU: our guard's own work on a token seen for the
// first time (token cache off) with the session state answered from memory
// by memstore instead of Redis: the CPU part of BenchmarkOurGuardCold.
func BenchmarkOurStatelessCPU(b *testing.B) {
	a, tr := ourGuard(b, statelessConfig)
	runServe(b, a.engine, tr.AccessToken, a.trips)
}

func BenchmarkOurStatelessCPUParallel(b *testing.B) {
	a, tr := ourGuard(b, statelessConfig)
	runServeParallel(b, a.engine, tr.AccessToken, a.trips)
}

// ---- one Redis round trip, for reference ---------------------------------------------

// BenchmarkRedisGET: one go-redis GET alone, the round trip every
// non-cached guard pays.
func BenchmarkRedisGET(b *testing.B) {
	rdb, prefix := newRedis(b)
	ctx := context.Background()
	key := prefix + "k"
	if err := rdb.Set(ctx, key, "3141592653589793", time.Hour).Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := rdb.Get(ctx, key).Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// ---- login and refresh throughput ---------------------------------------------------

// throughputParallelism is the number of goroutines per GOMAXPROCS for login
// and refresh: enough for their round trips to overlap.
const throughputParallelism = 16

// BenchmarkRefreshParallel: refresh-token rotations per second, each
// goroutine rotating its own session (verify the refresh token, one store
// script, sign a new pair, JSON response).
func BenchmarkRefreshParallel(b *testing.B) { runRefreshParallel(b, newOurApp(b, coldConfig)) }

// BenchmarkRefreshParallelNoLimits: the same with Options.Limits off, for
// the cost of the per-session refresh limit (one round trip).
func BenchmarkRefreshParallelNoLimits(b *testing.B) {
	runRefreshParallel(b, newOurApp(b, ourConfig{tokenCache: -1, noLimits: true}))
}

// runRefreshParallel measures refreshes per second through a, each
// goroutine rotating its own session.
func runRefreshParallel(b *testing.B, a *ourApp) {
	pool := make([]string, refreshSessions())
	for i := range pool {
		pool[i] = a.login(b, "user-"+strconv.Itoa(10000+i)).RefreshToken
	}
	runRefreshLoop(b, a.engine, pool)
}

// refreshSessions is how many sessions a refresh benchmark rotates, one per
// goroutine.
func refreshSessions() int { return throughputParallelism * runtime.GOMAXPROCS(0) }

// runRefreshLoop refreshes from parallel goroutines, each rotating its own
// session of pool (refresh tokens) through engine, and reports req/s.
func runRefreshLoop(b *testing.B, engine http.Handler, pool []string) {
	n := len(pool)
	var next, bad atomic.Int64
	b.SetParallelism(throughputParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rt := pool[int(next.Add(1)-1)%n]
		for pb.Next() {
			w := httptest.NewRecorder()
			engine.ServeHTTP(w, refreshRequest(rt))
			var tr ginjwt.TokenResponse
			if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &tr) != nil {
				bad.Store(int64(w.Code))
				return
			}
			rt = tr.RefreshToken
		}
	})
	b.StopTimer()
	if code := bad.Load(); code != 0 {
		b.Fatalf("refresh answered %d", code)
	}
	reportRate(b)
}

// BenchmarkLoginParallel: logins per second (a new session, one store
// script, a signed pair, JSON response, the per-IP limit's take and
// refund), each of a new subject; Authenticate itself costs nothing.
func BenchmarkLoginParallel(b *testing.B) { runLoginParallel(b, newOurApp(b, coldConfig)) }

// BenchmarkLoginParallelNoLimits: the same with Options.Limits off.
func BenchmarkLoginParallelNoLimits(b *testing.B) {
	runLoginParallel(b, newOurApp(b, ourConfig{tokenCache: -1, noLimits: true}))
}

func runLoginParallel(b *testing.B, a *ourApp) {
	var next, bad atomic.Int64
	b.SetParallelism(throughputParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			a.engine.ServeHTTP(w, loginRequest("user-"+strconv.Itoa(int(10000+next.Add(1)))))
			if w.Code != http.StatusOK {
				bad.Store(int64(w.Code))
				return
			}
		}
	})
	b.StopTimer()
	if code := bad.Load(); code != 0 {
		b.Fatalf("login answered %d", code)
	}
	reportRate(b)
}
