// Package redistest gives tests the Redis servers they should run against:
// an embedded miniredis always, and the real Redis at REDIS_ADDR when that
// variable is set. A real Redis that was asked for but cannot be reached
// fails the test; it is never skipped.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Backend is one Redis server to test against.
type Backend struct {
	Name string // "miniredis" or "redis"
	Addr string // host:port

	// Mini is the embedded server, nil for a real Redis.
	Mini *miniredis.Miniredis
}

// Backends returns miniredis and, when REDIS_ADDR is set, the real Redis
// there. It fails t when that Redis does not answer PING.
func Backends(t testing.TB) []Backend {
	t.Helper()
	m := miniredis.RunT(t)
	backends := []Backend{{Name: "miniredis", Addr: m.Addr(), Mini: m}}
	if addr := os.Getenv("REDIS_ADDR"); addr != "" {
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatalf("REDIS_ADDR=%s is set but Redis does not answer: %v", addr, err)
		}
		backends = append(backends, Backend{Name: "redis", Addr: addr})
	}
	return backends
}

// Client returns a client for b, closed when the test ends.
func (b Backend) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: b.Addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Prefix returns a key prefix unique to this test, and deletes every key
// under it when the test ends, so tests can share a real Redis.
func Prefix(t testing.TB, b Backend) string {
	var r [6]byte
	_, _ = rand.Read(r[:])
	prefix := "jwtguard-test:" + hex.EncodeToString(r[:]) + ":"
	t.Cleanup(func() {
		c := redis.NewClient(&redis.Options{Addr: b.Addr})
		defer c.Close()
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return prefix
}
