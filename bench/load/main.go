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
// unrecorded. A login refused with 429 too_many_requests is not unexpected
// but a failed login: the user waits for its Retry-After and tries again.
//
// With -attackers N, N more virtual users guess passwords as fast as they
// can, each request a wrong password for the next of the -victims names
// (real accounts, shared with the users or not, and unknown names); they
// expect 401 invalid_credentials or 429 too_many_requests. The report then
// adds the users' login success rate, split between the accounts the
// attackers target and the others, and the attackers' responses; -compare
// runs first without the attackers, then with them, side by side.
//
// Every virtual user and attacker connects from its own address in
// 127.0.0.0/8 (-own-ips), so that the server's per-IP login limit sees
// them as different clients; Linux routes all of 127.0.0.0/8 to the
// loopback interface, so the server must listen on it. With -own-ips=false
// they all connect from the same address, as behind one NAT.
//
// The exit status is 1 when any response was unexpected.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
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
	flag.IntVar(&cfg.attackers, "attackers", 0, "virtual users guessing passwords as fast as they can")
	victims := flag.String("victims", "bob,ghost1,ghost2", "comma-separated names the attackers guess passwords for")
	flag.BoolVar(&cfg.ownIPs, "own-ips", true, "every virtual user and attacker connects from its own 127.x.y.z address (Linux, server on loopback)")
	compare := flag.Bool("compare", false, "run without the attackers first, then with them, and compare")
	markdown := flag.Bool("markdown", false, "print the tables as Markdown")
	flag.Parse()
	cfg.victims = strings.Split(*victims, ",")
	for _, u := range strings.Split(*users, ",") {
		name, pw, ok := strings.Cut(u, ":")
		if !ok || name == "" {
			fmt.Fprintf(os.Stderr, "load: -users: %q is not user:password\n", u)
			os.Exit(2)
		}
		cfg.users = append(cfg.users, account{name, pw})
	}
	if cfg.vus < 1 || cfg.calls < 1 || cfg.refreshes < 1 || cfg.duration <= 0 || cfg.think < 0 || cfg.ramp < 0 || cfg.attackers < 0 ||
		cfg.vus > maxVUs || cfg.attackers > maxVUs || slices.Contains(cfg.victims, "") || (*compare && cfg.attackers == 0) {
		fmt.Fprintf(os.Stderr, "load: -vus, -calls, -refreshes and -duration must be positive, -think, -ramp and -attackers not negative, -vus and -attackers at most %d, -victims without empty names; -compare needs -attackers\n", maxVUs)
		os.Exit(2)
	}

	fmt.Printf("load: %d virtual users for %v (ramp %v) against %s; per login %d refreshes, %d guarded calls per token, think %v; own IPs %v; GOMAXPROCS %d\n",
		cfg.vus, cfg.duration, cfg.ramp, cfg.url, cfg.refreshes, cfg.calls, cfg.think, cfg.ownIPs, runtime.GOMAXPROCS(0))
	runs := []config{cfg}
	if *compare {
		without := cfg
		without.attackers = 0
		runs = []config{without, cfg}
	}
	var reps []*report
	for _, c := range runs {
		if c.attackers > 0 {
			fmt.Printf("\nwith %d attackers guessing passwords for %s\n", c.attackers, strings.Join(c.victims, ", "))
		} else if *compare {
			fmt.Println("\nwithout attackers")
		}
		rep, err := run(context.Background(), c)
		if err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(2)
		}
		if *markdown {
			rep.markdown(os.Stdout)
		} else {
			rep.text(os.Stdout)
		}
		reps = append(reps, rep)
	}
	if cfg.attackers > 0 {
		fmt.Println()
		printTable(os.Stdout, *markdown, compareRuns(reps))
	}
	for _, rep := range reps {
		if rep.unexpected > 0 {
			os.Exit(1)
		}
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
	attackers int      // virtual users guessing passwords
	victims   []string // the names they guess passwords for
	ownIPs    bool     // every virtual user connects from its own loopback address
}

// maxVUs is the most virtual users, and attackers, that -own-ips has
// addresses for.
const maxVUs = 60000

type account struct{ name, password string }

// The routes of the report, in its order.
const (
	routeLogin   = "POST /auth/login"
	routeMe      = "GET /api/me"
	routeRefresh = "POST /auth/refresh"
	routeRevoked = "GET /api/me, revoked token"
	routeLogout  = "POST /auth/logout"
	routeAttack  = "POST /auth/login, attacker"
)

var routes = []string{routeLogin, routeMe, routeRefresh, routeRevoked, routeLogout}

// maxSamples is how many unexpected responses the report quotes.
const maxSamples = 10

// recorder is what one virtual user saw.
type recorder struct {
	latencies  map[string][]time.Duration
	unexpected map[string]int
	samples    []string

	attacked bool            // a user whose account the attackers target
	logins   int             // logins a user tried
	loggedIn []time.Duration // the latencies of those that succeeded
	refused  int             // those refused with 429 too_many_requests
	answers  map[string]int  // an attacker's expected responses, by status, code and limit
}

func newRecorder() *recorder {
	return &recorder{latencies: map[string][]time.Duration{}, unexpected: map[string]int{}, answers: map[string]int{}}
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

// send sends one request and records its latency under route. It returns
// the response, its body and its latency; when the request failed, it
// counts it as unexpected and returns a nil response.
func (v *vu) send(route, method, path, bearer string, body any) (*http.Response, []byte, time.Duration) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, v.cfg.url+path, rd)
	if err != nil {
		v.fail(route, "building the request: "+err.Error())
		return nil, nil, 0
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
	var b []byte
	if err == nil {
		b, err = io.ReadAll(res.Body)
		_ = res.Body.Close()
	}
	took := time.Since(start)
	v.rec.latencies[route] = append(v.rec.latencies[route], took)
	if err != nil {
		v.fail(route, err.Error())
		return nil, nil, took
	}
	return res, b, took
}

// call sends one request and checks its status and, for errors, its code.
// It counts the response as unexpected when it is not want/wantCode, and
// returns the body and whether it was as expected.
func (v *vu) call(route, method, path, bearer string, body any, want int, wantCode string) ([]byte, bool) {
	res, b, _ := v.send(route, method, path, bearer, body)
	if res == nil {
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

// errorCode returns the specific code of an error body — "reason" when
// present (the refresh route's RFC 6749 errors), else "error" — or a short
// note.
func errorCode(body []byte) string {
	var e struct {
		Error  string `json:"error"`
		Reason string `json:"reason"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return fmt.Sprintf("(%d-byte body without an error code)", len(body))
	}
	if e.Reason != "" {
		return e.Reason
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
	next := func() bool { return pause(done, v.cfg.think) }
	body, ok := v.login(done)
	if !ok {
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

// login logs the user in and returns the token response. A login refused
// with 429 too_many_requests is counted as refused, not unexpected, and the
// user waits for its Retry-After, as an app would.
func (v *vu) login(done <-chan struct{}) ([]byte, bool) {
	v.rec.logins++
	res, body, took := v.send(routeLogin, "POST", "/auth/login", "",
		map[string]string{"username": v.user.name, "password": v.user.password})
	switch {
	case res == nil: // counted as unexpected
	case res.StatusCode == http.StatusOK:
		v.rec.loggedIn = append(v.rec.loggedIn, took)
		return body, true
	case res.StatusCode == http.StatusTooManyRequests && errorCode(body) == "too_many_requests":
		v.rec.refused++
		retry, _ := strconv.Atoi(res.Header.Get("Retry-After"))
		pause(done, time.Duration(max(retry, 1))*time.Second)
		return nil, false
	default:
		v.fail(routeLogin, fmt.Sprintf("status %d, want 200: %s", res.StatusCode, errorCode(body)))
	}
	pause(done, 100*time.Millisecond) // do not spin on a broken server
	return nil, false
}

// attack guesses passwords until done, as fast as it can: each request a
// wrong password for the next of the victims, starting at the n-th. It
// counts 401 invalid_credentials and 429 too_many_requests by the limit
// that answered (the RateLimit header); anything else is unexpected.
func (v *vu) attack(done <-chan struct{}, n int) {
	for ; pause(done, 0); n++ {
		name := v.cfg.victims[n%len(v.cfg.victims)]
		res, body, _ := v.send(routeAttack, "POST", "/auth/login", "",
			map[string]string{"username": name, "password": fmt.Sprintf("guess-%d", n)})
		if res == nil {
			pause(done, 100*time.Millisecond)
			continue
		}
		code := errorCode(body)
		switch {
		case res.StatusCode == http.StatusUnauthorized && code == "invalid_credentials":
			v.rec.answers["401 "+code]++
		case res.StatusCode == http.StatusTooManyRequests && code == "too_many_requests":
			policy, _, _ := strings.Cut(res.Header.Get("RateLimit"), ";") // "login-ip";r=0;t=6
			v.rec.answers["429 "+strings.Trim(policy, `"`)]++
		default:
			v.fail(routeAttack, fmt.Sprintf("status %d, want 401 or 429: %s", res.StatusCode, code))
		}
	}
}

// pause waits d, or less when done closes first, and reports whether to go
// on.
func pause(done <-chan struct{}, d time.Duration) bool {
	if d > 0 {
		t := time.NewTimer(d)
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
	if len(cfg.users) == 0 || (cfg.attackers > 0 && len(cfg.victims) == 0) {
		return nil, errors.New("no users, or no victims for the attackers")
	}
	if cfg.ownIPs {
		if u, err := url.Parse(cfg.url); err != nil || !loopback(u.Hostname()) {
			return nil, fmt.Errorf("-own-ips needs a server on 127.0.0.1 or localhost, not %s: use -own-ips=false", cfg.url)
		}
	}
	var transports []*http.Transport
	defer func() {
		for _, t := range transports {
			t.CloseIdleConnections()
		}
	}()
	// client is the HTTP client of the i-th virtual user of a block: 1 for
	// the users, 2 for the attackers; with ownIPs it connects from
	// 127.block.x.y. Without, all share one client.
	var shared *http.Client
	client := func(block, i int) *http.Client {
		if shared != nil {
			return shared
		}
		dialer := &net.Dialer{Timeout: cfg.timeout, KeepAlive: 30 * time.Second}
		if cfg.ownIPs {
			i++ // from 127.block.0.1
			dialer.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, byte(block), byte(i>>8), byte(i))}
		}
		t := &http.Transport{
			DialContext:         dialer.DialContext,
			MaxIdleConns:        cfg.vus + cfg.attackers,
			MaxIdleConnsPerHost: cfg.vus + cfg.attackers,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		}
		transports = append(transports, t)
		c := &http.Client{Transport: t, Timeout: cfg.timeout}
		if !cfg.ownIPs {
			shared = c
		}
		return c
	}
	if err := healthy(ctx, client(1, 0), cfg.url); err != nil {
		return nil, err
	}

	done := make(chan struct{})
	recs := make([]*recorder, cfg.vus, cfg.vus+cfg.attackers)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range cfg.attackers {
		rec := newRecorder()
		recs = append(recs, rec)
		v := &vu{cfg: cfg, client: client(2, i), rec: rec}
		wg.Go(func() { v.attack(done, i) })
	}
	for i := range cfg.vus {
		recs[i] = newRecorder()
		v := &vu{cfg: cfg, client: client(1, i), rec: recs[i], user: cfg.users[i%len(cfg.users)]}
		recs[i].attacked = slices.Contains(cfg.victims, v.user.name)
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
	return newReport(cfg, recs, time.Since(start)), nil
}

// loopback reports whether host is localhost or an IPv4 loopback address,
// which a client can reach from any address of 127.0.0.0/8.
func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.To4() != nil && ip.IsLoopback())
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
	cfg        config
	elapsed    time.Duration
	rows       []row
	total      int
	unexpected int
	samples    []string

	logins    [2]logins     // of the users: [0] accounts the attackers leave alone, [1] the accounts they target
	othersP99 time.Duration // of the users' requests other than login
	attacks   int           // requests of the attackers
	answers   map[string]int
}

// logins sums up the logins of a group of users.
type logins struct {
	tried, ok, refused int
	p50, p99           time.Duration // of the successful ones
}

// row is one route of the report.
type row struct {
	route              string
	count, unexpected  int
	rps                float64
	p50, p95, p99, max time.Duration
}

func newReport(cfg config, recs []*recorder, elapsed time.Duration) *report {
	rep := &report{cfg: cfg, elapsed: elapsed, answers: map[string]int{}}
	routes := routes
	if cfg.attackers > 0 {
		routes = append(routes[:len(routes):len(routes)], routeAttack)
	}
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
	var loggedIn [2][]time.Duration
	var others []time.Duration
	for _, rec := range recs {
		for _, s := range rec.samples {
			if len(rep.samples) < maxSamples {
				rep.samples = append(rep.samples, s)
			}
		}
		g := 0
		if rec.attacked {
			g = 1
		}
		rep.logins[g].tried += rec.logins
		rep.logins[g].ok += len(rec.loggedIn)
		rep.logins[g].refused += rec.refused
		loggedIn[g] = append(loggedIn[g], rec.loggedIn...)
		for _, route := range routes[1:] {
			if route != routeAttack {
				others = append(others, rec.latencies[route]...)
			}
		}
		rep.attacks += len(rec.latencies[routeAttack])
		for k, n := range rec.answers {
			rep.answers[k] += n
		}
	}
	for g := range loggedIn {
		slices.Sort(loggedIn[g])
		rep.logins[g].p50, rep.logins[g].p99 = percentile(loggedIn[g], 50), percentile(loggedIn[g], 99)
	}
	slices.Sort(others)
	rep.othersP99 = percentile(others, 99)
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

// compareRuns lays the users' logins, their other requests and the
// attackers' responses of reps out side by side, one column per run; the
// first row names the columns.
func compareRuns(reps []*report) [][]string {
	cfg := reps[0].cfg
	var left, attacked []string // the users' accounts, by whether the attackers target them
	for _, u := range cfg.users {
		if slices.Contains(cfg.victims, u.name) {
			attacked = append(attacked, u.name)
		} else {
			left = append(left, u.name)
		}
	}
	rows := [][]string{{""}}
	add := func(label string, cell func(*report) string) {
		r := []string{label}
		for _, rep := range reps {
			r = append(r, cell(rep))
		}
		rows = append(rows, r)
	}
	for _, rep := range reps {
		rows[0] = append(rows[0], fmt.Sprintf("%d attackers", rep.cfg.attackers))
	}
	for g, names := range [][]string{left, attacked} {
		if len(names) == 0 {
			continue
		}
		what := "accounts not attacked"
		if g == 1 {
			what = "attacked accounts"
		}
		add(fmt.Sprintf("user logins, %s (%s): ok / tried", what, strings.Join(names, ", ")), func(rep *report) string {
			l := rep.logins[g]
			return fmt.Sprintf("%d / %d (%s)", l.ok, l.tried, rate(l.ok, l.tried))
		})
		add("  refused 429", func(rep *report) string { return strconv.Itoa(rep.logins[g].refused) })
		add("  p50 / p99 ms of the successful", func(rep *report) string {
			if rep.logins[g].ok == 0 {
				return "-"
			}
			return ms(rep.logins[g].p50) + " / " + ms(rep.logins[g].p99)
		})
	}
	add("user requests other than login: p99 ms", func(rep *report) string { return ms(rep.othersP99) })
	add("attacker requests (req/s)", func(rep *report) string {
		return fmt.Sprintf("%d (%.0f)", rep.attacks, float64(rep.attacks)/rep.elapsed.Seconds())
	})
	var answers []string
	for _, rep := range reps {
		for k := range rep.answers {
			if !slices.Contains(answers, k) {
				answers = append(answers, k)
			}
		}
	}
	slices.Sort(answers)
	for _, k := range answers {
		add("  "+k, func(rep *report) string { return strconv.Itoa(rep.answers[k]) })
	}
	add("unexpected responses", func(rep *report) string { return strconv.Itoa(rep.unexpected) })
	return rows
}

// rate formats ok of n as a percentage.
func rate(ok, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(ok)/float64(n))
}

// printTable prints rows, the first one the header, as text or Markdown.
func printTable(w io.Writer, markdown bool, rows [][]string) {
	if markdown {
		for i, r := range rows {
			fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
			if i == 0 {
				fmt.Fprintf(w, "|---%s|\n", strings.Repeat("|--:", len(r)-1))
			}
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t\n", strings.Join(r, "\t"))
	}
	_ = tw.Flush()
}
