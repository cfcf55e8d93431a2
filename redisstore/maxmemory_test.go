package redisstore_test

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

// logBuffer is a slog text handler's output, safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

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
			log, out := newLogger()
			if _, err := redisstore.New(client, redisstore.WithLogger(log)); err != nil {
				t.Fatal(err)
			}
			warned := strings.Contains(out.String(), "level=WARN") && strings.Contains(out.String(), "maxmemory-policy="+tc.policy)
			if warned != tc.risky {
				t.Fatalf("policy %s: New logged %q; want a warning: %v", tc.policy, out, tc.risky)
			}
			if !tc.risky && out.String() != "" {
				t.Fatalf("policy noeviction: New logged %q, want nothing", out)
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
	log, out := newLogger()
	if _, err := redisstore.New(client, redisstore.WithLogger(log)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "level=WARN") {
		t.Fatalf("New logged %q; want a warning", out)
	}
}

// When the policy cannot be read (miniredis has no CONFIG; a managed Redis
// may refuse it; Redis may be down), New still succeeds, within the store's
// timeout, and says it could not check; WithLogger(nil) skips the check.
func TestEvictionPolicyUnknown(t *testing.T) {
	mini := redistest.Backends(t)[0]
	client := mini.Client(t)
	if _, _, err := redisstore.CheckEvictionPolicy(t.Context(), client); err == nil {
		t.Fatal("CheckEvictionPolicy on miniredis: no error")
	}
	log, out := newLogger()
	if _, err := redisstore.New(client, redisstore.WithLogger(log)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "level=INFO") || !strings.Contains(out.String(), "could not check") {
		t.Fatalf("New on miniredis logged %q; want a notice that it could not check", out)
	}

	// A server that accepts connections and never answers.
	addr := silentServer(t)
	for _, ctxTimeout := range []bool{false, true} {
		hung := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: ctxTimeout, MaxRetries: -1})
		t.Cleanup(func() { _ = hung.Close() })
		log, out := newLogger()
		start := time.Now()
		if _, err := redisstore.New(hung, redisstore.WithLogger(log), redisstore.WithTimeout(200*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("New with a hung Redis took %v, want about the 200ms timeout", took)
		}
		if !strings.Contains(out.String(), "could not check") {
			t.Errorf("New with a hung Redis logged %q", out)
		}
		// Without a logger there is no check, and no wait.
		start = time.Now()
		if _, err := redisstore.New(hung, redisstore.WithLogger(nil)); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > 100*time.Millisecond {
			t.Errorf("New with WithLogger(nil) took %v; want no start-up check", took)
		}
	}
	if _, _, err := redisstore.CheckEvictionPolicy(t.Context(), nil); err == nil {
		t.Fatal("CheckEvictionPolicy with a nil client: no error")
	}
}

// silentServer accepts connections and never answers, like a Redis that
// hangs; it returns its address.
func silentServer(t *testing.T) string {
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
	return ln.Addr().String()
}
