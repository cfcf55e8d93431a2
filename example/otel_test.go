package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// With OTEL_METRICS=prometheus, /metrics serves jwtguard's counters in the
// Prometheus text format, and no token shows in it.
func TestPrometheusMetrics(t *testing.T) {
	c := startApp(t, config{secret: testSecret, otelMetrics: otelMetricsPrometheus})
	first := c.login("alice", "wonderland")
	second := c.tokens(expect(t, "refresh", c.refresh(first.RefreshToken), http.StatusOK, ""))
	expect(t, "rotated-away access token", c.me(first.AccessToken), http.StatusUnauthorized, "token_revoked")
	expect(t, "current access token", c.me(second.AccessToken), http.StatusOK, "")
	expect(t, "logout", c.logout(second.RefreshToken), http.StatusNoContent, "")

	status, body := scrape(t, c)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d", metricsPath, status)
	}
	for _, want := range []string{
		`jwtguard_guard_requests_total{otel_scope_name="github.com/jwtguard/jwtguard/ginjwt/otelguard",otel_scope_schema_url="",otel_scope_version="",outcome="ok"} 1`,
		`jwtguard_guard_requests_total{otel_scope_name="github.com/jwtguard/jwtguard/ginjwt/otelguard",otel_scope_schema_url="",otel_scope_version="",outcome="token_revoked"} 1`,
		`jwtguard_events_total{kind="login",otel_scope_name="github.com/jwtguard/jwtguard/ginjwt/otelguard",otel_scope_schema_url="",otel_scope_version="",reason=""} 1`,
		`jwtguard_events_total{kind="refresh",otel_scope_name="github.com/jwtguard/jwtguard/ginjwt/otelguard",otel_scope_schema_url="",otel_scope_version="",reason=""} 1`,
		`jwtguard_events_total{kind="logout",otel_scope_name="github.com/jwtguard/jwtguard/ginjwt/otelguard",otel_scope_schema_url="",otel_scope_version="",reason="local"} 1`,
		`jwtguard_requests_total{operation="login",otel_scope_name="github.com/jwtguard/jwtguard/ginjwt/otelguard",otel_scope_schema_url="",otel_scope_version="",outcome="ok"} 1`,
		`jwtguard_store_duration_seconds_count{operation="rotate",otel_scope_name="github.com/jwtguard/jwtguard/ginjwt/otelguard",otel_scope_schema_url="",otel_scope_version="",result="ok"} 1`,
		`jwtguard_guard_duration_seconds_bucket{`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, tok := range []string{first.AccessToken, first.RefreshToken, second.AccessToken, second.RefreshToken} {
		sig := tok[strings.LastIndexByte(tok, '.')+1:]
		if strings.Contains(body, sig) {
			t.Errorf("/metrics holds a token's signature")
		}
	}
	if strings.Contains(body, `"alice"`) {
		t.Error("/metrics holds the subject")
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}

// Without OTEL_METRICS there is no /metrics route.
func TestMetricsOff(t *testing.T) {
	c := startApp(t, config{secret: testSecret})
	if status, _ := scrape(t, c); status != http.StatusNotFound {
		t.Fatalf("GET %s without OTEL_METRICS: %d, want 404", metricsPath, status)
	}
}

// scrape fetches /metrics as Prometheus does: with a plain HTTP client,
// outside the API whose requests the OpenAPI check validates (/metrics is
// an operations endpoint, not part of openapi.json).
func scrape(t *testing.T, c *client) (int, string) {
	t.Helper()
	res, err := http.Get(c.srv.URL + metricsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

func TestLoadOTelConfig(t *testing.T) {
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	cfg, err := loadConfig(env(map[string]string{"OTEL_METRICS": "prometheus", "OTEL_TRACES": "stdout"}))
	if err != nil || cfg.otelMetrics != otelMetricsPrometheus || cfg.otelTraces != otelTracesStdout {
		t.Fatalf("got %q, %q, %v", cfg.otelMetrics, cfg.otelTraces, err)
	}
	for _, bad := range []map[string]string{{"OTEL_METRICS": "otlp"}, {"OTEL_TRACES": "jaeger"}} {
		if _, err := loadConfig(env(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
