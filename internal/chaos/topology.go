package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Topology is a Redis deployment that a run drives, and the faults it
// offers.
type Topology struct {
	Name    string
	Backend redistest.Backend
	// Kinds returns the faults, given the run's random source and the
	// fleets (whose instances the network faults act on).
	Kinds func(rng *rand.Rand, fleets []*Fleet) []FaultKind
	// DataNodes are the addresses of the Redis nodes that hold data.
	DataNodes func() []string
}

// settleTimeout bounds how long a fault may take to become whole again
// (a promotion, a rejoin, a resync).
const settleTimeout = time.Minute

// StartSentinelTopology starts a Sentinel group (a primary, a replica and
// three sentinels; redistest.StartSentinel) and offers: failover (SIGKILL
// of the primary, promotion, the old primary back as a replica),
// failover-lagged (the same while the replica replicates through a proxy
// that delays the stream by 2–20 ms), restart-empty, pause (SIGSTOP 1.2 s,
// under the sentinels' 2 s down-after), flushall, pubsub-kill, net-delay
// and net-drop.
func StartSentinelTopology(t testing.TB) *Topology {
	t.Helper()
	g := redistest.StartSentinel(t, redistest.SentinelOptions{})
	primary := func(ctx context.Context) *redistest.Server { return g.Master(ctx) }
	failover := func(ctx context.Context, cleared func(), link *redistest.Proxy) string {
		m := primary(ctx)
		r := g.Other(m)
		lag := ""
		if link != nil {
			lag = replicaLag(ctx, m, r) + "; "
		}
		m.Kill()
		if link != nil {
			link.Down() // what it holds is lost with the primary
		}
		wctx, cancel := context.WithTimeout(ctx, settleTimeout)
		defer cancel()
		took, err := g.WaitPrimary(wctx, r.Addr())
		if err != nil {
			t.Fatalf("no failover to %s after the kill of %s: %v", r.Addr(), m.Addr(), err)
		}
		cleared()
		start := time.Now()
		g.Rejoin(m)
		return fmt.Sprintf("%sSIGKILL primary %s; sentinels promoted %s after %v; %s rejoined as its replica in %v",
			lag, m.Addr(), r.Addr(), took.Round(time.Millisecond), m.Addr(), time.Since(start).Round(time.Millisecond))
	}
	return &Topology{
		Name:      "sentinel",
		Backend:   g.Backend(),
		DataNodes: func() []string { return []string{g.Primary.Addr(), g.Replica.Addr()} },
		Kinds: func(rng *rand.Rand, fleets []*Fleet) []FaultKind {
			return []FaultKind{
				{Name: "failover", Restarts: true, Inject: func(ctx context.Context, cleared func()) string {
					return failover(ctx, cleared, nil)
				}},
				{Name: "failover-lagged", Restarts: true, Inject: func(ctx context.Context, cleared func()) string {
					m := primary(ctx)
					r := g.Other(m)
					link := redistest.NewProxy(t, m.Addr())
					delay := time.Duration(2+rng.IntN(19)) * time.Millisecond
					link.SetDelay(delay)
					host, port, _ := net.SplitHostPort(link.Addr())
					if err := adminDo(ctx, r.Addr(), "REPLICAOF", host, port); err != nil {
						t.Fatalf("REPLICAOF the lagging link on %s: %v", r.Addr(), err)
					}
					if err := poll(ctx, settleTimeout, func() error { return replicates(ctx, r.Addr(), link.Addr()) }); err != nil {
						t.Fatalf("the replica did not sync through the lagging link: %v", err)
					}
					// Traffic flows through the lagging link for a while:
					// the sentinels repoint the replica only after their
					// 10 s failover timeout.
					sleep(ctx, time.Second)
					return fmt.Sprintf("%s replicates from %s through a proxy delaying the stream %v per chunk; ", r.Addr(), m.Addr(), delay) +
						failover(ctx, cleared, link)
				}},
				{
					Name: "restart-empty", Restarts: true, StateLoss: true,
					// Only the primary as created can restart as a primary:
					// the other node's options make it a replica.
					Eligible: func(ctx context.Context) bool { return primary(ctx) == g.Primary },
					Inject: func(ctx context.Context, cleared func()) string {
						g.Primary.Kill()
						g.Primary.Start()
						cleared()
						took := waitSynced(t, ctx, g.Primary, g.Replica)
						return fmt.Sprintf("SIGKILL primary %s, restarted without data; replica resynced in %v", g.Primary.Addr(), took)
					},
				},
				pauseKind(primary, 1200*time.Millisecond),
				flushAllKind(t, func(ctx context.Context) []*redistest.Server { return []*redistest.Server{primary(ctx)} }),
				pubsubKillKind(t, func() []*redistest.Server { return []*redistest.Server{g.Primary, g.Replica} }),
				netDelayKind(rng, fleets),
				netDropKind(rng, fleets),
			}
		},
	}
}

// replicates returns nil when the replica at addr replicates from
// upstream, with its link up and no sync in progress.
func replicates(ctx context.Context, addr, upstream string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	host, _ := infoField(info, "master_host")
	port, _ := infoField(info, "master_port")
	if got := net.JoinHostPort(host, port); upstream != "" && got != upstream {
		return fmt.Errorf("%s replicates from %s, not %s", addr, got, upstream)
	}
	if link, _ := infoField(info, "master_link_status"); link != "up" {
		return fmt.Errorf("%s: link %s", addr, link)
	}
	if sync, _ := infoField(info, "master_sync_in_progress"); sync != "0" {
		return fmt.Errorf("%s: sync in progress", addr)
	}
	return nil
}

// replicaLag describes how far the replica is behind the primary, in
// bytes of the replication stream, at this moment.
func replicaLag(ctx context.Context, primary, replica *redistest.Server) string {
	offset := func(s *redistest.Server, field string) int64 {
		c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
		defer c.Close()
		info, err := c.Info(ctx, "replication").Result()
		if err != nil {
			return -1
		}
		v, _ := infoField(info, field)
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	// The replica first: the difference is an upper bound.
	r := offset(replica, "slave_repl_offset")
	m := offset(primary, "master_repl_offset")
	return fmt.Sprintf("replica at most %d bytes behind just before the kill", m-r)
}

// waitSynced waits until replica replicates primary in sync and the
// primary has its acknowledgement, so that WAIT counts it; it returns how
// long that took.
func waitSynced(t testing.TB, ctx context.Context, primary, replica *redistest.Server) time.Duration {
	t.Helper()
	start := time.Now()
	if err := poll(ctx, settleTimeout, func() error { return replicates(ctx, replica.Addr(), primary.Addr()) }); err != nil {
		t.Fatalf("waiting for %s to resync: %v", replica.Addr(), err)
	}
	c := redis.NewClient(&redis.Options{Addr: primary.Addr(), MaxRetries: -1})
	defer c.Close()
	wctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	if err := redistest.WaitReplicated(wctx, c); err != nil {
		t.Fatalf("waiting for %s to acknowledge: %v", replica.Addr(), err)
	}
	return time.Since(start).Round(time.Millisecond)
}

// StartClusterTopology starts a Redis Cluster of three masters with a
// replica each (redistest.StartCluster, node timeout 1 s) and offers:
// frozen-master (SIGSTOP of a master until its replica is promoted, then
// SIGCONT: the zombie), master-kill (SIGKILL, promotion, restart as a
// replica), restart-empty (SIGKILL and restart of a master, before the
// cluster fails it over), pause (SIGSTOP 500 ms, under the node timeout),
// flushall, pubsub-kill, net-delay and net-drop.
func StartClusterTopology(t testing.TB) *Topology {
	t.Helper()
	cl := redistest.StartCluster(t, 3, true)
	c := &clusterFaults{t: t, cl: cl}
	return &Topology{
		Name:      "cluster",
		Backend:   cl.Backend(),
		DataNodes: cl.Addrs,
		Kinds: func(rng *rand.Rand, fleets []*Fleet) []FaultKind {
			c.rng = rng
			return []FaultKind{
				{Name: "frozen-master", Restarts: true, Inject: c.frozenMaster},
				{Name: "master-kill", Restarts: true, Inject: c.masterKill},
				{Name: "restart-empty", Restarts: true, StateLoss: true, Inject: c.restartEmpty},
				pauseKind(func(ctx context.Context) *redistest.Server { m, _ := c.pick(ctx); return m }, 500*time.Millisecond),
				flushAllKind(t, c.masters),
				pubsubKillKind(t, func() []*redistest.Server { return c.nodes() }),
				netDelayKind(rng, fleets),
				netDropKind(rng, fleets),
			}
		},
	}
}

// clusterFaults injects the faults of a Cluster.
type clusterFaults struct {
	t   testing.TB
	cl  *redistest.Cluster
	rng *rand.Rand
}

func (c *clusterFaults) nodes() []*redistest.Server {
	return append(append([]*redistest.Server{}, c.cl.Masters...), c.cl.Replicas...)
}

// clusterNode is one line of CLUSTER NODES.
type clusterNode struct {
	id, addr, masterID string
	master, failed     bool
}

// view returns the cluster's nodes as the first node that answers sees
// them, skipping skip.
func (c *clusterFaults) view(ctx context.Context, skip ...string) ([]clusterNode, error) {
	var last error
	for _, s := range c.nodes() {
		if slices.Contains(skip, s.Addr()) {
			continue
		}
		nodes, err := clusterNodes(ctx, s.Addr())
		if err == nil {
			return nodes, nil
		}
		last = err
	}
	return nil, fmt.Errorf("no node answers CLUSTER NODES: %w", last)
}

// clusterNodes parses CLUSTER NODES as the node at addr answers it.
func clusterNodes(ctx context.Context, addr string) ([]clusterNode, error) {
	ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	rc := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rc.Close()
	out, err := rc.ClusterNodes(ctx).Result()
	if err != nil {
		return nil, err
	}
	var nodes []clusterNode
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		hostPort, _, _ := strings.Cut(f[1], "@")
		flags := strings.Split(f[2], ",")
		nodes = append(nodes, clusterNode{
			id: f[0], addr: hostPort, masterID: f[3],
			master: slices.Contains(flags, "master"),
			failed: slices.Contains(flags, "fail") || slices.Contains(flags, "fail?"),
		})
	}
	return nodes, nil
}

// shards returns each live master's address with its live replica's.
func shards(nodes []clusterNode) map[string]string {
	byID := map[string]clusterNode{}
	for _, n := range nodes {
		byID[n.id] = n
	}
	out := map[string]string{}
	for _, n := range nodes {
		if n.master && !n.failed {
			if _, ok := out[n.addr]; !ok {
				out[n.addr] = ""
			}
		}
	}
	for _, n := range nodes {
		if m, ok := byID[n.masterID]; ok && !n.master && !n.failed && m.master && !m.failed {
			out[m.addr] = n.addr
		}
	}
	return out
}

// healthy returns nil when every node is in cluster_state ok and three
// masters each have a replica in sync that they have acknowledged.
func (c *clusterFaults) healthy(ctx context.Context) error {
	for _, s := range c.nodes() {
		rc := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
		info, err := rc.ClusterInfo(ctx).Result()
		_ = rc.Close()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("%s: cluster_state not ok", s.Addr())
		}
	}
	nodes, err := c.view(ctx)
	if err != nil {
		return err
	}
	sh := shards(nodes)
	if len(sh) != len(c.cl.Masters) {
		return fmt.Errorf("%d masters, want %d", len(sh), len(c.cl.Masters))
	}
	for m, r := range sh {
		if r == "" {
			return fmt.Errorf("master %s has no replica", m)
		}
		if err := replicates(ctx, r, m); err != nil {
			return err
		}
		mc := redis.NewClient(&redis.Options{Addr: m, MaxRetries: -1})
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := redistest.WaitReplicated(wctx, mc)
		cancel()
		_ = mc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// waitHealthy waits until the cluster is healthy and returns how long that
// took.
func (c *clusterFaults) waitHealthy(ctx context.Context) time.Duration {
	c.t.Helper()
	start := time.Now()
	if err := poll(ctx, settleTimeout, func() error { return c.healthy(ctx) }); err != nil {
		c.t.Fatalf("the cluster did not become healthy again: %v", err)
	}
	return time.Since(start).Round(time.Millisecond)
}

// pick returns a random master and its replica, once the cluster is
// healthy.
func (c *clusterFaults) pick(ctx context.Context) (master, replica *redistest.Server) {
	c.t.Helper()
	c.waitHealthy(ctx)
	nodes, err := c.view(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	sh := shards(nodes)
	var masters []string
	for m := range sh {
		masters = append(masters, m)
	}
	// Map order is random but not seeded: sort, then pick with the run's rng.
	slices.Sort(masters)
	m := masters[c.rng.IntN(len(masters))]
	return c.cl.Node(m), c.cl.Node(sh[m])
}

// masters returns the live masters.
func (c *clusterFaults) masters(ctx context.Context) []*redistest.Server {
	c.t.Helper()
	nodes, err := c.view(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	var out []*redistest.Server
	for m := range shards(nodes) {
		out = append(out, c.cl.Node(m))
	}
	return out
}

// waitPromoted waits until a node other than old sees replica as a live
// master, and returns how long that took.
func (c *clusterFaults) waitPromoted(ctx context.Context, old, replica *redistest.Server) time.Duration {
	c.t.Helper()
	start := time.Now()
	err := poll(ctx, settleTimeout, func() error {
		nodes, err := c.view(ctx, old.Addr(), replica.Addr())
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if n.addr == replica.Addr() && n.master && !n.failed {
				return nil
			}
		}
		return errors.New("not promoted yet")
	})
	if err != nil {
		c.t.Fatalf("replica %s was not promoted after %s failed: %v", replica.Addr(), old.Addr(), err)
	}
	return time.Since(start).Round(time.Millisecond)
}

// frozenMaster is the zombie: a master stops (SIGSTOP) until its replica
// is promoted, then continues, believing itself the master until the
// cluster tells it otherwise.
func (c *clusterFaults) frozenMaster(ctx context.Context, cleared func()) string {
	m, r := c.pick(ctx)
	m.Pause()
	promoted := c.waitPromoted(ctx, m, r)
	m.Resume()
	cleared()
	rejoined := c.waitHealthy(ctx)
	return fmt.Sprintf("SIGSTOP master %s; replica %s promoted after %v; SIGCONT: the zombie was a replica in sync after %v",
		m.Addr(), r.Addr(), promoted, rejoined)
}

// masterKill kills a master, waits for its replica's promotion and starts
// it again (as a replica, without data).
func (c *clusterFaults) masterKill(ctx context.Context, cleared func()) string {
	m, r := c.pick(ctx)
	m.Kill()
	promoted := c.waitPromoted(ctx, m, r)
	cleared()
	m.Start()
	rejoined := c.waitHealthy(ctx)
	return fmt.Sprintf("SIGKILL master %s; replica %s promoted after %v; restarted as its replica, in sync after %v",
		m.Addr(), r.Addr(), promoted, rejoined)
}

// restartEmpty kills a master and starts it again at once, without data:
// back within the node timeout it stays the master, and its replica
// resyncs to empty.
func (c *clusterFaults) restartEmpty(ctx context.Context, cleared func()) string {
	m, _ := c.pick(ctx)
	m.Kill()
	m.Start()
	cleared()
	settled := c.waitHealthy(ctx)
	return fmt.Sprintf("SIGKILL master %s, restarted without data; healthy again after %v", m.Addr(), settled)
}

// poll calls f every 50 ms until it returns nil, for at most limit or
// until ctx ends, and then returns f's last error.
func poll(ctx context.Context, limit time.Duration, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// infoField returns the value of name in an INFO reply.
func infoField(info, name string) (string, bool) {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v, true
		}
	}
	return "", false
}
