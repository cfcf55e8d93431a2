package otelguard

import (
	"context"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/metric"
)

// outcomeCounts counts guarded requests by outcome in memory, and the
// observable counter jwtguard.guard.requests reports the counts at each
// collection. On the guard's hot path an atomic add is all a request pays
// for its count, a fraction of a synchronous counter's Add, which resolves
// its attribute set on every call. The outcomes are "ok" and the error
// codes: a bounded set.
type outcomeCounts struct {
	ok     *outcomeCount // the common case, without a map lookup
	others sync.Map      // error code → *outcomeCount
}

// outcomeCount is the count of one outcome and the options that record
// its measurements.
type outcomeCount struct {
	n    atomic.Int64
	opts *measureOpts
}

func newOutcomeCounts() *outcomeCounts {
	return &outcomeCounts{ok: newOutcomeCount(OutcomeOK)}
}

func newOutcomeCount(code string) *outcomeCount {
	return &outcomeCount{opts: newMeasureOpts(AttrOutcome.String(code))}
}

// get returns the count of outcome code.
func (o *outcomeCounts) get(code string) *outcomeCount {
	if code == OutcomeOK {
		return o.ok
	}
	if v, found := o.others.Load(code); found {
		return v.(*outcomeCount)
	}
	v, _ := o.others.LoadOrStore(code, newOutcomeCount(code))
	return v.(*outcomeCount)
}

// observe reports the count of every outcome seen so far.
func (o *outcomeCounts) observe(_ context.Context, obs metric.Int64Observer) error {
	if n := o.ok.n.Load(); n > 0 {
		obs.Observe(n, o.ok.opts.obs...)
	}
	o.others.Range(func(_, v any) bool {
		oc := v.(*outcomeCount)
		obs.Observe(oc.n.Load(), oc.opts.obs...)
		return true
	})
	return nil
}
