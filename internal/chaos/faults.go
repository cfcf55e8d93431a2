package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jwtguard/jwtguard/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Recovery bounds, rule (c): after a fault clears, a fresh login and a
// guarded call through every instance must succeed within these.
const (
	// recoveryBound applies to faults that leave every Redis process
	// running: the circuit breaker probes every 200 ms, so service returns
	// in well under a second.
	recoveryBound = 2 * time.Second
	// restartRecoveryBound applies to faults that restart a Redis node or
	// promote a replica: clients must find the new primary, and with
	// replica acks the primary needs its replica back (a full sync) before
	// writes are acknowledged.
	restartRecoveryBound = 10 * time.Second
)

// FaultKind is a fault a topology can inject.
type FaultKind struct {
	Name string
	// Restarts is true when the fault restarts a Redis node or promotes a
	// replica: its recovery bound is restartRecoveryBound.
	Restarts bool
	// StateLoss is true when the fault empties Redis, which ends every
	// session (fail closed): refusals after it are no lost sessions.
	StateLoss bool
	// Eligible reports whether the fault can be injected now; nil means
	// always.
	Eligible func(ctx context.Context) bool
	// Inject injects the fault, undoes it, calling cleared as soon as its
	// cause is gone (the process is back, the link restored, the replica
	// promoted), and returns once the deployment is whole again (a killed
	// node rejoined as a replica and in sync), with a description of what
	// it did. It runs in the test goroutine and may fail t.
	Inject func(ctx context.Context, cleared func()) string
}

// bound is the kind's recovery bound.
func (k FaultKind) bound() time.Duration {
	if k.Restarts {
		return restartRecoveryBound
	}
	return recoveryBound
}

// Fault is one injected fault, as recorded.
type Fault struct {
	Kind    FaultKind
	Detail  string
	Start   time.Time // when injection began
	Cleared time.Time // when the cause was gone; zero until then
	End     time.Time // when the deployment was whole again; zero until then
	// Recoveries are the fresh login + guarded call of every instance of
	// every fleet after the fault cleared.
	Recoveries []Recovery
}

// Recovery is how long one instance took to serve a fresh session again
// after a fault cleared.
type Recovery struct {
	Fleet    string
	Instance int
	Took     time.Duration
	OK       bool // false: not within the prober's patience
}

// Faults records the faults of a run. The checkers read it while faults
// are still being injected. It is safe for concurrent use.
type Faults struct {
	mu   sync.Mutex
	list []*Fault
}

// Snapshot returns copies of the faults recorded so far.
func (fs *Faults) Snapshot() []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]Fault, len(fs.list))
	for i, f := range fs.list {
		out[i] = *f
		out[i].Recoveries = append([]Recovery(nil), f.Recoveries...)
	}
	return out
}

// windowSlack is how long after a fault ends its effects may still show.
const windowSlack = 2 * time.Second

// during reports whether [from, to] overlaps a fault's window, from its
// start to windowSlack after its end (or now, for a fault still on).
func (fs *Faults) during(from, to time.Time) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.list {
		if !f.Start.After(to) && (f.End.IsZero() || !f.End.Add(windowSlack).Before(from)) {
			return true
		}
	}
	return false
}

// stateLoss reports whether a fault that empties Redis overlapped
// [from, to].
func (fs *Faults) stateLoss(from, to time.Time) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.list {
		if f.Kind.StateLoss && !f.Start.After(to) && (f.End.IsZero() || !f.End.Before(from)) {
			return true
		}
	}
	return false
}

// around describes the faults whose window overlaps [from, to], for
// excerpts.
func (fs *Faults) around(from, to, t0 time.Time) []string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []string
	for _, f := range fs.list {
		if f.Start.After(to) || (!f.End.IsZero() && f.End.Add(windowSlack).Before(from)) {
			continue
		}
		out = append(out, fmt.Sprintf("fault %s %s..%s (cleared %s): %s", f.Kind.Name,
			rel(f.Start, t0), relOrOn(f.End, t0), relOrOn(f.Cleared, t0), f.Detail))
	}
	return out
}

func relOrOn(t, t0 time.Time) string {
	if t.IsZero() {
		return "(on)"
	}
	return rel(t, t0)
}

// recoveryPatience is how long the prober tries before giving up.
const recoveryPatience = 30 * time.Second

// run injects faults of the given kinds, one at a time with a quiet
// second or two between them, in a shuffled order that repeats, until
// until. After each fault clears it measures every instance's recovery
// and waits for it before the next fault.
func (fs *Faults) run(t testing.TB, ctx context.Context, until time.Time, kinds []FaultKind, rng *rand.Rand, fleets []*Fleet) {
	t.Helper()
	var order []int
	for ctx.Err() == nil {
		sleep(ctx, time.Duration(1000+rng.IntN(1500))*time.Millisecond)
		if !time.Now().Before(until) || ctx.Err() != nil {
			return
		}
		var kind FaultKind
		found := false
		for range 2 * len(kinds) {
			if len(order) == 0 {
				order = rng.Perm(len(kinds))
			}
			k := kinds[order[0]]
			order = order[1:]
			if k.Eligible == nil || k.Eligible(ctx) {
				kind, found = k, true
				break
			}
		}
		if !found {
			continue
		}
		fs.inject(ctx, kind, fleets)
	}
}

// inject runs one fault and the recovery probes that follow it, then
// audits the tokens that were in the fleets' pools when it began.
func (fs *Faults) inject(ctx context.Context, kind FaultKind, fleets []*Fleet) {
	pools := make([][]pair, len(fleets))
	for i, fl := range fleets {
		pools[i] = fl.pool.all()
	}
	f := &Fault{Kind: kind, Start: time.Now()}
	fs.mu.Lock()
	fs.list = append(fs.list, f)
	fs.mu.Unlock()

	var probes sync.WaitGroup
	cleared := sync.OnceFunc(func() {
		at := time.Now()
		fs.mu.Lock()
		f.Cleared = at
		fs.mu.Unlock()
		pctx, cancel := context.WithTimeout(ctx, recoveryPatience)
		var inner sync.WaitGroup
		for _, fl := range fleets {
			for _, inst := range fl.Instances {
				inner.Go(func() {
					done, ok := fl.recover(pctx, inst)
					r := Recovery{Fleet: fl.Name, Instance: inst.ID, OK: ok}
					if ok {
						r.Took = done.Sub(at)
					}
					fs.mu.Lock()
					f.Recoveries = append(f.Recoveries, r)
					fs.mu.Unlock()
				})
			}
		}
		probes.Go(func() {
			inner.Wait()
			cancel()
		})
	})
	detail := kind.Inject(ctx, cleared)
	cleared()
	fs.mu.Lock()
	f.End, f.Detail = time.Now(), detail
	fs.mu.Unlock()
	probes.Wait()
	var audits sync.WaitGroup
	for i, fl := range fleets {
		audits.Go(func() { fl.audit(ctx, pools[i]) })
	}
	audits.Wait()
}

// Faults every topology offers.

// netDelayKind delays every read of one instance's Redis connections, in
// each fleet, for two seconds: by 50 ms (slow), 300 ms (slower than most
// requests tolerate) or 1.5 s (past the store timeout: 503s).
func netDelayKind(rng *rand.Rand, fleets []*Fleet) FaultKind {
	return FaultKind{Name: "net-delay", Inject: func(ctx context.Context, cleared func()) string {
		i := rng.IntN(len(fleets[0].Instances))
		d := []time.Duration{50 * time.Millisecond, 300 * time.Millisecond, 1500 * time.Millisecond}[rng.IntN(3)]
		for _, fl := range fleets {
			fl.Instances[i].net.setDelay(d)
		}
		sleep(ctx, 2*time.Second)
		for _, fl := range fleets {
			fl.Instances[i].net.setDelay(0)
		}
		cleared()
		return fmt.Sprintf("instance %d of each fleet: every read delayed %v for 2s", i, d)
	}}
}

// netDropKind cuts one instance of each fleet off Redis for 1.5 s: its
// connections close and new ones fail.
func netDropKind(rng *rand.Rand, fleets []*Fleet) FaultKind {
	return FaultKind{Name: "net-drop", Inject: func(ctx context.Context, cleared func()) string {
		i := rng.IntN(len(fleets[0].Instances))
		for _, fl := range fleets {
			fl.Instances[i].net.drop()
		}
		sleep(ctx, 1500*time.Millisecond)
		for _, fl := range fleets {
			fl.Instances[i].net.restore()
		}
		cleared()
		return fmt.Sprintf("instance %d of each fleet: connections dropped for 1.5s", i)
	}}
}

// flushAllKind empties every primary (FLUSHALL): every session ends.
func flushAllKind(t testing.TB, primaries func(ctx context.Context) []*redistest.Server) FaultKind {
	return FaultKind{Name: "flushall", StateLoss: true, Inject: func(ctx context.Context, cleared func()) string {
		var addrs []string
		for _, s := range primaries(ctx) {
			if err := adminDo(ctx, s.Addr(), "FLUSHALL"); err != nil {
				t.Fatalf("FLUSHALL on %s: %v", s.Addr(), err)
			}
			addrs = append(addrs, s.Addr())
		}
		cleared()
		return fmt.Sprintf("FLUSHALL on %v", addrs)
	}}
}

// pubsubKillKind kills every pub/sub connection of the data nodes (CLIENT
// KILL TYPE pubsub): the near-caches' invalidation subscriptions, and the
// sentinels' hello channels.
func pubsubKillKind(t testing.TB, nodes func() []*redistest.Server) FaultKind {
	return FaultKind{Name: "pubsub-kill", Inject: func(ctx context.Context, cleared func()) string {
		killed := 0
		for _, s := range nodes() {
			c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
			n, err := c.ClientKillByFilter(ctx, "TYPE", "pubsub").Result()
			_ = c.Close()
			if err != nil {
				t.Fatalf("CLIENT KILL TYPE pubsub on %s: %v", s.Addr(), err)
			}
			killed += int(n)
		}
		cleared()
		return fmt.Sprintf("CLIENT KILL TYPE pubsub: %d connections", killed)
	}}
}

// pauseKind stops the primary that pick names with SIGSTOP for d, shorter
// than the deployment's failure detection, and continues it.
func pauseKind(pick func(ctx context.Context) *redistest.Server, d time.Duration) FaultKind {
	return FaultKind{Name: "pause", Inject: func(ctx context.Context, cleared func()) string {
		s := pick(ctx)
		s.Pause()
		sleep(ctx, d)
		s.Resume()
		cleared()
		return fmt.Sprintf("SIGSTOP %s for %v, then SIGCONT", s.Addr(), d)
	}}
}

// adminDo runs one command on the node at addr.
func adminDo(ctx context.Context, addr string, args ...any) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	return c.Do(ctx, args...).Err()
}
