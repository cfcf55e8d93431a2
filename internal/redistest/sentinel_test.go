package redistest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/internal/redistest"
)

// StartSentinel's group fails over when its primary is killed, and with
// ReplicationProxy a held link keeps a write the primary acknowledged from
// the replica, so that the failover loses it. (The durable tests of ginjwt
// use the rest: Rejoin and failing over again.)
func TestStartSentinel(t *testing.T) {
	redistest.SkipUnlessReal(t)
	start := time.Now()
	g := redistest.StartSentinel(t, redistest.SentinelOptions{ReplicationProxy: true})
	t.Logf("group formed in %v", time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if m := g.Master(ctx); m != g.Primary {
		t.Fatalf("the sentinels name %s, not the primary %s", m.Addr(), g.Primary.Addr())
	}
	primary, replica := g.Primary.Client(), g.Replica.Client()
	if err := primary.Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := redistest.WaitReplicated(ctx, primary); err != nil {
		t.Fatal(err)
	}
	g.Link.Hold()
	if err := primary.Set(ctx, "held", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	g.Primary.Kill()
	killed := time.Now()
	g.Link.Down()
	if _, err := g.WaitPrimary(ctx, g.Replica.Addr()); err != nil {
		t.Fatalf("no failover to the replica: %v", err)
	}
	t.Logf("failover: the sentinels named the replica %v after the kill", time.Since(killed).Round(time.Millisecond))
	for key, want := range map[string]int64{"before": 1, "held": 0} {
		if n, err := replica.Exists(ctx, key).Result(); err != nil || n != want {
			t.Errorf("EXISTS %s on the promoted replica = %d, %v; want %d", key, n, err, want)
		}
	}
}
