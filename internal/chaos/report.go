package chaos

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// maxFaultLines is how many faults the summary lists one by one.
const maxFaultLines = 40

// Summary renders the report: faults and recoveries, then per fleet the
// operations by kind and outcome, what the checker verified, and every
// violation and loss with its history excerpt.
func (r *Report) Summary() string {
	var b strings.Builder
	cfg := r.Config
	fmt.Fprintf(&b, "chaos on %s: ran %v, seed %d; per fleet %d instances (odd ones with the near-cache, TTL %v), %d clients, %d users; store timeout %v, acks WithReplicaAcks(1, %v) on fleet acks-on\n",
		r.Topology, r.Ran.Round(time.Millisecond), cfg.Seed, cfg.Instances, nearCacheTTL, cfg.Clients, cfg.Users, storeTimeout, ackTimeout)
	r.faultSummary(&b)
	for i, c := range r.Checkers {
		r.fleetSummary(&b, r.Fleets[i], c)
	}
	return b.String()
}

func (r *Report) faultSummary(b *strings.Builder) {
	type agg struct {
		n                        int
		outage, total, recovered []time.Duration
		bound                    time.Duration
	}
	kinds := map[string]*agg{}
	var names []string
	for _, f := range r.Faults {
		a := kinds[f.Kind.Name]
		if a == nil {
			a = &agg{bound: f.Kind.bound()}
			kinds[f.Kind.Name] = a
			names = append(names, f.Kind.Name)
		}
		a.n++
		a.outage = append(a.outage, f.Cleared.Sub(f.Start))
		a.total = append(a.total, f.End.Sub(f.Start))
		for _, rec := range f.Recoveries {
			if rec.OK {
				a.recovered = append(a.recovered, rec.Took)
			}
		}
	}
	slices.Sort(names)
	fmt.Fprintf(b, "faults injected: %d (%d kinds)\n", len(r.Faults), len(names))
	fmt.Fprintf(b, "  %-16s %3s  %-19s  %-19s  %-27s\n", "kind", "n", "until cleared p50/max", "until whole p50/max", "recovery p50/max (bound)")
	for _, name := range names {
		a := kinds[name]
		fmt.Fprintf(b, "  %-16s %3d  %-19s  %-19s  %-27s\n", name, a.n, p50max(a.outage), p50max(a.total),
			fmt.Sprintf("%s (%v)", p50max(a.recovered), a.bound))
	}
	if len(r.Faults) <= maxFaultLines {
		t0 := time.Time{}
		if len(r.Checkers) > 0 {
			t0 = r.Checkers[0].t0
		}
		for _, f := range r.Faults {
			worst := time.Duration(0)
			for _, rec := range f.Recoveries {
				worst = max(worst, rec.Took)
			}
			fmt.Fprintf(b, "  %s..%s %-16s recovered in %v: %s\n", rel(f.Start, t0), rel(f.End, t0), f.Kind.Name,
				worst.Round(time.Millisecond), f.Detail)
		}
	}
}

func (r *Report) fleetSummary(b *strings.Builder, f *Fleet, c *Checker) {
	total := 0
	for _, outcomes := range c.Counts {
		for _, n := range outcomes {
			total += n
		}
	}
	fmt.Fprintf(b, "fleet %s (replica acks %v): %d operations, %.0f/s\n", f.Name, f.Acks, total, float64(total)/r.Ran.Seconds())
	kinds := make([]OpKind, 0, len(c.Counts))
	for k := range c.Counts {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		outcomes := make([]string, 0, len(c.Counts[k]))
		for o := range c.Counts[k] {
			outcomes = append(outcomes, o)
		}
		slices.Sort(outcomes)
		parts := make([]string, len(outcomes))
		for i, o := range outcomes {
			parts[i] = fmt.Sprintf("%s ×%d", o, c.Counts[k][o])
		}
		fmt.Fprintf(b, "  %-14s %s\n", k, strings.Join(parts, ", "))
	}
	fmt.Fprintf(b, "  (a) revoked tokens presented after their acknowledged revocation (+ bound): %d answered, %d accepted\n",
		c.RevokedPresented, c.Accepted)
	fmt.Fprintf(b, "      near-cache: %d revoked tokens accepted within the %v bound; max staleness %v\n",
		c.WithinBound, nearCacheTTL, c.MaxStaleness.Round(time.Microsecond))
	fmt.Fprintf(b, "  (b) 503s outside fault windows (informational): %d\n", c.Outside503)
	for _, line := range c.outside503s {
		fmt.Fprintf(b, "      %s\n", line)
	}
	writeFindings(b, "violations", c.ViolationCount, c.Violations)
	if !f.Acks {
		writeFindings(b, "acks-off losses (expected without replica acks; not failures)", c.LossCount, c.Losses)
	}
}

func writeFindings(b *strings.Builder, title string, counts map[string]int, list []Finding) {
	total := 0
	var parts []string
	for _, rule := range []string{ruleRevoked, ruleAnswers, ruleRecovery, ruleLostValid} {
		if n := counts[rule]; n > 0 {
			total += n
			parts = append(parts, fmt.Sprintf("(%s) %s: %d", rule, ruleNames[rule], n))
		}
	}
	fmt.Fprintf(b, "  %s: %d", title, total)
	if total > 0 {
		fmt.Fprintf(b, " — %s; the first %d per rule:", strings.Join(parts, ", "), maxExcerpts)
	}
	b.WriteString("\n")
	for _, f := range list {
		fmt.Fprintf(b, "    (%s) %s\n", f.Rule, f.Text)
		for _, line := range f.Excerpt {
			fmt.Fprintf(b, "        %s\n", line)
		}
	}
}

// p50max renders the median and the maximum of ds.
func p50max(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return fmt.Sprintf("%v/%v", s[len(s)/2].Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond))
}
