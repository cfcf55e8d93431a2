package redisstore_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

// Every policy but noeviction may evict the store's keys, which all have a
// TTL; New warns about those at start-up, and is silent for noeviction.
func TestEvictionPolicy(t *testing.T) {
	redistest.SkipUnlessReal(t)
	srv := redistest.StartServer(t)
	admin := srv.Client()
	client := srv.Client()
	for _, tc := range []struct {
		policy string
		risky  bool
	}{
		{"noeviction", false},
		{"allkeys-lru", true},
		{"allkeys-lfu", true},
		{"allkeys-random", true},
		{"volatile-lru", true},
		{"volatile-lfu", true},
		{"volatile-random", true},
		{"volatile-ttl", true},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			if err := admin.ConfigSet(t.Context(), "maxmemory-policy", tc.policy).Err(); err != nil {
				t.Fatal(err)
			}
			policy, risky, err := redisstore.CheckEvictionPolicy(t.Context(), client)
			if err != nil || policy != tc.policy || risky != tc.risky {
				t.Fatalf("CheckEvictionPolicy = %q, %v, %v; want %q, %v, nil", policy, risky, err, tc.policy, tc.risky)
			}
		})
	}
}

// On a Cluster the policy of every master is read.
func TestEvictionPolicyCluster(t *testing.T) {
	redistest.SkipUnlessCluster(t)
	cl := redistest.StartCluster(t, 3, false)
	client := cl.Backend().Client(t)
	if p, risky, err := redisstore.CheckEvictionPolicy(t.Context(), client); err != nil || p != "noeviction" || risky {
		t.Fatalf("all masters noeviction: CheckEvictionPolicy = %q, %v, %v", p, risky, err)
	}
	// One master that may evict is enough to warn.
	if err := cl.Masters[2].Client().ConfigSet(t.Context(), "maxmemory-policy", "volatile-lru").Err(); err != nil {
		t.Fatal(err)
	}
	if p, risky, err := redisstore.CheckEvictionPolicy(t.Context(), client); err != nil || p != "volatile-lru" || !risky {
		t.Fatalf("one master volatile-lru: CheckEvictionPolicy = %q, %v, %v", p, risky, err)
	}
}

// When the policy cannot be read (miniredis has no CONFIG; a managed Redis
// may refuse it; Redis may hang), CheckEvictionPolicy says so, within its
// context's deadline even with a client that ignores deadlines while it reads.
func TestEvictionPolicyUnknown(t *testing.T) {
	t.Parallel()
	mini := redistest.Backends(t)[0]
	if _, _, err := redisstore.CheckEvictionPolicy(t.Context(), mini.Client(t)); err == nil {
		t.Fatal("CheckEvictionPolicy on miniredis: no error")
	}
	addr, _ := silentServer(t)
	for _, ctxTimeout := range []bool{false, true} {
		hung := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: ctxTimeout, MaxRetries: -1})
		t.Cleanup(func() { _ = hung.Close() })
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		start := time.Now()
		_, _, err := redisstore.CheckEvictionPolicy(ctx, hung)
		took := time.Since(start)
		cancel()
		// Well under the client's 3 s read timeout, which would end it otherwise.
		if err == nil || took > 2*time.Second {
			t.Errorf("ContextTimeoutEnabled %v: CheckEvictionPolicy on a hung Redis = %v after %v, want an error at the 200ms deadline", ctxTimeout, err, took)
		}
	}
	if _, _, err := redisstore.CheckEvictionPolicy(t.Context(), nil); err == nil {
		t.Fatal("CheckEvictionPolicy with a nil client: no error")
	}
}

// New does no I/O: it returns at once and opens no connection, even to a
// Redis that never answers.
func TestNewDoesNoIO(t *testing.T) {
	t.Parallel()
	addr, accepted := silentServer(t)
	client := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = client.Close() })
	if _, err := redisstore.New(client, redisstore.WithNearCache(0, 0)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // room for a stray dial to arrive
	if n := accepted(); n != 0 {
		t.Fatalf("New opened %d connections", n)
	}
}

// silentServer accepts connections and never answers, like a Redis that
// hangs; it returns its address and a count of the connections accepted.
func silentServer(t *testing.T) (addr string, accepted func() int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String(), func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(conns)
	}
}
