package bench

import (
	"context"
	"testing"

	"github.com/jwtguard/jwtguard/ginjwt/otelguard"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// otelInstruments returns instruments on the OpenTelemetry SDK with a
// ManualReader: every measurement is aggregated as in production, and
// nothing is exported. No TracerProvider: spans stay off, as with most
// sampled-out requests.
func otelInstruments(tb testing.TB) (*otelguard.Instruments, *sdkmetric.ManualReader) {
	tb.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tb.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	inst, err := otelguard.New(mp, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return inst, reader
}

// BenchmarkOurGuardWarmOTel is BenchmarkOurGuardWarm with otelguard's
// metrics on: the guard's counter and histogram and the store's histogram
// on every request, the near-cache's counters observed.
func BenchmarkOurGuardWarmOTel(b *testing.B) {
	inst, reader := otelInstruments(b)
	cfg := warmConfig
	cfg.otel = inst
	a, tr := ourGuard(b, cfg)
	stop, err := inst.ObserveNearCache(a.store)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = stop() }()
	runServe(b, a.engine, tr.AccessToken, a.trips)
	checkRevocation(b, a, tr)

	// The requests were measured.
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		b.Fatal(err)
	}
	var ok int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, isSum := m.Data.(metricdata.Sum[int64]); isSum && m.Name == otelguard.MetricGuardRequests {
				for _, p := range sum.DataPoints {
					if v, _ := p.Attributes.Value(otelguard.AttrOutcome); v.AsString() == otelguard.OutcomeOK {
						ok += p.Value
					}
				}
			}
		}
	}
	if ok < int64(b.N) {
		b.Fatalf("%s{outcome=ok} = %d after %d requests", otelguard.MetricGuardRequests, ok, b.N)
	}
}
