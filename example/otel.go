package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt/otelguard"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Values of OTEL_METRICS and OTEL_TRACES.
const (
	otelMetricsPrometheus = "prometheus" // GET /metrics in the Prometheus text format
	otelTracesStdout      = "stdout"     // spans as JSON lines on standard output
)

// metricsPath is where OTEL_METRICS=prometheus serves the metrics.
const metricsPath = "/metrics"

// loadOTelConfig reads OTEL_METRICS and OTEL_TRACES.
func loadOTelConfig(lookup func(string) (string, bool), cfg *config) error {
	switch v, _ := lookup("OTEL_METRICS"); v {
	case "", "none":
	case otelMetricsPrometheus:
		cfg.otelMetrics = v
	default:
		return fmt.Errorf("OTEL_METRICS=%q: want %q or nothing", v, otelMetricsPrometheus)
	}
	switch v, _ := lookup("OTEL_TRACES"); v {
	case "", "none":
	case otelTracesStdout:
		cfg.otelTraces = v
	default:
		return fmt.Errorf("OTEL_TRACES=%q: want %q or nothing", v, otelTracesStdout)
	}
	return nil
}

// telemetry is the app's OpenTelemetry set-up. Its zero value, with no
// signal configured, measures nothing: inst is nil, and every method of a
// nil *otelguard.Instruments passes what it is given through.
type telemetry struct {
	inst    *otelguard.Instruments
	metrics http.Handler // the Prometheus handler; nil without OTEL_METRICS
	closers []func(context.Context) error
}

// newTelemetry builds the SDK providers cfg asks for. The example's
// Prometheus registry is its own, so that two apps in one test process do
// not collide.
func newTelemetry(cfg config, log *slog.Logger) (*telemetry, error) {
	t := &telemetry{}
	var (
		mp metric.MeterProvider
		tp trace.TracerProvider
	)
	if cfg.otelMetrics == otelMetricsPrometheus {
		registry := prometheus.NewRegistry()
		exporter, err := otelprom.New(otelprom.WithRegisterer(registry))
		if err != nil {
			return nil, fmt.Errorf("OTEL_METRICS: %w", err)
		}
		provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
		t.closers = append(t.closers, provider.Shutdown)
		t.metrics = promhttp.HandlerFor(registry, promhttp.HandlerOpts{})
		mp = provider
		log.Info("metrics in the Prometheus format", "path", metricsPath)
	}
	if cfg.otelTraces == otelTracesStdout {
		exporter, err := stdouttrace.New(stdouttrace.WithWriter(os.Stdout))
		if err != nil {
			t.close()
			return nil, fmt.Errorf("OTEL_TRACES: %w", err)
		}
		provider := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter))
		t.closers = append(t.closers, provider.Shutdown)
		tp = provider
		log.Info("traces to standard output")
	}
	if mp == nil && tp == nil {
		return t, nil
	}
	inst, err := otelguard.New(mp, tp)
	if err != nil {
		t.close()
		return nil, err
	}
	t.inst = inst
	return t, nil
}

// observeStore reports the near-cache counters of store, when it has a
// near-cache and metrics are on.
func (t *telemetry) observeStore(store otelguard.NearCacheSource) error {
	if t.inst == nil || !store.NearCacheStats().Enabled {
		return nil
	}
	_, err := t.inst.ObserveNearCache(store)
	return err
}

// mount serves /metrics when metrics are on.
func (t *telemetry) mount(router *gin.Engine) {
	if t.metrics != nil {
		router.GET(metricsPath, gin.WrapH(t.metrics))
	}
}

// close flushes and stops the providers.
func (t *telemetry) close() {
	var errs []error
	for _, c := range t.closers {
		errs = append(errs, c(context.Background()))
	}
	if err := errors.Join(errs...); err != nil {
		slog.Default().Warn("telemetry shutdown", "error", err)
	}
	t.closers = nil
}
