package bench

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/redis/go-redis/v9"
)

// handRefreshClaims are the claims of the hand-written refresh endpoint's
// tokens.
type handRefreshClaims struct {
	jwt.RegisteredClaims
	Type       string `json:"typ"`
	SessionID  string `json:"sid"`
	Generation int64  `json:"gen"`
}

// bumpGeneration checks that the session's stored generation is the
// presented one and advances it: the usual one-script rotation.
var bumpGeneration = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local g = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return g
`)

// handRefreshApp is a refresh endpoint of the usual hand-written shape:
// golang-jwt ParseWithClaims of the refresh token with a reused parser, one
// EVAL that checks and bumps the session's generation, two
// jwt.NewWithClaims(...).SignedString and c.JSON. It returns the engine and
// one refresh token for each of n sessions.
func handRefreshApp(b *testing.B, n int) (*gin.Engine, []string) {
	rdb, prefix := newRedis(b)
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(issuer),
	)
	keyFunc := func(*jwt.Token) (any, error) { return secret, nil }
	sign := func(typ, sid string, gen int64, ttl time.Duration) (string, error) {
		now := time.Now()
		return jwt.NewWithClaims(jwt.SigningMethodHS256, handRefreshClaims{
			RegisteredClaims: jwt.RegisteredClaims{
				Subject: subject, Issuer: issuer, Audience: jwt.ClaimStrings{issuer},
				IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
				ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), ID: randomID(16),
			},
			Type: typ, SessionID: sid, Generation: gen,
		}).SignedString(secret)
	}
	refresh := func(c *gin.Context) {
		var body struct {
			RefreshToken string `json:"refresh_token" binding:"required"`
		}
		if err := c.ShouldBindJSON(&body); err != nil {
			c.AbortWithStatus(http.StatusBadRequest)
			return
		}
		claims := &handRefreshClaims{}
		if _, err := parser.ParseWithClaims(body.RefreshToken, claims, keyFunc); err != nil || claims.Type != "refresh" {
			c.AbortWithStatus(http.StatusUnauthorized)
			return
		}
		gen, err := bumpGeneration.Run(c.Request.Context(), rdb, []string{prefix + "gen:" + claims.SessionID},
			claims.Generation, (7 * 24 * time.Hour).Milliseconds()).Int64()
		switch {
		case err != nil:
			c.AbortWithStatus(http.StatusServiceUnavailable)
			return
		case gen == 0:
			c.AbortWithStatus(http.StatusUnauthorized)
			return
		}
		access, err1 := sign("access", claims.SessionID, gen, 15*time.Minute)
		refresh, err2 := sign("refresh", claims.SessionID, gen, 7*24*time.Hour)
		if err1 != nil || err2 != nil {
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		c.JSON(http.StatusOK, gin.H{"access_token": access, "token_type": "Bearer", "expires_in": 900, "refresh_token": refresh})
	}
	tokens := make([]string, n)
	for i := range tokens {
		sid := randomID(16)
		if err := rdb.Set(context.Background(), prefix+"gen:"+sid, 1, time.Hour).Err(); err != nil {
			b.Fatal(err)
		}
		t, err := sign("refresh", sid, 1, 7*24*time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = t
	}
	r := gin.New()
	r.POST("/auth/refresh", refresh)
	return r, tokens
}

// BenchmarkHandRolledRefreshParallel: the hand-written refresh endpoint,
// at the parallelism of BenchmarkRefreshParallel; the anchor its req/s is
// compared with.
func BenchmarkHandRolledRefreshParallel(b *testing.B) {
	r, pool := handRefreshApp(b, refreshSessions())
	runRefreshLoop(b, r, pool)
}

// BenchmarkRawHMAC: HMAC-SHA256 of an access token's signing input with a
// reused hash state, the floor under any HS256 guard.
func BenchmarkRawHMAC(b *testing.B) {
	input := make([]byte, 400) // about an access token's header and payload
	mac := hmac.New(sha256.New, secret)
	sum := make([]byte, 0, sha256.Size)
	b.ReportAllocs()
	for b.Loop() {
		mac.Reset()
		mac.Write(input)
		sum = mac.Sum(sum[:0])
	}
}

// BenchmarkRefreshHarness: what the refresh rows spend outside the
// endpoint they measure (the request, the recorder, decoding the answer),
// against an endpoint that answers a fixed token response: subtract its
// allocations to get an endpoint's own.
func BenchmarkRefreshHarness(b *testing.B) {
	body, err := json.Marshal(ginjwt.TokenResponse{AccessToken: strings.Repeat("a", 300), RefreshToken: strings.Repeat("r", 300), TokenType: "Bearer", ExpiresIn: 900})
	if err != nil {
		b.Fatal(err)
	}
	r := gin.New()
	r.POST("/auth/refresh", func(c *gin.Context) { c.Data(http.StatusOK, "application/json", body) })
	pool := make([]string, refreshSessions())
	for i := range pool {
		pool[i] = strings.Repeat("r", 300)
	}
	runRefreshLoop(b, r, pool)
}

// BenchmarkRefreshFloorParallel: the most any refresh that makes one Redis
// round trip can do here, at the parallelism of BenchmarkRefreshParallel:
// the endpoint reads the body, sends one INCR and answers a fixed token
// response, with no token parsed, checked or signed. Every refresh,
// hand-written or ours, costs at least this; its req/s bounds theirs.
func BenchmarkRefreshFloorParallel(b *testing.B) {
	rdb, prefix := newRedis(b)
	answer, err := json.Marshal(ginjwt.TokenResponse{AccessToken: strings.Repeat("a", 300), RefreshToken: strings.Repeat("r", 300), TokenType: "Bearer", ExpiresIn: 900})
	if err != nil {
		b.Fatal(err)
	}
	key := prefix + "floor"
	r := gin.New()
	r.POST("/auth/refresh", func(c *gin.Context) {
		if _, err := io.Copy(io.Discard, c.Request.Body); err != nil {
			c.AbortWithStatus(http.StatusBadRequest)
			return
		}
		if err := rdb.Incr(c.Request.Context(), key).Err(); err != nil {
			c.AbortWithStatus(http.StatusServiceUnavailable)
			return
		}
		c.Data(http.StatusOK, "application/json", answer)
	})
	pool := make([]string, refreshSessions())
	for i := range pool {
		pool[i] = strings.Repeat("r", 300)
	}
	runRefreshLoop(b, r, pool)
}
