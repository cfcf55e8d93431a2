package otelguard_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/ginjwt/otelguard"
	"github.com/jwtguard/jwtguard/memstore"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// plainStore is a Store that implements neither StateRefresher nor Throttle.
type plainStore struct{ ginjwt.Store }

// refresherStore implements StateRefresher but not Throttle.
type refresherStore struct {
	ginjwt.Store
	fresh int
}

func (r *refresherStore) FreshState(ctx context.Context, subject, id string) (ginjwt.SessionState, bool, error) {
	r.fresh++
	return r.Store.State(ctx, subject, id)
}

// The wrapper implements StateRefresher, Throttle and ProofStore exactly
// when the store does.
func TestStoreInterfaces(t *testing.T) {
	inst, err := otelguard.New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	mr := miniredis.RunT(t)
	rs, err := redisstore.New(redis.NewClient(&redis.Options{Addr: mr.Addr()}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                        string
		store                       ginjwt.Store
		refresher, throttler, prove bool
	}{
		{"plain", plainStore{memstore.New()}, false, false, false},
		{"memstore", memstore.New(), false, true, true},
		{"refresher", &refresherStore{Store: plainStore{memstore.New()}}, true, false, false},
		{"redisstore", rs, true, true, true},
	} {
		w := inst.Store(tc.store)
		_, r := w.(ginjwt.StateRefresher)
		_, th := w.(ginjwt.Throttle)
		_, p := w.(ginjwt.ProofStore)
		if r != tc.refresher || th != tc.throttler || p != tc.prove {
			t.Errorf("%s: wrapper is StateRefresher %v, Throttle %v, ProofStore %v; want %v, %v, %v", tc.name, r, th, p, tc.refresher, tc.throttler, tc.prove)
		}
	}
}

// failingStore fails every State.
type failingStore struct{ ginjwt.Store }

func (failingStore) State(context.Context, string, string) (ginjwt.SessionState, bool, error) {
	return ginjwt.SessionState{}, false, errors.New("connection refused")
}

// A store failure counts as result=error and the guard's outcome is
// store_unavailable.
func TestStoreError(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	inst, err := otelguard.New(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), nil)
	if err != nil {
		t.Fatal(err)
	}
	mem := memstore.New()
	opts := ginjwt.Options{Store: mem, Keys: []ginjwt.Key{ginjwt.HS256(testSecret)}}
	issuer, err := ginjwt.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := issuer.IssueTokens(t.Context(), ginjwt.Identity{Subject: "alice"}, ginjwt.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	opts.Store = failingStore{mem}
	opts.Limits.Off = true
	inst.Instrument(&opts)
	auth, err := ginjwt.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	r.GET("/me", inst.Guard(auth.Middleware(), func(c *gin.Context) { c.Status(http.StatusOK) })...)
	req := httptest.NewRequest("GET", "/me", nil)
	req.Header.Set("Authorization", "Bearer "+pair.AccessToken)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", w.Code)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, counts(rm), map[string]int64{
		"jwtguard.guard.requests{outcome=store_unavailable}":    1,
		"jwtguard.guard.duration{outcome=store_unavailable}":    1,
		"jwtguard.store.duration{operation=state,result=error}": 1,
	})
}

// A nil *Instruments changes nothing.
func TestNilInstruments(t *testing.T) {
	var inst *otelguard.Instruments
	store := memstore.New()
	opts := ginjwt.Options{Store: store}
	inst.Instrument(&opts)
	if opts.Store != ginjwt.Store(store) || opts.OnEvent != nil || opts.ErrorHandler != nil {
		t.Error("a nil Instruments changed the Options")
	}
	guard := func(c *gin.Context) {}
	if chain := inst.Guard(guard); len(chain) != 1 {
		t.Errorf("Guard: %d handlers, want the guard alone", len(chain))
	}
	if inst.Store(store) != ginjwt.Store(store) || inst.Throttle(store) != ginjwt.Throttle(store) {
		t.Error("Store or Throttle wrapped with a nil Instruments")
	}
	if inst.Route("login") == nil {
		t.Error("Route returned nil")
	}
	stop, err := inst.ObserveNearCache(nil)
	if err != nil || stop() != nil {
		t.Errorf("ObserveNearCache: %v", err)
	}
}

// The near-cache's counters appear as observable instruments.
func TestObserveNearCache(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	inst, err := otelguard.New(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), nil)
	if err != nil {
		t.Fatal(err)
	}
	mr := miniredis.RunT(t)
	store, err := redisstore.New(redis.NewClient(&redis.Options{Addr: mr.Addr()}), redisstore.WithNearCache(0, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	stop, err := inst.ObserveNearCache(store)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stop() }()
	ctx := t.Context()
	_, _, _ = store.State(ctx, "warm-up", "x") // starts the subscription
	deadline := time.Now().Add(5 * time.Second)
	for !store.NearCacheHealthy() {
		if time.Now().After(deadline) {
			t.Fatal("near-cache subscription not up")
		}
		time.Sleep(time.Millisecond)
	}
	created := store.NearCacheStats().Invalidations
	if _, err := store.CreateSession(ctx, "alice", ginjwt.NewSession{ID: "s1", TTL: time.Hour, MaxAge: time.Hour}); err != nil {
		t.Fatal(err)
	}
	// The login's invalidation message would drop what the reads cache.
	for store.NearCacheStats().Invalidations == created {
		if time.Now().After(deadline) {
			t.Fatal("no invalidation message")
		}
		time.Sleep(time.Millisecond)
	}
	for range 3 {
		if _, _, err := store.State(ctx, "alice", "s1"); err != nil {
			t.Fatal(err)
		}
	}
	// Through the instrumented store, near-cache hits are not timed: only
	// the read that reaches Redis is.
	measured := inst.Store(store)
	if _, _, err := measured.State(ctx, "alice", "s1"); err != nil {
		t.Fatal(err)
	}
	hits := store.NearCacheStats().Hits
	if _, found, err := measured.State(ctx, "bob", "s2"); err != nil || found {
		t.Fatalf("State(bob) = %v, %v; want not found", found, err)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	if store.NearCacheStats().Hits != hits {
		t.Fatal("a near-cache miss counted as a hit")
	}
	if n := storeCalls(rm, otelguard.OpState); n != 1 {
		t.Errorf("%s{operation=state} counts %d calls; want 1: the miss, not the hit", otelguard.MetricStoreDuration, n)
	}
	stats := store.NearCacheStats()
	values := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				values[m.Name] = d.DataPoints[0].Value
			case metricdata.Gauge[int64]:
				values[m.Name] = d.DataPoints[0].Value
			}
		}
	}
	if values[otelguard.MetricNearCacheHealthy] != 1 {
		t.Errorf("healthy = %d, want 1", values[otelguard.MetricNearCacheHealthy])
	}
	// Nothing touched the cache between the collection and stats.
	if values[otelguard.MetricNearCacheHits] != int64(stats.Hits) || stats.Hits < 1 {
		t.Errorf("hits = %d, store reports %d (want ≥ 1)", values[otelguard.MetricNearCacheHits], stats.Hits)
	}
	if values[otelguard.MetricNearCacheMisses] != int64(stats.Misses) || stats.Misses < 1 {
		t.Errorf("misses = %d, store reports %d (want ≥ 1)", values[otelguard.MetricNearCacheMisses], stats.Misses)
	}
	for _, name := range []string{otelguard.MetricNearCacheBypasses, otelguard.MetricNearCacheFlushes, otelguard.MetricNearCacheInvalidations, otelguard.MetricNearCacheEntries} {
		if _, ok := values[name]; !ok {
			t.Errorf("%s not reported", name)
		}
	}
}

// WithSessionIDs puts the session id on the guard span, never on metrics;
// without it, no span carries it.
func TestSessionIDsOnSpans(t *testing.T) {
	for _, on := range []bool{false, true} {
		reader := sdkmetric.NewManualReader()
		spans := tracetest.NewInMemoryExporter()
		var opts []otelguard.Option
		if on {
			opts = append(opts, otelguard.WithSessionIDs())
		}
		inst, err := otelguard.New(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
			sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans)), opts...)
		if err != nil {
			t.Fatal(err)
		}
		o := ginjwt.Options{Store: memstore.New(), Keys: []ginjwt.Key{ginjwt.HS256(testSecret)}}
		inst.Instrument(&o)
		auth, err := ginjwt.New(o)
		if err != nil {
			t.Fatal(err)
		}
		pair, err := auth.IssueTokens(t.Context(), ginjwt.Identity{Subject: "alice"}, ginjwt.ClientInfo{})
		if err != nil {
			t.Fatal(err)
		}
		r := gin.New()
		var handlerSpan trace.SpanContext
		r.GET("/me", inst.Guard(auth.Middleware(), func(c *gin.Context) {
			handlerSpan = trace.SpanContextFromContext(c.Request.Context())
			c.Status(http.StatusOK)
		})...)
		req := httptest.NewRequest("GET", "/me", nil)
		req.Header.Set("Authorization", "Bearer "+pair.AccessToken)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
		if handlerSpan.IsValid() {
			t.Error("the handler runs in the ended guard span's context")
		}
		var sid string
		for _, s := range spans.GetSpans() {
			if s.Name != "jwtguard.guard" {
				continue
			}
			for _, kv := range s.Attributes {
				if kv.Key == otelguard.AttrSessionID {
					sid = kv.Value.AsString()
				}
			}
		}
		if on != (sid == pair.SessionID && sid != "") {
			t.Errorf("WithSessionIDs %v: guard span session id %q (session %q)", on, sid, pair.SessionID)
		}
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(t.Context(), &rm); err != nil {
			t.Fatal(err)
		}
		for _, v := range exportedValues(rm, nil) {
			if strings.Contains(v, pair.SessionID) {
				t.Errorf("a metric holds the session id: %q", v)
			}
		}
	}
}

// storeCalls is the number of store calls of op in jwtguard.store.duration.
func storeCalls(rm metricdata.ResourceMetrics, op string) uint64 {
	var n uint64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			h, ok := m.Data.(metricdata.Histogram[float64])
			if !ok || m.Name != otelguard.MetricStoreDuration {
				continue
			}
			for _, p := range h.DataPoints {
				if v, _ := p.Attributes.Value(otelguard.AttrOperation); v.AsString() == op {
					n += p.Count
				}
			}
		}
	}
	return n
}
