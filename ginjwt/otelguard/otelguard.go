// Package otelguard reports jwtguard's metrics and traces through the
// OpenTelemetry Go API. It depends on the API modules only
// (go.opentelemetry.io/otel, otel/metric, otel/trace): the application
// chooses the SDK and the exporters, and passes their MeterProvider and
// TracerProvider to New. Nothing is measured unless it does.
//
//	inst, err := otelguard.New(meterProvider, tracerProvider)
//	opts := ginjwt.Options{Store: store, ...}
//	inst.Instrument(&opts)                // store wrapper, OnEvent, OnGuard, ErrorHandler
//	auth, err := ginjwt.New(opts)
//	api := r.Group("/api", inst.Guard(auth.Middleware())...) // the guard span
//	r.POST("/auth/login", inst.Route("login"), auth.LoginHandler())
//
// Metrics (see docs/operations.md, "Observability"):
//
//	jwtguard.guard.requests   counter    outcome: "ok" or the error code (token_expired, token_revoked, …); observable
//	jwtguard.guard.duration   histogram  outcome; seconds the guard's checks took
//	jwtguard.events           counter    kind, reason: every ginjwt.Event
//	jwtguard.store.duration   histogram  operation, result ("ok" or "error"); seconds per store call (near-cache hits excluded)
//	jwtguard.requests         counter    operation, outcome: the routes wrapped with Route
//	jwtguard.nearcache.*      observable counters and gauges of a redisstore near-cache (ObserveNearCache)
//
// Spans: jwtguard.guard for each guarded request, jwtguard.<operation> for
// each route wrapped with Route (login, refresh, logout, …), and
// jwtguard.store.<operation> for each store and throttle call.
//
// What is never recorded: tokens, refresh tokens, CSRF tokens, secrets,
// passwords, throttle keys (they hold client IPs and account names), and
// client IPs or User-Agents. Metric attributes are low-cardinality only: no
// subject, no session id. Span attributes carry no subject either; a guard
// or route span carries the session id (jwtguard.session.id, not a secret:
// it names a session, it does not authenticate one) only with
// WithSessionIDs. Attribute values are error codes, event kinds and
// reasons, operation names and rotate outcomes.
package otelguard

import (
	"context"
	"sync"

	"github.com/jwtguard/jwtguard/ginjwt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of the meter and the tracer.
const ScopeName = "github.com/jwtguard/jwtguard/ginjwt/otelguard"

// Metric names.
const (
	MetricGuardRequests = "jwtguard.guard.requests"
	MetricGuardDuration = "jwtguard.guard.duration"
	MetricEvents        = "jwtguard.events"
	MetricStoreDuration = "jwtguard.store.duration"
	MetricRequests      = "jwtguard.requests"

	MetricNearCacheHits          = "jwtguard.nearcache.hits"
	MetricNearCacheMisses        = "jwtguard.nearcache.misses"
	MetricNearCacheBypasses      = "jwtguard.nearcache.bypasses"
	MetricNearCacheInvalidations = "jwtguard.nearcache.invalidations"
	MetricNearCacheFlushes       = "jwtguard.nearcache.flushes"
	MetricNearCacheEntries       = "jwtguard.nearcache.entries"
	MetricNearCacheHealthy       = "jwtguard.nearcache.healthy"
)

// Attribute keys.
const (
	AttrOutcome   = attribute.Key("outcome")   // "ok" or an error code (ginjwt.ErrorCode)
	AttrKind      = attribute.Key("kind")      // a ginjwt.EventKind
	AttrReason    = attribute.Key("reason")    // an Event's Reason
	AttrOperation = attribute.Key("operation") // a store or route operation
	AttrResult    = attribute.Key("result")    // "ok" or "error", of a store call

	// Span-only attributes.
	AttrRotateOutcome = attribute.Key("jwtguard.rotate.outcome") // a Rotate's outcome, such as "rotated" or "reused"
	AttrFound         = attribute.Key("jwtguard.state.found")    // whether State found the session
	AttrProofOutcome  = attribute.Key("jwtguard.proof.outcome")  // a DPoP proof's replay check: "fresh", "replayed", "limited"
	AttrSessionID     = attribute.Key("jwtguard.session.id")     // only with WithSessionIDs
	AttrStatusCode    = attribute.Key("http.response.status_code")
)

// OutcomeOK is the outcome of a request that passed.
const OutcomeOK = "ok"

// durationBuckets are the histograms' bucket boundaries in seconds, from
// 50 µs (a near-cache hit) to 2.5 s (past the store's default timeout).
var durationBuckets = []float64{
	0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
}

// Instruments hold jwtguard's instruments. Build them once with New and
// share them between every Auth of the application. A nil *Instruments is
// valid and measures nothing: each method then returns what it was given.
type Instruments struct {
	tracer  trace.Tracer
	tracing bool // a TracerProvider was given
	meter   metric.Meter

	guardDuration metric.Float64Histogram
	events        metric.Int64Counter
	storeDuration metric.Float64Histogram
	requests      metric.Int64Counter

	outcomes  *outcomeCounts // guard outcomes, counted in memory
	eventOpts optsCache      // event kind and reason
	routeOpts optsCache      // route operation and outcome
	ops       map[string]*opInfo

	sessionIDs bool
}

// Option configures New.
type Option func(*Instruments)

// WithSessionIDs puts the session id of guarded and routed requests on
// their spans (jwtguard.session.id). A session id names a session and
// grants nothing, but it is an identifier: it is off by default, and never
// on metrics.
func WithSessionIDs() Option { return func(in *Instruments) { in.sessionIDs = true } }

// New returns the instruments on mp and tp. A nil provider turns that
// signal off: no metrics without mp, no spans without tp.
func New(mp metric.MeterProvider, tp trace.TracerProvider, opts ...Option) (*Instruments, error) {
	in := &Instruments{tracing: tp != nil, outcomes: newOutcomeCounts()}
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	for _, o := range opts {
		o(in)
	}
	in.initOps()
	in.meter = mp.Meter(ScopeName)
	in.tracer = tp.Tracer(ScopeName)
	var err error
	if _, err = in.meter.Int64ObservableCounter(MetricGuardRequests,
		metric.WithUnit("{request}"),
		metric.WithDescription("Requests the guard checked, by outcome: ok or the error code."),
		metric.WithInt64Callback(in.outcomes.observe)); err != nil {
		return nil, err
	}
	if in.guardDuration, err = in.meter.Float64Histogram(MetricGuardDuration,
		metric.WithUnit("s"),
		metric.WithDescription("Time the guard's checks took, by outcome."),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return nil, err
	}
	if in.events, err = in.meter.Int64Counter(MetricEvents,
		metric.WithUnit("{event}"),
		metric.WithDescription("Authentication events (login, login_failed, refresh, reuse_detected, logout, revoke, step_up, throttled), by kind and reason.")); err != nil {
		return nil, err
	}
	if in.storeDuration, err = in.meter.Float64Histogram(MetricStoreDuration,
		metric.WithUnit("s"),
		metric.WithDescription("Time each session store or throttle call took, by operation and result."),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return nil, err
	}
	if in.requests, err = in.meter.Int64Counter(MetricRequests,
		metric.WithUnit("{request}"),
		metric.WithDescription("Requests to the authentication routes wrapped with Route, by operation and outcome.")); err != nil {
		return nil, err
	}
	return in, nil
}

// measureOpts are the options of one precomputed attribute set, so that
// recording a measurement allocates nothing on the hot path.
type measureOpts struct {
	add []metric.AddOption
	rec []metric.RecordOption
	obs []metric.ObserveOption
}

func newMeasureOpts(kvs ...attribute.KeyValue) *measureOpts {
	o := metric.WithAttributeSet(attribute.NewSet(kvs...))
	return &measureOpts{add: []metric.AddOption{o}, rec: []metric.RecordOption{o}, obs: []metric.ObserveOption{o}}
}

// optsCache memoizes measureOpts by a string key. Its keys are error codes,
// event kinds and reasons and operation names: a bounded set.
type optsCache struct{ m sync.Map }

func (c *optsCache) get(key string, kvs func() []attribute.KeyValue) *measureOpts {
	if v, ok := c.m.Load(key); ok {
		return v.(*measureOpts)
	}
	v, _ := c.m.LoadOrStore(key, newMeasureOpts(kvs()...))
	return v.(*measureOpts)
}

// Instrument wires the instruments into o, before ginjwt.New: it wraps
// o.Store (and o.Throttle, when set) with Store and Throttle, chains
// o.OnEvent after the events counter, o.OnGuard after the guard's metrics
// (see OnGuard) and o.ErrorHandler after the recording of route outcomes
// and guard span outcomes. Call it once per Options value;
// Options copied afterwards share the instrumented store. A nil
// Instruments leaves o as it is.
func (in *Instruments) Instrument(o *ginjwt.Options) {
	if in == nil || o == nil {
		return
	}
	o.Store = in.Store(o.Store)
	if o.Throttle != nil {
		o.Throttle = in.Throttle(o.Throttle)
	}
	o.OnEvent = in.OnEvent(o.OnEvent)
	o.OnGuard = in.OnGuard(o.OnGuard)
	o.ErrorHandler = in.ErrorHandler(o.ErrorHandler)
}

// OnEvent returns an Options.OnEvent that counts each event in
// jwtguard.events, by kind and reason, and then calls next, when not nil.
// It records neither the subject, the session, the IP nor the User-Agent.
func (in *Instruments) OnEvent(next func(ginjwt.Event)) func(ginjwt.Event) {
	if in == nil {
		return next
	}
	return func(e ginjwt.Event) {
		opts := in.eventOpts.get(string(e.Kind)+"\x00"+e.Reason, func() []attribute.KeyValue {
			return []attribute.KeyValue{AttrKind.String(string(e.Kind)), AttrReason.String(e.Reason)}
		})
		in.events.Add(context.Background(), 1, opts.add...)
		if next != nil {
			next(e)
		}
	}
}
