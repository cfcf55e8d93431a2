package otelguard_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/ginjwt/otelguard"
	"github.com/jwtguard/jwtguard/memstore"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func init() { gin.SetMode(gin.ReleaseMode) }

var testSecret = []byte("otelguard-test-secret-0123456789abcdef0123456789")

// clock is a settable test clock shared by the Auth and the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// rig is an app instrumented with an SDK on a ManualReader and an
// in-memory span exporter.
type rig struct {
	t      *testing.T
	router *gin.Engine
	reader *sdkmetric.ManualReader
	spans  *tracetest.InMemoryExporter
	clock  *clock
	events []ginjwt.Event
	auth   *ginjwt.Auth
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{t: t, reader: sdkmetric.NewManualReader(), spans: tracetest.NewInMemoryExporter(),
		clock: &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(r.spans))
	t.Cleanup(func() {
		_ = mp.Shutdown(context.Background())
		_ = tp.Shutdown(context.Background())
	})
	inst, err := otelguard.New(mp, tp)
	if err != nil {
		t.Fatal(err)
	}
	opts := ginjwt.Options{
		Store: memstore.New(memstore.WithClock(r.clock.Now)),
		Keys:  []ginjwt.Key{ginjwt.HS256(testSecret)},
		Now:   r.clock.Now,
		Authenticate: func(c *gin.Context) (ginjwt.Identity, error) {
			if c.PostForm("password") != "wonderland" {
				return ginjwt.Identity{}, ginjwt.ErrInvalidCredentials
			}
			return ginjwt.Identity{Subject: c.PostForm("user")}, nil
		},
		RefreshGrace: ginjwt.NoGrace, // the rotated refresh token is reuse 2s after the rotation
		OnEvent:      func(e ginjwt.Event) { r.events = append(r.events, e) },
	}
	inst.Instrument(&opts)
	auth, err := ginjwt.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r.router = gin.New()
	r.router.POST("/auth/login", inst.Route("login"), auth.LoginHandler())
	r.router.POST("/auth/refresh", inst.Route("refresh"), auth.RefreshHandler())
	r.router.POST("/auth/logout", inst.Route("logout"), auth.LogoutHandler())
	r.router.GET("/api/me", inst.Guard(auth.Middleware(), func(c *gin.Context) {
		c.String(http.StatusOK, "hello")
	})...)
	// Without Guard: measured all the same, only not traced.
	r.router.GET("/api/admin", auth.Middleware(ginjwt.RequireScope("admin")), func(c *gin.Context) {
		c.String(http.StatusOK, "admin")
	})
	r.auth = auth
	return r
}

func (r *rig) do(method, path, form, bearer string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(form))
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	w := httptest.NewRecorder()
	r.router.ServeHTTP(w, req)
	return w
}

func (r *rig) expect(what string, w *httptest.ResponseRecorder, status int, code string) {
	r.t.Helper()
	if w.Code != status {
		r.t.Fatalf("%s: status %d, want %d: %s", what, w.Code, status, w.Body)
	}
	if code != "" {
		var e ginjwt.ErrorResponse
		_ = json.Unmarshal(w.Body.Bytes(), &e)
		if e.Code() != code {
			r.t.Fatalf("%s: code %q, want %q", what, e.Code(), code)
		}
	}
}

func (r *rig) login(user string) ginjwt.TokenResponse {
	r.t.Helper()
	w := r.do("POST", "/auth/login", "user="+user+"&password=wonderland", "")
	r.expect("login", w, http.StatusOK, "")
	var tr ginjwt.TokenResponse
	if err := json.Unmarshal(w.Body.Bytes(), &tr); err != nil {
		r.t.Fatal(err)
	}
	return tr
}

func (r *rig) refresh(refreshToken string, status int, code string) ginjwt.TokenResponse {
	r.t.Helper()
	w := r.do("POST", "/auth/refresh", "grant_type=refresh_token&refresh_token="+refreshToken, "")
	r.expect("refresh", w, status, code)
	var tr ginjwt.TokenResponse
	_ = json.Unmarshal(w.Body.Bytes(), &tr)
	return tr
}

// counts sums the data points of every metric by name and attribute set:
// counters by value, histograms by count. Observable and other kinds are
// summed the same way.
func (r *rig) collect() metricdata.ResourceMetrics {
	r.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		r.t.Fatal(err)
	}
	return rm
}

func counts(rm metricdata.ResourceMetrics) map[string]int64 {
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[m.Name+"{"+attrString(p.Attributes)+"}"] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[m.Name+"{"+attrString(p.Attributes)+"}"] += int64(p.Count)
				}
			}
		}
	}
	return out
}

func attrString(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// Every check of the guard is measured once, with or without Guard: a
// requirement that fails, and Verify outside any route; only Guard adds a
// span.
func TestGuardMeasuredWithoutGuard(t *testing.T) {
	r := newRig(t)
	tr := r.login("alice")
	r.expect("unwrapped guard, missing scope", r.do("GET", "/api/admin", "", tr.AccessToken), http.StatusForbidden, "insufficient_scope")
	if _, err := r.auth.Verify(context.Background(), tr.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := r.auth.Verify(context.Background(), "not-a-token"); !errors.Is(err, ginjwt.ErrTokenMalformed) {
		t.Fatalf("Verify(garbage) = %v", err)
	}
	got := counts(r.collect())
	for name, want := range map[string]int64{
		"jwtguard.guard.requests{outcome=insufficient_scope}": 1,
		"jwtguard.guard.requests{outcome=ok}":                 1,
		"jwtguard.guard.requests{outcome=token_malformed}":    1,
		"jwtguard.guard.duration{outcome=insufficient_scope}": 1,
		"jwtguard.guard.duration{outcome=ok}":                 1,
		"jwtguard.guard.duration{outcome=token_malformed}":    1,
	} {
		if got[name] != want {
			t.Errorf("%s = %d, want %d", name, got[name], want)
		}
	}
	for _, span := range r.spans.GetSpans() {
		if span.Name == "jwtguard.guard" {
			t.Errorf("a guard span without Guard: %+v", span.Attributes)
		}
	}
}

// TestScriptedFlow runs login → refresh → a call with the rotated-away
// access token → logout → the old refresh token again, then reuse of a
// rotated refresh token on a second session, and checks every count of
// every metric and attribute set, the spans and their parents, and that no
// exported attribute holds a token, a token part, the subject or the secret.
func TestScriptedFlow(t *testing.T) {
	r := newRig(t)

	r.expect("wrong password", r.do("POST", "/auth/login", "user=alice&password=nope", ""), http.StatusUnauthorized, "invalid_credentials")
	first := r.login("alice")
	second := r.refresh(first.RefreshToken, http.StatusOK, "")
	r.expect("rotated-away access token", r.do("GET", "/api/me", "", first.AccessToken), http.StatusUnauthorized, "token_revoked")
	r.expect("current access token", r.do("GET", "/api/me", "", second.AccessToken), http.StatusOK, "")
	r.expect("no token", r.do("GET", "/api/me", "", ""), http.StatusUnauthorized, "token_missing")
	r.expect("logout", r.do("POST", "/auth/logout", "refresh_token="+second.RefreshToken, ""), http.StatusNoContent, "")
	r.refresh(first.RefreshToken, http.StatusBadRequest, "token_revoked") // its session is gone

	// A second session: its rotated refresh token comes back after the race window.
	b1 := r.login("alice")
	b2 := r.refresh(b1.RefreshToken, http.StatusOK, "")
	r.clock.Add(3 * time.Second)
	r.refresh(b1.RefreshToken, http.StatusBadRequest, "refresh_reused")
	r.expect("access token of the revoked session", r.do("GET", "/api/me", "", b2.AccessToken), http.StatusUnauthorized, "token_revoked")

	got := counts(r.collect())
	want := map[string]int64{
		"jwtguard.guard.requests{outcome=ok}":            1,
		"jwtguard.guard.requests{outcome=token_revoked}": 2,
		"jwtguard.guard.requests{outcome=token_missing}": 1,
		"jwtguard.guard.duration{outcome=ok}":            1,
		"jwtguard.guard.duration{outcome=token_revoked}": 2,
		"jwtguard.guard.duration{outcome=token_missing}": 1,

		"jwtguard.events{kind=login_failed,reason=invalid_credentials}": 1,
		"jwtguard.events{kind=login,reason=}":                           2,
		"jwtguard.events{kind=refresh,reason=}":                         2,
		"jwtguard.events{kind=logout,reason=local}":                     1,
		"jwtguard.events{kind=reuse_detected,reason=}":                  1,

		"jwtguard.requests{operation=login,outcome=invalid_credentials}": 1,
		"jwtguard.requests{operation=login,outcome=ok}":                  2,
		"jwtguard.requests{operation=refresh,outcome=ok}":                2,
		"jwtguard.requests{operation=refresh,outcome=token_revoked}":     1,
		"jwtguard.requests{operation=refresh,outcome=refresh_reused}":    1,
		"jwtguard.requests{operation=logout,outcome=ok}":                 1,

		"jwtguard.store.duration{operation=create_session,result=ok}":  2,
		"jwtguard.store.duration{operation=rotate,result=ok}":          4,
		"jwtguard.store.duration{operation=state,result=ok}":           4, // 3 guard checks, 1 in logout
		"jwtguard.store.duration{operation=delete_session,result=ok}":  1,
		"jwtguard.store.duration{operation=throttle_take,result=ok}":   3,
		"jwtguard.store.duration{operation=throttle_refund,result=ok}": 2,
	}
	checkCounts(t, got, want)

	// Events reached the app's own OnEvent too.
	if len(r.events) != 7 {
		t.Errorf("app OnEvent saw %d events, want 7", len(r.events))
	}

	spans := r.spans.GetSpans()
	names := map[string]int{}
	byID := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		names[s.Name]++
		byID[s.SpanContext.SpanID().String()] = s
	}
	wantSpans := map[string]int{
		"jwtguard.login": 3, "jwtguard.refresh": 4, "jwtguard.logout": 1, "jwtguard.guard": 4,
		"jwtguard.store.create_session": 2, "jwtguard.store.rotate": 4, "jwtguard.store.state": 4,
		"jwtguard.store.delete_session": 1, "jwtguard.store.throttle_take": 3, "jwtguard.store.throttle_refund": 2,
	}
	if fmt.Sprint(names) != fmt.Sprint(wantSpans) {
		t.Errorf("spans:\n got %v\nwant %v", names, wantSpans)
	}
	// Every store span is the child of a route or guard span.
	for _, s := range spans {
		if !strings.HasPrefix(s.Name, "jwtguard.store.") {
			continue
		}
		parent, ok := byID[s.Parent.SpanID().String()]
		if !ok || strings.HasPrefix(parent.Name, "jwtguard.store.") {
			t.Errorf("span %s: parent %q, want a route or guard span", s.Name, parent.Name)
		}
		if s.Name == "jwtguard.store.rotate" && !hasAttr(s.Attributes, "jwtguard.rotate.outcome") {
			t.Errorf("rotate span without its outcome: %v", s.Attributes)
		}
	}

	// No token, token part, subject or secret in any exported attribute.
	var secrets []string
	for _, tr := range []ginjwt.TokenResponse{first, second, b1, b2} {
		for _, tok := range []string{tr.AccessToken, tr.RefreshToken} {
			parts := strings.Split(tok, ".")
			if len(parts) != 3 {
				t.Fatalf("token %q is not a JWS", tok)
			}
			secrets = append(secrets, tok, parts[1], parts[2])
		}
	}
	secrets = append(secrets, "alice", string(testSecret), "wonderland")
	values := exportedValues(r.collect(), spans)
	if len(values) < 20 {
		t.Fatalf("only %d attribute values exported: the scan would prove little", len(values))
	}
	for _, v := range values {
		for _, s := range secrets {
			if strings.Contains(v, s) || (len(v) >= 16 && strings.Contains(s, v)) {
				t.Errorf("exported attribute value %q holds a secret (%.12s…)", v, s)
			}
		}
	}
	// Metric attributes use only the documented low-cardinality keys.
	allowed := map[string]bool{"outcome": true, "kind": true, "reason": true, "operation": true, "result": true}
	for _, sm := range r.collect().ScopeMetrics {
		for _, m := range sm.Metrics {
			forEachPointAttrs(m, func(s attribute.Set) {
				for _, kv := range s.ToSlice() {
					if !allowed[string(kv.Key)] {
						t.Errorf("metric %s has attribute %s", m.Name, kv.Key)
					}
				}
			})
		}
	}
}

func checkCounts(t *testing.T, got, want map[string]int64) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %s = %d", k, v)
		}
	}
}

func hasAttr(kvs []attribute.KeyValue, key string) bool {
	for _, kv := range kvs {
		if string(kv.Key) == key {
			return true
		}
	}
	return false
}

func forEachPointAttrs(m metricdata.Metrics, f func(attribute.Set)) {
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			f(p.Attributes)
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			f(p.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			f(p.Attributes)
		}
	}
}

// exportedValues lists every attribute value, span name, event and status
// description that the SDK would export.
func exportedValues(rm metricdata.ResourceMetrics, spans tracetest.SpanStubs) []string {
	var out []string
	add := func(kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			out = append(out, string(kv.Key), kv.Value.String())
		}
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out = append(out, m.Name, m.Description)
			forEachPointAttrs(m, func(s attribute.Set) { add(s.ToSlice()) })
		}
	}
	for _, s := range spans {
		out = append(out, s.Name, s.Status.Description)
		add(s.Attributes)
		for _, e := range s.Events {
			out = append(out, e.Name)
			add(e.Attributes)
		}
	}
	return out
}
