// Package redistest gives tests the Redis servers they should run against:
// an embedded miniredis always, the real Redis at REDIS_ADDR when that
// variable is set, the Redis Cluster at REDIS_CLUSTER_ADDRS (comma-separated
// seed nodes) when that one is, and the Sentinel group at
// REDIS_SENTINEL_ADDRS (comma-separated sentinels) watching the primary
// REDIS_MASTER_NAME when those are. A real Redis that was asked for but
// cannot be reached fails the test; it is never skipped.
//
// It also starts private redis-server processes (StartServer, StartCluster,
// StartSentinel) for tests that stop, pause, empty or fail over their Redis,
// so that the shared servers are never disturbed.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Backend is one Redis deployment to test against.
type Backend struct {
	Name string // "miniredis", "redis", "cluster" or "sentinel"
	Addr string // host:port; for a cluster its first seed node, for Sentinel the primary

	// Addrs are the seed nodes of a Redis Cluster; nil for a single server.
	Addrs []string

	// SentinelAddrs and MasterName locate a primary through Sentinel; a
	// Sentinel backend's clients are failover clients.
	SentinelAddrs []string
	MasterName    string

	// Mini is the embedded server, nil for a real Redis.
	Mini *miniredis.Miniredis
}

// IsCluster reports whether b is a Redis Cluster.
func (b Backend) IsCluster() bool { return len(b.Addrs) > 0 }

// IsSentinel reports whether b is a primary found through Sentinel.
func (b Backend) IsSentinel() bool { return b.MasterName != "" }

// Backends returns miniredis and, when REDIS_ADDR is set, the real Redis
// there, when REDIS_CLUSTER_ADDRS is set, the Redis Cluster there, and when
// REDIS_SENTINEL_ADDRS and REDIS_MASTER_NAME are set, the primary those
// sentinels name. It fails t when a requested Redis does not answer, or the
// cluster is not in state ok.
func Backends(t testing.TB) []Backend {
	t.Helper()
	m := miniredis.RunT(t)
	backends := []Backend{{Name: "miniredis", Addr: m.Addr(), Mini: m}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if addr := os.Getenv("REDIS_ADDR"); addr != "" {
		b := Backend{Name: "redis", Addr: addr}
		c := b.NewClient(nil)
		defer c.Close()
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatalf("REDIS_ADDR=%s is set but Redis does not answer: %v", addr, err)
		}
		backends = append(backends, b)
	}
	if addrs := ClusterAddrs(); len(addrs) > 0 {
		b := Backend{Name: "cluster", Addr: addrs[0], Addrs: addrs}
		c := b.NewClient(nil)
		defer c.Close()
		if err := ClusterOK(ctx, c); err != nil {
			t.Fatalf("REDIS_CLUSTER_ADDRS=%s is set but the cluster is not usable: %v", strings.Join(addrs, ","), err)
		}
		backends = append(backends, b)
	}
	if sentinels := listEnv("REDIS_SENTINEL_ADDRS"); len(sentinels) > 0 {
		b, err := sentinelBackend(ctx, sentinels, os.Getenv("REDIS_MASTER_NAME"))
		if err != nil {
			t.Fatalf("REDIS_SENTINEL_ADDRS=%s is set but the primary cannot be used: %v", strings.Join(sentinels, ","), err)
		}
		backends = append(backends, b)
	}
	return backends
}

// sentinelBackend asks the sentinels for the primary of name and checks
// that it answers through a failover client.
func sentinelBackend(ctx context.Context, sentinels []string, name string) (Backend, error) {
	if name == "" {
		return Backend{}, errors.New("REDIS_MASTER_NAME is not set")
	}
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinels[0]})
	defer sc.Close()
	hostPort, err := sc.GetMasterAddrByName(ctx, name).Result()
	if err != nil {
		return Backend{}, err
	}
	b := Backend{Name: "sentinel", Addr: net.JoinHostPort(hostPort[0], hostPort[1]), SentinelAddrs: sentinels, MasterName: name}
	c := b.NewClient(nil)
	defer c.Close()
	return b, c.Ping(ctx).Err()
}

// ClusterAddrs returns the seed nodes listed in REDIS_CLUSTER_ADDRS, or nil.
func ClusterAddrs() []string { return listEnv("REDIS_CLUSTER_ADDRS") }

// listEnv splits the comma-separated list in the environment variable name.
func listEnv(name string) []string {
	var addrs []string
	for a := range strings.SplitSeq(os.Getenv(name), ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// ClusterOK returns an error unless every master of the cluster behind c
// answers and reports cluster_state:ok.
func ClusterOK(ctx context.Context, c redis.UniversalClient) error {
	cc, ok := c.(*redis.ClusterClient)
	if !ok {
		return c.Ping(ctx).Err()
	}
	return cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		info, err := n.ClusterInfo(ctx).Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return &clusterStateError{addr: n.Options().Addr}
		}
		return nil
	})
}

type clusterStateError struct{ addr string }

func (e *clusterStateError) Error() string { return "node " + e.addr + " is not in cluster_state:ok" }

// NewClient returns a client for b that the caller closes: a ClusterClient
// for a cluster, a failover Client for Sentinel, a plain Client otherwise. opts may tune anything but the
// addresses, which it must leave empty; nil means go-redis' defaults.
func (b Backend) NewClient(opts *redis.UniversalOptions) redis.UniversalClient {
	var o redis.UniversalOptions
	if opts != nil {
		o = *opts
	}
	if b.IsCluster() {
		o.Addrs = b.Addrs
		return redis.NewClusterClient(o.Cluster())
	}
	if b.IsSentinel() {
		o.Addrs, o.MasterName = b.SentinelAddrs, b.MasterName
		return redis.NewFailoverClient(o.Failover())
	}
	o.Addrs = []string{b.Addr}
	return redis.NewClient(o.Simple())
}

// Client returns a client for b with go-redis' defaults, closed when the
// test ends; for a cluster it is a *redis.ClusterClient.
func (b Backend) Client(t testing.TB) redis.UniversalClient {
	return b.ClientWith(t, nil)
}

// ClientWith is Client with options, as for NewClient.
func (b Backend) ClientWith(t testing.TB, opts *redis.UniversalOptions) redis.UniversalClient {
	c := b.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Prefix returns a key prefix unique to this test, and deletes every key
// under it when the test ends, so tests can share a real Redis or cluster.
func Prefix(t testing.TB, b Backend) string {
	var r [6]byte
	_, _ = rand.Read(r[:])
	prefix := "jwtguard-test:" + hex.EncodeToString(r[:]) + ":"
	t.Cleanup(func() {
		c := b.NewClient(nil)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = DeleteKeys(ctx, c, prefix+"*")
	})
	return prefix
}

// Keys returns the keys matching pattern, scanning every master of a
// cluster. Keys may repeat, as SCAN allows.
func Keys(ctx context.Context, c redis.UniversalClient, pattern string) ([]string, error) {
	var mu sync.Mutex
	var out []string
	err := forEachMaster(ctx, c, func(ctx context.Context, n redis.Cmdable) error {
		iter := n.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			out = append(out, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	})
	return out, err
}

// DeleteKeys deletes the keys matching pattern, on every master of a
// cluster.
func DeleteKeys(ctx context.Context, c redis.UniversalClient, pattern string) error {
	return forEachMaster(ctx, c, func(ctx context.Context, n redis.Cmdable) error {
		iter := n.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			if err := n.Del(ctx, iter.Val()).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	})
}

// forEachMaster calls fn on every master of a cluster, or on c itself.
func forEachMaster(ctx context.Context, c redis.UniversalClient, fn func(context.Context, redis.Cmdable) error) error {
	if cc, ok := c.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return fn(ctx, n) })
	}
	return fn(ctx, c)
}
