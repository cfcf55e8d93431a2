// Command load drives a running jwtguard example server (go run ./example)
// with virtual users, and reports throughput and latency per route and every
// response that was not the one expected.
//
// Each virtual user loops until the duration is over:
//
//	login → -calls × GET /api/me → -refreshes × (refresh → -calls × GET
//	/api/me with the new token → GET /api/me with the previous access token,
//	which must be 401 token_revoked) → logout → GET /api/me with the
//	logged-out token (401 token_revoked)
//
// pausing -think between two requests, as an app does between API calls.
// Usage:
//
//	go run ./load -url http://127.0.0.1:8080 -vus 200 -duration 60s
//
// Virtual users log in as the -users accounts in turn (by default the
// example's demo users); each login is a session of its own. They start
// spread over -ramp. A session still open when the time is up is logged out,
// unrecorded. The exit status is 1 when any response was unexpected.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

func main() {
	cfg := config{}
	flag.StringVar(&cfg.url, "url", "http://127.0.0.1:8080", "base URL of the example server")
	flag.IntVar(&cfg.vus, "vus", 200, "virtual users")
	flag.DurationVar(&cfg.duration, "duration", 60*time.Second, "how long to run")
	flag.IntVar(&cfg.calls, "calls", 5, "guarded GET /api/me calls per access token")
	flag.IntVar(&cfg.refreshes, "refreshes", 1, "refreshes per login")
	flag.DurationVar(&cfg.think, "think", 0, "pause of a virtual user between two requests")
	flag.DurationVar(&cfg.ramp, "ramp", 0, "start the virtual users spread over this time")
	users := flag.String("users", "alice:wonderland,bob:builder", "comma-separated user:password accounts")
	flag.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "timeout of one request")
	markdown := flag.Bool("markdown", false, "print the table as Markdown")
	flag.Parse()
	for _, u := range strings.Split(*users, ",") {
		name, pw, ok := strings.Cut(u, ":")
		if !ok || name == "" {
			fmt.Fprintf(os.Stderr, "load: -users: %q is not user:password\n", u)
			os.Exit(2)
		}
		cfg.users = append(cfg.users, account{name, pw})
	}
	if cfg.vus < 1 || cfg.calls < 1 || cfg.refreshes < 1 || cfg.duration <= 0 || cfg.think < 0 || cfg.ramp < 0 {
		fmt.Fprintln(os.Stderr, "load: -vus, -calls, -refreshes and -duration must be positive, -think and -ramp not negative")
		os.Exit(2)
	}

	fmt.Printf("load: %d virtual users for %v (ramp %v) against %s; per login %d refreshes, %d guarded calls per token, think %v; GOMAXPROCS %d\n",
		cfg.vus, cfg.duration, cfg.ramp, cfg.url, cfg.refreshes, cfg.calls, cfg.think, runtime.GOMAXPROCS(0))
	rep, err := run(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	if *markdown {
		rep.markdown(os.Stdout)
	} else {
		rep.text(os.Stdout)
	}
	if rep.unexpected > 0 {
		os.Exit(1)
	}
}

// config is one load run.
type config struct {
	url       string
	vus       int
	duration  time.Duration
	calls     int
	refreshes int
	think     time.Duration
	ramp      time.Duration
	users     []account
	timeout   time.Duration
}

type account struct{ name, password string }

// The routes of the report, in its order.
const (
	routeLogin   = "POST /auth/login"
	routeMe      = "GET /api/me"
	routeRefresh = "POST /auth/refresh"
	routeRevoked = "GET /api/me, revoked token"
	routeLogout  = "POST /auth/logout"
)

var routes = []string{routeLogin, routeMe, routeRefresh, routeRevoked, routeLogout}

// maxSamples is how many unexpected responses the report quotes.
const maxSamples = 10

// recorder is what one virtual user saw.
type recorder struct {
	latencies  map[string][]time.Duration
	unexpected map[string]int
	samples    []string
}

func newRecorder() *recorder {
	return &recorder{latencies: map[string][]time.Duration{}, unexpected: map[string]int{}}
}

// tokens is a token response; the server's messages are never printed with
// a token in them.
type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// vu is one virtual user.
type vu struct {
	cfg    config
	client *http.Client
	rec    *recorder
	user   account
}

// call sends one request and checks its status and, for errors, its code.
// It records the latency under route, and the response as unexpected when it
// is not want/wantCode. It returns the body, and whether it was as expected.
func (v *vu) call(route, method, path, bearer string, body any, want int, wantCode string) ([]byte, bool) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, v.cfg.url+path, rd)
	if err != nil {
		v.fail(route, "building the request: "+err.Error())
		return nil, false
	}
	req.Header.Set("User-Agent", "jwtguard-load/1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	start := time.Now()
	res, err := v.client.Do(req)
	if err != nil {
		v.rec.latencies[route] = append(v.rec.latencies[route], time.Since(start))
		v.fail(route, err.Error())
		return nil, false
	}
	b, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	v.rec.latencies[route] = append(v.rec.latencies[route], time.Since(start))
	if err != nil {
		v.fail(route, "reading the body: "+err.Error())
		return nil, false
	}
	if res.StatusCode != want {
		v.fail(route, fmt.Sprintf("status %d, want %d: %s", res.StatusCode, want, errorCode(b)))
		return nil, false
	}
	if wantCode != "" {
		if code := errorCode(b); code != wantCode {
			v.fail(route, fmt.Sprintf("error %q, want %q", code, wantCode))
			return nil, false
		}
	}
	return b, true
}

// errorCode returns the "error" field of an error body, or a short note.
func errorCode(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return fmt.Sprintf("(%d-byte body without an error code)", len(body))
	}
	return e.Error
}

func (v *vu) fail(route, what string) {
	v.rec.unexpected[route]++
	if len(v.rec.samples) < maxSamples {
		v.rec.samples = append(v.rec.samples, route+": "+what)
	}
}

// pair decodes a token response, counting a broken one as unexpected.
func (v *vu) pair(route string, body []byte) (tokens, bool) {
	var t tokens
	if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" || t.RefreshToken == "" {
		v.fail(route, "token response without both tokens")
		return t, false
	}
	return t, true
}

// iteration runs one session from login to logout. It stops early, and
// logs the session out unrecorded, when done is closed.
func (v *vu) iteration(done <-chan struct{}) {
	// next pauses for the think time and reports whether to go on.
	next := func() bool {
		if v.cfg.think > 0 {
			t := time.NewTimer(v.cfg.think)
			defer t.Stop()
			select {
			case <-done:
				return false
			case <-t.C:
				return true
			}
		}
		select {
		case <-done:
			return false
		default:
			return true
		}
	}
	body, ok := v.call(routeLogin, "POST", "/auth/login", "",
		map[string]string{"username": v.user.name, "password": v.user.password}, http.StatusOK, "")
	if !ok {
		time.Sleep(100 * time.Millisecond) // do not spin on a broken server
		return
	}
	cur, ok := v.pair(routeLogin, body)
	if !ok {
		return
	}
	open := true
	defer func() { // a session cut short by the end of the run is logged out
		if open {
			v.quietLogout(cur.RefreshToken)
		}
	}()
	calls := func(access string) bool {
		for range v.cfg.calls {
			if !next() {
				return false
			}
			v.call(routeMe, "GET", "/api/me", access, nil, http.StatusOK, "")
		}
		return true
	}
	if !calls(cur.AccessToken) {
		return
	}
	for range v.cfg.refreshes {
		if !next() {
			return
		}
		body, ok := v.call(routeRefresh, "POST", "/auth/refresh", "",
			map[string]string{"refresh_token": cur.RefreshToken}, http.StatusOK, "")
		if !ok {
			return
		}
		prev := cur
		if cur, ok = v.pair(routeRefresh, body); !ok {
			open = false // no usable refresh token to log out with
			return
		}
		if !calls(cur.AccessToken) || !next() {
			return
		}
		v.call(routeRevoked, "GET", "/api/me", prev.AccessToken, nil, http.StatusUnauthorized, "token_revoked")
	}
	if !next() {
		return
	}
	if _, ok := v.call(routeLogout, "POST", "/auth/logout", "",
		map[string]string{"refresh_token": cur.RefreshToken}, http.StatusNoContent, ""); ok {
		open = false
	}
	if !next() {
		return
	}
	v.call(routeRevoked, "GET", "/api/me", cur.AccessToken, nil, http.StatusUnauthorized, "token_revoked")
}

// quietLogout ends a session without recording anything.
func (v *vu) quietLogout(refreshToken string) {
	b, _ := json.Marshal(map[string]string{"refresh_token": refreshToken})
	req, err := http.NewRequest("POST", v.cfg.url+"/auth/logout", bytes.NewReader(b))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if res, err := v.client.Do(req); err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
	}
}

// run runs the load and returns the report. It fails at once when the
// server does not answer GET /healthz.
func run(ctx context.Context, cfg config) (*report, error) {
	if len(cfg.users) == 0 {
		return nil, errors.New("no users")
	}
	transport := &http.Transport{
		MaxIdleConns:        cfg.vus,
		MaxIdleConnsPerHost: cfg.vus,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: cfg.timeout}
	if err := healthy(ctx, client, cfg.url); err != nil {
		return nil, err
	}

	done := make(chan struct{})
	recs := make([]*recorder, cfg.vus)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range cfg.vus {
		recs[i] = newRecorder()
		v := &vu{cfg: cfg, client: client, rec: recs[i], user: cfg.users[i%len(cfg.users)]}
		delay := time.Duration(0)
		if cfg.vus > 1 {
			delay = cfg.ramp * time.Duration(i) / time.Duration(cfg.vus)
		}
		wg.Go(func() {
			select {
			case <-done:
				return
			case <-time.After(delay):
			}
			for {
				select {
				case <-done:
					return
				default:
				}
				v.iteration(done)
			}
		})
	}
	select {
	case <-time.After(cfg.duration):
	case <-ctx.Done():
	}
	close(done)
	wg.Wait()
	return newReport(recs, time.Since(start)), nil
}

// healthy checks that the server answers GET /healthz with 200.
func healthy(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/healthz", nil)
	if err != nil {
		return err
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("server at %s: %w", url, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("server at %s: GET /healthz answered %d", url, res.StatusCode)
	}
	return nil
}

// report is the result of a run.
type report struct {
	elapsed    time.Duration
	rows       []row
	total      int
	unexpected int
	samples    []string
}

// row is one route of the report.
type row struct {
	route              string
	count, unexpected  int
	rps                float64
	p50, p95, p99, max time.Duration
}

func newReport(recs []*recorder, elapsed time.Duration) *report {
	rep := &report{elapsed: elapsed}
	for _, route := range routes {
		var all []time.Duration
		r := row{route: route}
		for _, rec := range recs {
			all = append(all, rec.latencies[route]...)
			r.unexpected += rec.unexpected[route]
		}
		slices.Sort(all)
		r.count = len(all)
		r.rps = float64(r.count) / elapsed.Seconds()
		r.p50, r.p95, r.p99 = percentile(all, 50), percentile(all, 95), percentile(all, 99)
		if len(all) > 0 {
			r.max = all[len(all)-1]
		}
		rep.rows = append(rep.rows, r)
		rep.total += r.count
		rep.unexpected += r.unexpected
	}
	for _, rec := range recs {
		for _, s := range rec.samples {
			if len(rep.samples) < maxSamples {
				rep.samples = append(rep.samples, s)
			}
		}
	}
	return rep
}

// percentile returns the p-th percentile of sorted (nearest rank), or 0.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 × n)
	return sorted[max(rank, 1)-1]
}

// ms formats d in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

func (rep *report) text(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "route\trequests\treq/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\tunexpected\t")
	for _, r := range rep.rows {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t%s\t%s\t%d\t\n", r.route, r.count, r.rps, ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max), r.unexpected)
	}
	fmt.Fprintf(tw, "all\t%d\t%.1f\t\t\t\t\t%d\t\n", rep.total, float64(rep.total)/rep.elapsed.Seconds(), rep.unexpected)
	_ = tw.Flush()
	rep.footer(w)
}

func (rep *report) markdown(w io.Writer) {
	fmt.Fprintln(w, "| route | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | unexpected |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rep.rows {
		fmt.Fprintf(w, "| %s | %d | %.1f | %s | %s | %s | %s | %d |\n", r.route, r.count, r.rps, ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max), r.unexpected)
	}
	fmt.Fprintf(w, "| **all** | %d | %.1f | | | | | %d |\n", rep.total, float64(rep.total)/rep.elapsed.Seconds(), rep.unexpected)
	rep.footer(w)
}

func (rep *report) footer(w io.Writer) {
	fmt.Fprintf(w, "\n%d requests in %v, %d unexpected\n", rep.total, rep.elapsed.Round(time.Millisecond), rep.unexpected)
	for _, s := range rep.samples {
		fmt.Fprintln(w, "  unexpected:", s)
	}
}
