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

// clusterSlots is the number of hash slots of Redis Cluster.
const clusterSlots = 16384

// Cluster is a Redis Cluster of redis-server processes that a test started:
// masters, each with zero or one replica, on free local ports. It is killed
// when the test ends.
type Cluster struct {
	t        testing.TB
	Masters  []*Server // as created; after a failover, see Master
	Replicas []*Server // Replicas[i] was created as the replica of Masters[i]; none if started without
}

// StartCluster starts a cluster of masters (at least 3, so that a majority
// survives one failure), with one replica each when replicas is true, and
// waits until it is in state ok with every replica in sync. The node timeout is 1 s, so a failed
// master is replaced within a few seconds; args are added to every node's
// options. It fails t when redis-server is missing or the cluster does not
// form within a minute.
func StartCluster(t testing.TB, masters int, replicas bool, args ...string) *Cluster {
	t.Helper()
	if masters < 3 {
		t.Fatalf("StartCluster: %d masters; Redis Cluster needs at least 3", masters)
	}
	c := &Cluster{t: t}
	busPorts := map[*Server]int{}
	nodes := masters
	if replicas {
		nodes *= 2
	}
	for i := range nodes {
		bus, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s := StartServer(t, append([]string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-port", strconv.Itoa(bus),
			"--cluster-node-timeout", "1000",
			// A replica fails over however long its link was down.
			"--cluster-replica-validity-factor", "0",
			// A full sync (at start, or of a master that rejoins as a
			// replica) starts at once, not after Redis' 5 s wait for more.
			"--repl-diskless-sync-delay", "0",
		}, args...)...)
		busPorts[s] = bus
		if i < masters {
			c.Masters = append(c.Masters, s)
		} else {
			c.Replicas = append(c.Replicas, s)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.form(ctx, busPorts); err != nil {
		t.Fatalf("forming the cluster: %v", err)
	}
	return c
}

// form does what `redis-cli --cluster create --cluster-replicas 1|0` does:
// distinct config epochs, slots split evenly among the masters, every node
// introduced to the first, each replica attached to its master; then it
// waits for state ok and synced replicas.
func (c *Cluster) form(ctx context.Context, busPorts map[*Server]int) error {
	nodes := append(append([]*Server{}, c.Masters...), c.Replicas...)
	clients := make([]*redis.Client, len(nodes))
	for i, s := range nodes {
		clients[i] = redis.NewClient(&redis.Options{Addr: s.Addr()})
		defer clients[i].Close()
		if err := clients[i].Do(ctx, "cluster", "set-config-epoch", i+1).Err(); err != nil {
			return fmt.Errorf("set-config-epoch on %s: %w", s.Addr(), err)
		}
	}
	per := clusterSlots / len(c.Masters)
	for i := range c.Masters {
		lo, hi := i*per, (i+1)*per-1
		if i == len(c.Masters)-1 {
			hi = clusterSlots - 1
		}
		if err := clients[i].Do(ctx, "cluster", "addslotsrange", lo, hi).Err(); err != nil {
			return fmt.Errorf("addslotsrange %d-%d on %s: %w", lo, hi, c.Masters[i].Addr(), err)
		}
	}
	for _, s := range nodes[1:] {
		if err := clients[0].Do(ctx, "cluster", "meet", "127.0.0.1", s.Port(), busPorts[s]).Err(); err != nil {
			return fmt.Errorf("meet %s: %w", s.Addr(), err)
		}
	}
	// Every node must know every other before a replica can name its master.
	if err := poll(ctx, func() error {
		for i, cl := range clients {
			out, err := cl.ClusterNodes(ctx).Result()
			if err != nil {
				return err
			}
			if n := strings.Count(strings.TrimSpace(out), "\n") + 1; n != len(nodes) || strings.Contains(out, "handshake") {
				return fmt.Errorf("%s knows %d of %d nodes", nodes[i].Addr(), n, len(nodes))
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for i := range c.Replicas {
		id, err := clients[i].Do(ctx, "cluster", "myid").Text()
		if err != nil {
			return err
		}
		if err := clients[len(c.Masters)+i].Do(ctx, "cluster", "replicate", id).Err(); err != nil {
			return fmt.Errorf("replicate on %s: %w", c.Replicas[i].Addr(), err)
		}
	}
	return poll(ctx, func() error {
		for i, cl := range clients {
			info, err := cl.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") {
				return fmt.Errorf("%s: cluster_state not ok", nodes[i].Addr())
			}
			out, err := cl.ClusterNodes(ctx).Result()
			if err != nil {
				return err
			}
			if n := strings.Count(out, "slave"); n != len(c.Replicas) {
				return fmt.Errorf("%s sees %d of %d replicas", nodes[i].Addr(), n, len(c.Replicas))
			}
		}
		for i := range c.Replicas {
			info, err := clients[len(c.Masters)+i].Info(ctx, "replication").Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "master_link_status:up") || !strings.Contains(info, "master_sync_in_progress:0") {
				return fmt.Errorf("replica %s not in sync", c.Replicas[i].Addr())
			}
		}
		return nil
	})
}

// poll calls f every 50 ms until it returns nil or ctx ends, and then
// returns f's last error.
func poll(ctx context.Context, f func() error) error {
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

// Addrs are the addresses of every node, masters first.
func (c *Cluster) Addrs() []string {
	var addrs []string
	for _, s := range append(append([]*Server{}, c.Masters...), c.Replicas...) {
		addrs = append(addrs, s.Addr())
	}
	return addrs
}

// Backend describes the cluster as a Backend.
func (c *Cluster) Backend() Backend {
	addrs := c.Addrs()
	return Backend{Name: "cluster", Addr: addrs[0], Addrs: addrs}
}

// Node returns the process listening on addr, or nil.
func (c *Cluster) Node(addr string) *Server {
	for _, s := range append(append([]*Server{}, c.Masters...), c.Replicas...) {
		if s.Addr() == addr {
			return s
		}
	}
	return nil
}

// MasterOf returns the address of the node that serves key's slot, as the
// node at from sees it.
func MasterOf(ctx context.Context, from *redis.Client, key string) (string, error) {
	slot, err := from.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		return "", err
	}
	shards, err := from.ClusterShards(ctx).Result()
	if err != nil {
		return "", err
	}
	for _, sh := range shards {
		for _, r := range sh.Slots {
			if r.Start <= slot && slot <= r.End {
				for _, n := range sh.Nodes {
					if n.Role == "master" && n.Health == "online" {
						return net.JoinHostPort(n.IP, strconv.FormatInt(n.Port, 10)), nil
					}
				}
			}
		}
	}
	return "", fmt.Errorf("no master serves slot %d", slot)
}

// WaitReplicated waits until every replica of master has acknowledged all
// that master had written when it was called, or ctx ends. Redis replicates
// asynchronously: a write a master acknowledged but no replica received is
// lost if the master fails over; tests that fail over wait for this first.
func WaitReplicated(ctx context.Context, master *redis.Client) error {
	info, err := master.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	target, ok := infoInt(info, "master_repl_offset")
	if !ok {
		return fmt.Errorf("%s: no master_repl_offset in INFO replication", master.Options().Addr)
	}
	return poll(ctx, func() error {
		info, err := master.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		replicas, _ := infoInt(info, "connected_slaves")
		if replicas == 0 {
			return fmt.Errorf("%s has no connected replica", master.Options().Addr)
		}
		for i := range replicas {
			line, _ := infoField(info, "slave"+strconv.FormatInt(i, 10))
			var offset int64 = -1
			for field := range strings.SplitSeq(line, ",") {
				if v, ok := strings.CutPrefix(field, "offset="); ok {
					offset, _ = strconv.ParseInt(v, 10, 64)
				}
			}
			if offset < target {
				return fmt.Errorf("%s: replica %d at offset %d of %d", master.Options().Addr, i, offset, target)
			}
		}
		return nil
	})
}

// WaitWriteAcked writes key on master, with a one-second TTL, and waits
// until a replica acknowledges the write (WAIT 1), or ctx ends. Right after
// a full sync (diskless, Redis' default) Redis
// 7.0 streams to the new replica, and counts it in WAIT, only from its
// first periodic acknowledgement, up to a second later: a test that needs
// WAIT to succeed, as durable writes do, waits for this first. On a
// Cluster, key must be in a slot that master serves.
func WaitWriteAcked(ctx context.Context, master *redis.Client, key string) error {
	return poll(ctx, func() error {
		var wait *redis.Cmd
		if _, err := master.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, 1, time.Second)
			wait = p.Do(ctx, "WAIT", 1, 200)
			return nil
		}); err != nil {
			return err
		}
		if n, err := wait.Int64(); err != nil || n < 1 {
			return fmt.Errorf("%s: no replica acknowledged a write (%d, %v)", master.Options().Addr, n, err)
		}
		return nil
	})
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

// infoInt returns the integer value of name in an INFO reply.
func infoInt(info, name string) (int64, bool) {
	v, ok := infoField(info, name)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}
