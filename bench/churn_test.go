package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/redisstore"
)

// Churn: churnUsers users refresh as fast as one client can, through
// another instance, while the guarded sessions are read through the
// near-cache of this one. Every refresh publishes an invalidation that this
// instance receives; it must not keep this instance's fills for unrelated
// sessions from sticking.
const (
	churnGuarded = 2000 // sessions read through the near-cache
	churnUsers   = 200  // users refreshing, one session each

	churnSession = "churn-session-0000000001"
)

// BenchmarkNearCacheChurn reports the near-cache's hit ratio (hit-%) for
// State reads of churnGuarded sessions, round-robin from parallel readers,
// while churnUsers other users rotate their sessions through a second
// instance (refresh/s), with the near-cache's default TTL of 1 s; and the
// reads that went to Redis per guarded session and second, whose floor is
// one per TTL (run it with -benchtime 3s or more, so that the first fills
// weigh little).
func BenchmarkNearCacheChurn(b *testing.B) {
	rdb, prefix := newRedis(b)
	ctx := context.Background()
	guarded, err := redisstore.New(rdb, redisstore.WithPrefix(prefix), nearCacheOption())
	if err != nil {
		b.Fatal(err)
	}
	defer closeStore(b, guarded)
	other, err := redisstore.New(rdb, redisstore.WithPrefix(prefix))
	if err != nil {
		b.Fatal(err)
	}
	newSession := func(subject string) int64 {
		res, err := other.CreateSession(ctx, subject, ginjwt.NewSession{ID: churnSession, TTL: time.Hour, MaxAge: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		return res.UserVersion
	}
	for i := range churnGuarded {
		newSession(fmt.Sprintf("guarded-%d", i))
	}
	versions := make([]int64, churnUsers)
	for i := range churnUsers {
		versions[i] = newSession(fmt.Sprintf("churn-%d", i))
	}
	waitNearCache(b, guarded)

	// The refreshing users, until the benchmark ends.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var rotations atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		gens := make([]int64, churnUsers)
		for i := range gens {
			gens[i] = 1
		}
		for i := 0; ; i = (i + 1) % churnUsers {
			select {
			case <-stop:
				return
			default:
			}
			res, err := other.Rotate(ctx, fmt.Sprintf("churn-%d", i), churnSession, ginjwt.Rotation{
				UserVersion: versions[i], Generation: gens[i],
				TTL: time.Hour, MaxAge: time.Hour, ReuseAfter: time.Minute,
			})
			if err != nil || res.Outcome != ginjwt.Rotated {
				b.Errorf("rotate: %+v, %v", res, err)
				return
			}
			gens[i] = res.Generation
			rotations.Add(1)
		}
	}()

	var next atomic.Int64
	before := guarded.NearCacheStats()
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) % churnGuarded
			if _, found, err := guarded.State(ctx, fmt.Sprintf("guarded-%d", i), churnSession); err != nil || !found {
				b.Errorf("State = %v, %v", found, err)
				return
			}
		}
	})
	b.StopTimer()
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	after := guarded.NearCacheStats()
	hits, misses := after.Hits-before.Hits, after.Misses-before.Misses
	b.ReportMetric(100*float64(hits)/float64(max(hits+misses, 1)), "hit-%")
	// One read per session per TTL must go to Redis; more are fills that
	// an invalidation cancelled, or reads while a fill was in flight.
	b.ReportMetric(float64(misses)/churnGuarded/elapsed.Seconds(), "misses/session/s")
	b.ReportMetric(float64(rotations.Load())/elapsed.Seconds(), "refresh/s")
}
