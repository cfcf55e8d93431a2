package chaos

import (
	"bufio"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// selectKinds returns the kinds named in names, or all when names is
// empty. Names this topology does not offer are ignored; it skips t when
// none is offered.
func selectKinds(t testing.TB, kinds []FaultKind, names []string) []FaultKind {
	t.Helper()
	if len(names) == 0 {
		return kinds
	}
	var out []FaultKind
	for _, k := range kinds {
		if slices.Contains(names, k.Name) {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		t.Skipf("none of the faults %v here; the faults are %v", names, kindNames(kinds))
	}
	return out
}

func kindNames(kinds []FaultKind) []string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.Name
	}
	return names
}

// Report is the outcome of a run on one topology.
type Report struct {
	Topology string
	Config   Config
	Ran      time.Duration
	Faults   []Fault
	Fleets   []*Fleet
	Checkers []*Checker // Checkers[i] checked Fleets[i]
}

// Violations is the number of rule violations over every fleet.
func (r *Report) Violations() int {
	n := 0
	for _, c := range r.Checkers {
		for _, v := range c.ViolationCount {
			n += v
		}
	}
	return n
}

// Run drives two fleets, acks on and acks off, on topo while it injects
// faults for cfg.Duration, checks their histories and returns the report.
// It fails t only when the deployment cannot be driven (a fault that cannot
// be injected or undone); the caller judges the report.
func Run(t testing.TB, topo *Topology, cfg Config) *Report {
	t.Helper()
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(len(topo.Name))))
	fleets := []*Fleet{
		newFleet(t, "acks-on", true, topo, "chaos-acks:", cfg),
		newFleet(t, "acks-off", false, topo, "chaos-noacks:", cfg),
	}
	faults := &Faults{}
	t0 := time.Now()
	checkers := make([]*Checker, len(fleets))
	for i, f := range fleets {
		checkers[i] = newChecker(f, faults, t0)
		if cfg.HistoryDir != "" {
			file, err := os.Create(filepath.Join(cfg.HistoryDir, topo.Name+"-"+f.Name+".log"))
			if err != nil {
				t.Fatal(err)
			}
			w := bufio.NewWriter(file)
			t.Cleanup(func() {
				_ = w.Flush()
				_ = file.Close()
			})
			checkers[i].log = w
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	var work sync.WaitGroup
	stopWork := func() {
		cancel()
		work.Wait()
	}
	defer stopWork()
	for _, f := range fleets {
		for i := range cfg.Clients {
			c := &vclient{f: f, id: i, rng: rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))}
			work.Go(func() { c.run(ctx) })
		}
		admin := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		work.Go(func() { f.admin(ctx, admin) })
	}

	// The checkers look at each operation once it has settled.
	checkCtx, stopChecking := context.WithCancel(context.Background())
	var checking sync.WaitGroup
	defer func() {
		stopChecking()
		checking.Wait()
	}()
	for i, f := range fleets {
		checking.Go(func() {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-checkCtx.Done():
					return
				case <-tick.C:
					cutoff := time.Now().Add(-settle)
					checkers[i].Process(f.History.Settled(cutoff), cutoff)
				}
			}
		})
	}

	faults.run(t, ctx, t0.Add(cfg.Duration), selectKinds(t, topo.Kinds(rng, fleets), cfg.Faults), rng, fleets)
	sleep(ctx, time.Second) // a quiet end, after the last recovery
	stopWork()
	ran := time.Since(t0)
	stopChecking()
	checking.Wait()
	for i, f := range fleets {
		end := time.Now().Add(time.Hour) // after every operation
		checkers[i].Process(f.History.Settled(end), end)
		checkers[i].Finish()
	}
	return &Report{Topology: topo.Name, Config: cfg, Ran: ran, Faults: faults.Snapshot(), Fleets: fleets, Checkers: checkers}
}
