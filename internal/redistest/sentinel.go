package redistest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMasterName is the name under which StartSentinel's sentinels
// monitor their primary.
const SentinelMasterName = "jwtguard-test"

// SentinelOptions tune StartSentinel; the zero value is a group that fails
// over about 3 s after its primary dies.
type SentinelOptions struct {
	// DownAfter is the sentinels' down-after-milliseconds: how long the
	// primary must not answer before a sentinel thinks it down. Default 2 s:
	// with 1 s, the period of a sentinel's pings, a sentinel that has just
	// learned of a failover sometimes thinks the new primary down before
	// its first ping to it comes back, and with the others' answers about
	// the old one (valid for 5 s) fails it over again, or tries to and
	// blocks failovers for twice FailoverTimeout.
	DownAfter time.Duration

	// FailoverTimeout is the sentinels' failover-timeout. Besides bounding a
	// failover it is how long a sentinel waits before it retries a failed
	// one (twice this), and how long before it points a replica that
	// replicates from another address (ReplicationProxy) at the primary
	// itself. Default 10 s.
	FailoverTimeout time.Duration

	// ReplicationProxy makes the replica replicate through a Proxy in front
	// of the primary (SentinelGroup.Link), which a test can Hold to stall
	// replication deterministically. The sentinels point the replica at the
	// primary itself once FailoverTimeout has passed since they found it, so
	// a test should have failed the primary over before that.
	ReplicationProxy bool

	// Args are added to the options of the primary and the replica.
	Args []string
}

// SentinelGroup is a Sentinel deployment that a test started: a primary, one
// replica and three sentinels (quorum 2) on free local ports. Every process
// is killed when the test ends. Its methods fail the test on errors.
type SentinelGroup struct {
	t    testing.TB
	opts SentinelOptions

	Primary   *Server   // the primary as created; after a failover, see Master
	Replica   *Server   // its replica as created
	Sentinels []*Server // the three sentinels (redis-server --sentinel)

	// Link is the proxy the replica replicates through, nil unless
	// SentinelOptions.ReplicationProxy.
	Link *Proxy
}

// StartSentinel starts a Sentinel group: a primary, a replica of it, and
// three sentinels that monitor it under SentinelMasterName with quorum 2.
// It waits until the replica is in sync and every sentinel knows the
// replica and the two other sentinels, so that a failover can start as soon
// as the primary fails. It fails t when redis-server is missing or the group
// does not form within a minute.
func StartSentinel(t testing.TB, opts SentinelOptions) *SentinelGroup {
	t.Helper()
	if opts.DownAfter <= 0 {
		opts.DownAfter = 2 * time.Second
	}
	if opts.FailoverTimeout <= 0 {
		opts.FailoverTimeout = 10 * time.Second
	}
	g := &SentinelGroup{t: t, opts: opts}
	// Full syncs (at start, and of a node that rejoins) start at once
	// rather than after Redis' 5 s wait for more replicas.
	args := append([]string{"--repl-diskless-sync-delay", "0"}, opts.Args...)
	g.Primary = StartServer(t, args...)
	upstream := g.Primary.Addr()
	if opts.ReplicationProxy {
		g.Link = NewProxy(t, g.Primary.Addr())
		upstream = g.Link.Addr()
	}
	host, port, _ := net.SplitHostPort(upstream)
	g.Replica = StartServer(t, append([]string{"--replicaof", host, port}, args...)...)
	conf := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d 2\n"+
		"sentinel down-after-milliseconds %[1]s %[3]d\n"+
		"sentinel failover-timeout %[1]s %[4]d\n",
		SentinelMasterName, g.Primary.Port(), opts.DownAfter.Milliseconds(), opts.FailoverTimeout.Milliseconds())
	for range 3 {
		g.Sentinels = append(g.Sentinels, startServer(t, conf, "--sentinel"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := g.waitFormed(ctx); err != nil {
		t.Fatalf("forming the Sentinel group: %v", err)
	}
	return g
}

// waitFormed waits until the replica is in sync and every sentinel knows
// it and the other sentinels.
func (g *SentinelGroup) waitFormed(ctx context.Context) error {
	replica := redis.NewClient(&redis.Options{Addr: g.Replica.Addr()})
	defer replica.Close()
	if err := poll(ctx, func() error { return inSync(ctx, replica) }); err != nil {
		return err
	}
	return g.waitSentinels(ctx, func(ctx context.Context, sc *redis.SentinelClient) error {
		others, err := sc.Sentinels(ctx, SentinelMasterName).Result()
		if err != nil {
			return err
		}
		if len(others) != len(g.Sentinels)-1 {
			return fmt.Errorf("knows %d of the %d other sentinels", len(others), len(g.Sentinels)-1)
		}
		upstream := g.Primary.Addr()
		if g.Link != nil {
			upstream = g.Link.Addr()
		}
		return replicaKnown(ctx, sc, upstream, g.Replica.Addr())
	})
}

// inSync returns nil when the replica behind c has its link to its primary
// up and no sync in progress.
func inSync(ctx context.Context, c *redis.Client) error {
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	if !strings.Contains(info, "role:slave") || !strings.Contains(info, "master_link_status:up") ||
		!strings.Contains(info, "master_sync_in_progress:0") {
		return fmt.Errorf("%s: not an up-to-date replica", c.Options().Addr)
	}
	return nil
}

// replicaKnown returns nil when the sentinel behind sc knows replica as a
// healthy replica that replicates from upstream (the primary, or the proxy
// in front of it), with its link up.
func replicaKnown(ctx context.Context, sc *redis.SentinelClient, upstream, replica string) error {
	replicas, err := sc.Replicas(ctx, SentinelMasterName).Result()
	if err != nil {
		return err
	}
	for _, r := range replicas {
		if r["name"] != replica {
			continue
		}
		if r["flags"] != "slave" || r["master-link-status"] != "ok" {
			return fmt.Errorf("sees replica %s with flags %q, link %q", replica, r["flags"], r["master-link-status"])
		}
		if from := net.JoinHostPort(r["master-host"], r["master-port"]); from != upstream {
			return fmt.Errorf("sees replica %s of %s, not of %s", replica, from, upstream)
		}
		return nil
	}
	return fmt.Errorf("does not know replica %s", replica)
}

// waitSentinels polls until check returns nil for every sentinel, or ctx
// ends.
func (g *SentinelGroup) waitSentinels(ctx context.Context, check func(context.Context, *redis.SentinelClient) error) error {
	clients := make([]*redis.SentinelClient, len(g.Sentinels))
	for i, s := range g.Sentinels {
		clients[i] = redis.NewSentinelClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
		defer clients[i].Close()
	}
	return poll(ctx, func() error {
		for i, sc := range clients {
			if err := check(ctx, sc); err != nil {
				return fmt.Errorf("sentinel %s: %w", g.Sentinels[i].Addr(), err)
			}
		}
		return nil
	})
}

// SentinelAddrs are the addresses of the sentinels.
func (g *SentinelGroup) SentinelAddrs() []string {
	addrs := make([]string, len(g.Sentinels))
	for i, s := range g.Sentinels {
		addrs[i] = s.Addr()
	}
	return addrs
}

// Backend describes the group as a Sentinel Backend: its clients are
// failover clients (redis.NewFailoverClient) that ask the sentinels for the
// primary.
func (g *SentinelGroup) Backend() Backend {
	return Backend{Name: "sentinel", Addr: g.Primary.Addr(), SentinelAddrs: g.SentinelAddrs(), MasterName: SentinelMasterName}
}

// Node returns the primary or replica process listening on addr, or nil.
func (g *SentinelGroup) Node(addr string) *Server {
	for _, s := range []*Server{g.Primary, g.Replica} {
		if s.Addr() == addr {
			return s
		}
	}
	return nil
}

// Master returns the process that the first sentinel that answers names as
// the primary.
func (g *SentinelGroup) Master(ctx context.Context) *Server {
	g.t.Helper()
	var last error
	for _, s := range g.Sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
		hostPort, err := sc.GetMasterAddrByName(ctx, SentinelMasterName).Result()
		_ = sc.Close()
		if err != nil {
			last = err
			continue
		}
		addr := net.JoinHostPort(hostPort[0], hostPort[1])
		if n := g.Node(addr); n != nil {
			return n
		}
		g.t.Fatalf("the sentinels name %s as the primary, not a node of the group", addr)
	}
	g.t.Fatalf("no sentinel names the primary: %v", last)
	return nil
}

// Other returns the node of the group that is not s.
func (g *SentinelGroup) Other(s *Server) *Server {
	if s == g.Primary {
		return g.Replica
	}
	return g.Primary
}

// WaitPrimary waits until every sentinel names addr as the primary
// (SENTINEL GET-MASTER-ADDR-BY-NAME) and addr answers as a primary, which
// after a failover means the sentinels have promoted it and a failover
// client that asks them now reaches it. It returns how long it waited.
func (g *SentinelGroup) WaitPrimary(ctx context.Context, addr string) (time.Duration, error) {
	start := time.Now()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	err := g.waitSentinels(ctx, func(ctx context.Context, sc *redis.SentinelClient) error {
		hostPort, err := sc.GetMasterAddrByName(ctx, SentinelMasterName).Result()
		if err != nil {
			return err
		}
		if got := net.JoinHostPort(hostPort[0], hostPort[1]); got != addr {
			return fmt.Errorf("names %s as the primary, not %s", got, addr)
		}
		role, err := c.Do(ctx, "ROLE").Slice()
		if err != nil {
			return err
		}
		if len(role) == 0 || role[0] != "master" {
			return fmt.Errorf("%s answers ROLE %v", addr, role)
		}
		return nil
	})
	return time.Since(start), err
}

// Rejoin starts s again after Kill or Stop as a replica of the current
// primary, as the sentinels would make it once they noticed it (they wait
// 8 s before they do), replicating from it directly even with
// ReplicationProxy; a later Start starts it with its first options again.
// It returns once s is in sync, acknowledges writes (WAIT counts it; see
// WaitWriteAcked, whose key redistest:rejoin it writes), and every sentinel
// sees it as a healthy replica, so that the group can fail over to it again.
func (g *SentinelGroup) Rejoin(s *Server) {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	primary := g.Master(ctx)
	if primary == s {
		g.t.Fatalf("Rejoin: %s is still the primary", s.Addr())
	}
	// Started as a replica, so that no sentinel sees it as a primary.
	if err := s.start("--replicaof", "127.0.0.1", strconv.Itoa(primary.Port())); err != nil {
		g.t.Fatalf("Rejoin: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
	defer c.Close()
	if err := poll(ctx, func() error { return inSync(ctx, c) }); err != nil {
		g.t.Fatalf("Rejoin: %v", err)
	}
	pc := redis.NewClient(&redis.Options{Addr: primary.Addr(), MaxRetries: -1})
	defer pc.Close()
	if err := WaitWriteAcked(ctx, pc, "redistest:rejoin"); err != nil {
		g.t.Fatalf("Rejoin: %v", err)
	}
	if err := g.waitSentinels(ctx, func(ctx context.Context, sc *redis.SentinelClient) error {
		return replicaKnown(ctx, sc, primary.Addr(), s.Addr())
	}); err != nil {
		g.t.Fatalf("Rejoin: %v", err)
	}
}
