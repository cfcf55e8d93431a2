package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

// Settings of the instances.
const (
	storeTimeout = time.Second            // redisstore.WithTimeout
	ackTimeout   = 500 * time.Millisecond // redisstore.WithReplicaAcks(1, ackTimeout)
	nearCacheTTL = time.Second            // redisstore.WithNearCache(0, nearCacheTTL): the documented propagation bound
	httpTimeout  = 5 * time.Second        // how long a client waits for an answer
)

// secret is the HMAC key every instance signs and verifies with.
var secret = []byte("chaos-0123456789abcdef0123456789")

// Config tunes a run.
type Config struct {
	Duration  time.Duration // how long faults are injected
	Seed      uint64        // seeds every random choice but Go's scheduling
	Clients   int           // virtual clients per fleet
	Users     int           // subjects per fleet
	Instances int           // app instances per fleet; odd ones have the near-cache
	// Faults, when not empty, names the fault kinds to inject; others are
	// left out. For reproducing one kind of fault.
	Faults []string
	// HistoryDir, when not empty, is a directory where each fleet's whole
	// history is written, one operation a line in the order checked, to
	// <topology>-<fleet>.log.
	HistoryDir string
	// Debug makes every instance note, whenever its store finds no session,
	// what each data node holds for it (see debugStore); findings of rule
	// (d) show the notes. It costs extra reads.
	Debug bool
}

// Instance is one app instance: its own Redis client, store, Auth and HTTP
// server.
type Instance struct {
	ID   int
	Near bool
	net  *netFault
	auth *ginjwt.Auth
	url  string
}

// Fleet is a set of instances sharing a key prefix, users and a history:
// one deployment of the app, with replica acks on or off.
type Fleet struct {
	Name      string
	Acks      bool
	Instances []*Instance
	History   *History
	users     []string
	http      *http.Client
	pool      tokenPool
	pairs     atomic.Uint64
	notes     *notes // nil unless Config.Debug
}

// newFleet starts cfg.Instances instances on topo under prefix.
func newFleet(t testing.TB, name string, acks bool, topo *Topology, prefix string, cfg Config) *Fleet {
	t.Helper()
	f := &Fleet{
		Name: name, Acks: acks, History: &History{},
		http: &http.Client{Timeout: httpTimeout, Transport: &http.Transport{
			MaxIdleConns: 256, MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute,
		}},
	}
	t.Cleanup(f.http.CloseIdleConnections)
	for i := range cfg.Users {
		f.users = append(f.users, fmt.Sprintf("user%02d", i))
	}
	if cfg.Debug {
		f.notes = &notes{}
	}
	for i := range cfg.Instances {
		f.Instances = append(f.Instances, newInstance(t, i, i%2 == 1, acks, topo, prefix, f.notes))
	}
	return f
}

// newInstance starts one instance whose go-redis client dials through its
// own netFault; with notes, its store is wrapped in a debugStore.
func newInstance(t testing.TB, id int, near, acks bool, topo *Topology, prefix string, notes *notes) *Instance {
	t.Helper()
	nf := newNetFault()
	client := topo.Backend.NewClient(&redis.UniversalOptions{MaxRetries: -1, ContextTimeoutEnabled: true, Dialer: nf.dial})
	opts := []redisstore.Option{redisstore.WithPrefix(prefix), redisstore.WithTimeout(storeTimeout)}
	if acks {
		opts = append(opts, redisstore.WithReplicaAcks(1, ackTimeout))
	}
	if near {
		opts = append(opts, redisstore.WithNearCache(0, nearCacheTTL))
	}
	store, err := redisstore.New(client, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var st ginjwt.Store = store
	if notes != nil {
		st = &debugStore{Store: store, inst: id, prefix: prefix, nodes: topo.DataNodes, notes: notes}
	}
	auth, err := ginjwt.New(ginjwt.Options{
		Store: st,
		Keys:  []ginjwt.Key{ginjwt.HS256(secret)},
		// The history checker explains every refusal by a revocation it
		// saw: no session limit or rate limit may end or refuse anything.
		MaxSessions: 1000,
		Limits:      ginjwt.Limits{Off: true},
		Authenticate: func(c *gin.Context) (ginjwt.Identity, error) {
			var body struct {
				Username string `json:"username"`
			}
			if err := c.ShouldBindJSON(&body); err != nil || body.Username == "" {
				return ginjwt.Identity{}, ginjwt.ErrBadRequest
			}
			return ginjwt.Identity{Subject: body.Username}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	if err := r.SetTrustedProxies(nil); err != nil {
		t.Fatal(err)
	}
	r.POST("/auth/login", auth.LoginHandler())
	r.POST("/auth/refresh", auth.RefreshHandler())
	r.POST("/auth/logout", auth.LogoutHandler())
	r.GET("/api/me", auth.Middleware(), func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	srv := httptest.NewServer(r)
	// Cleanups run last-in first-out: the server stops before the store,
	// the store before its client.
	t.Cleanup(func() { _ = client.Close() })
	t.Cleanup(func() { _ = store.Close() })
	t.Cleanup(srv.Close)
	return &Instance{ID: id, Near: near, net: nf, auth: auth, url: srv.URL}
}

// request is one HTTP request of the workload.
type request struct {
	kind     OpKind
	client   int
	inst     *Instance
	user     string // the subject, for a login
	raw      string // the token presented, if any
	tok      Token
	bearer   bool   // the token goes into the Authorization header, else into the JSON body
	scope    string // logout scope
	pair     uint64
	response *ginjwt.TokenResponse // filled in by a 200 login or refresh
}

// send sends r, records it in the history and returns the recorded op.
func (f *Fleet) send(ctx context.Context, r *request) Op {
	op := Op{Kind: r.kind, Client: r.client, Instance: r.inst.ID, Near: r.inst.Near, User: r.user, Tok: r.tok, Pair: r.pair}
	if !r.tok.IsZero() {
		op.User = r.tok.Subject
	}
	method, path, body := http.MethodPost, "", ""
	switch r.kind {
	case OpLogin:
		path, body = "/auth/login", jsonBody("username", r.user)
	case OpGuard, OpProbe:
		method, path = http.MethodGet, "/api/me"
	case OpRefresh, OpReplay:
		path, body = "/auth/refresh", jsonBody("refresh_token", r.raw)
	default:
		path = "/auth/logout?scope=" + r.scope
		if !r.bearer {
			body = jsonBody("refresh_token", r.raw)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, r.inst.url+path, strings.NewReader(body))
	if err != nil {
		panic(err) // a bug of the workload
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.bearer {
		req.Header.Set("Authorization", "Bearer "+r.raw)
	}
	op.Start = time.Now()
	res, err := f.http.Do(req)
	if err == nil {
		var b []byte
		b, err = io.ReadAll(res.Body)
		_ = res.Body.Close()
		op.End = time.Now()
		op.Status = res.StatusCode
		if err == nil {
			op.Code, op.Issued, r.response = decodeAnswer(res.StatusCode, b)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			// The run is over: not an answer the checker should see.
			return op
		}
		op.End = time.Now()
		op.Err = err.Error()
	}
	f.History.Add(op)
	return op
}

// decodeAnswer reads the specific error code (the refresh route's "reason",
// else "error"), or the tokens of a 200 token response.
func decodeAnswer(status int, body []byte) (code string, issued Token, tokens *ginjwt.TokenResponse) {
	if status == http.StatusOK {
		var tr ginjwt.TokenResponse
		if json.Unmarshal(body, &tr) == nil && tr.AccessToken != "" {
			if tok, err := parseToken(tr.AccessToken); err == nil {
				return "", tok, &tr
			}
		}
		return "", Token{}, nil
	}
	var e ginjwt.ErrorResponse
	_ = json.Unmarshal(body, &e)
	return e.Code(), Token{}, nil
}

// jsonBody is {"name": value}.
func jsonBody(name, value string) string {
	b, _ := json.Marshal(map[string]string{name: value})
	return string(b)
}

// revokeUser calls Auth.RevokeUser through inst and records it.
func (f *Fleet) revokeUser(ctx context.Context, inst *Instance, user string) {
	op := Op{Kind: OpRevokeUser, Client: clientAdmin, Instance: inst.ID, Near: inst.Near, User: user, Start: time.Now()}
	err := inst.auth.RevokeUser(ctx, user)
	op.End = time.Now()
	switch {
	case ctx.Err() != nil:
		return
	case err == nil:
		op.Status = http.StatusNoContent
	case errors.Is(err, ginjwt.ErrStoreUnavailable):
		op.Status, op.Code = http.StatusServiceUnavailable, ginjwt.ErrorCode(err)
	default:
		op.Status, op.Code = http.StatusInternalServerError, err.Error()
	}
	f.History.Add(op)
}

// pair is an access and a refresh token issued together, with their claims.
type pair struct {
	access, refresh string
	acc, ref        Token
}

// pairOf reads the tokens of a token response.
func pairOf(tr *ginjwt.TokenResponse) (pair, bool) {
	acc, err1 := parseToken(tr.AccessToken)
	ref, err2 := parseToken(tr.RefreshToken)
	if err1 != nil || err2 != nil {
		return pair{}, false
	}
	return pair{tr.AccessToken, tr.RefreshToken, acc, ref}, true
}

// tokenPool keeps the last pairs issued in a fleet, for replays.
type tokenPool struct {
	mu    sync.Mutex
	pairs []pair
	next  int
}

const poolSize = 512

func (p *tokenPool) add(pr pair) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.pairs) < poolSize {
		p.pairs = append(p.pairs, pr)
		return
	}
	p.pairs[p.next] = pr
	p.next = (p.next + 1) % poolSize
}

// all returns a copy of the pool.
func (p *tokenPool) all() []pair {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.pairs)
}

func (p *tokenPool) pick(rng *rand.Rand) (pair, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.pairs) == 0 {
		return pair{}, false
	}
	return p.pairs[rng.IntN(len(p.pairs))], true
}

// vclient is a virtual client: one user's app on one device, holding the
// tokens of its session. Like the JS client it keeps its tokens through
// 503s and network errors and retries later; it refreshes when the guard
// refuses its access token and logs in again when the refresh is refused.
type vclient struct {
	f    *Fleet
	id   int
	rng  *rand.Rand
	user string
	cur  *pair // nil when logged out
	// stale is set when the guard refused the access token: refresh next.
	stale bool
}

// instance picks a random instance.
func (c *vclient) instance() *Instance { return c.f.Instances[c.rng.IntN(len(c.f.Instances))] }

// run loops until ctx ends.
func (c *vclient) run(ctx context.Context) {
	for ctx.Err() == nil {
		c.step(ctx)
		sleep(ctx, time.Duration(2+c.rng.IntN(8))*time.Millisecond)
	}
}

// step does one thing.
func (c *vclient) step(ctx context.Context) {
	if c.cur == nil {
		if c.user == "" || c.rng.IntN(4) == 0 {
			c.user = c.f.users[c.rng.IntN(len(c.f.users))]
		}
		c.login(ctx)
		return
	}
	if c.stale {
		c.refresh(ctx)
		return
	}
	switch p := c.rng.Float64(); {
	case p < 0.50:
		c.guard(ctx)
	case p < 0.66:
		c.probe(ctx)
	case p < 0.68:
		c.replay(ctx)
	case p < 0.84:
		c.refresh(ctx)
	case p < 0.90:
		c.logoutLocal(ctx)
	case p < 0.93:
		c.logoutWide(ctx, ginjwt.ScopeOthers)
	case p < 0.95:
		c.logoutWide(ctx, ginjwt.ScopeGlobal)
	default:
		// The app is closed with the session still open: its tokens stay
		// in the pool for replays, and the device logs in again later.
		c.cur = nil
	}
}

// unavailable reports whether op failed for want of Redis, or of an answer:
// the client keeps its tokens and tries again later.
func unavailable(op Op) bool { return op.Err != "" || op.Status == http.StatusServiceUnavailable }

// backoff waits a little after a 503, as a client would.
func (c *vclient) backoff(ctx context.Context) {
	sleep(ctx, time.Duration(20+c.rng.IntN(60))*time.Millisecond)
}

func (c *vclient) login(ctx context.Context) {
	r := &request{kind: OpLogin, client: c.id, inst: c.instance(), user: c.user}
	op := c.f.send(ctx, r)
	if op.Status == http.StatusOK && r.response != nil {
		if p, ok := pairOf(r.response); ok {
			c.adopt(p)
			return
		}
	}
	c.backoff(ctx)
}

// adopt makes p the client's tokens and puts it in the pool.
func (c *vclient) adopt(p pair) {
	c.cur, c.stale = &p, false
	c.f.pool.add(p)
}

func (c *vclient) guard(ctx context.Context) {
	op := c.f.send(ctx, &request{kind: OpGuard, client: c.id, inst: c.instance(), raw: c.cur.access, tok: c.cur.acc, bearer: true})
	switch {
	case op.Status == http.StatusUnauthorized:
		c.stale = true
	case unavailable(op):
		c.backoff(ctx)
	}
}

// probe replays an access token from the pool, of any session.
func (c *vclient) probe(ctx context.Context) {
	if p, ok := c.f.pool.pick(c.rng); ok {
		c.f.send(ctx, &request{kind: OpProbe, client: c.id, inst: c.instance(), raw: p.access, tok: p.acc, bearer: true})
	}
}

// replay presents a refresh token from the pool, of any session, as a
// thief would; whatever it gets, it throws away.
func (c *vclient) replay(ctx context.Context) {
	if p, ok := c.f.pool.pick(c.rng); ok {
		c.f.send(ctx, &request{kind: OpReplay, client: c.id, inst: c.instance(), raw: p.refresh, tok: p.ref})
	}
}

// refresh refreshes, a quarter of the time twice at once through two
// instances with the same refresh token, as two tabs of one app do.
func (c *vclient) refresh(ctx context.Context) {
	cur := *c.cur
	n, id := 1, uint64(0)
	if c.rng.IntN(4) == 0 {
		n, id = 2, c.f.pairs.Add(1)
	}
	reqs := make([]*request, n)
	ops := make([]Op, n)
	first := c.rng.IntN(len(c.f.Instances))
	for i := range reqs {
		inst := c.f.Instances[(first+i)%len(c.f.Instances)]
		reqs[i] = &request{kind: OpRefresh, client: c.id, inst: inst, raw: cur.refresh, tok: cur.ref, pair: id}
	}
	if n == 1 {
		ops[0] = c.f.send(ctx, reqs[0])
	} else {
		var wg sync.WaitGroup
		for i := range reqs {
			wg.Go(func() { ops[i] = c.f.send(ctx, reqs[i]) })
		}
		wg.Wait()
	}
	refused := false
	for i, op := range ops {
		if op.Status == http.StatusOK && reqs[i].response != nil {
			if p, ok := pairOf(reqs[i].response); ok {
				c.adopt(p)
				return
			}
		}
		if op.Status == http.StatusBadRequest { // invalid_grant
			refused = true
		}
	}
	if refused {
		c.cur = nil // the session is over: log in again
		return
	}
	c.backoff(ctx)
}

// logoutLocal logs out with the access token or the refresh token.
func (c *vclient) logoutLocal(ctx context.Context) {
	r := &request{kind: OpLogoutLocal, client: c.id, inst: c.instance(), scope: ginjwt.ScopeLocal}
	if c.rng.IntN(2) == 0 {
		r.raw, r.tok, r.bearer = c.cur.access, c.cur.acc, true
	} else {
		r.raw, r.tok = c.cur.refresh, c.cur.ref
	}
	op := c.f.send(ctx, r)
	if unavailable(op) {
		c.backoff(ctx)
		return
	}
	c.cur = nil
}

// logoutWide logs out of every other session (scope others) or of every
// session (scope global) of the user.
func (c *vclient) logoutWide(ctx context.Context, scope string) {
	kind := OpLogoutOthers
	if scope == ginjwt.ScopeGlobal {
		kind = OpLogoutGlobal
	}
	op := c.f.send(ctx, &request{kind: kind, client: c.id, inst: c.instance(), raw: c.cur.access, tok: c.cur.acc, bearer: true, scope: scope})
	switch {
	case unavailable(op):
		c.backoff(ctx)
	case op.Status == http.StatusUnauthorized:
		c.stale = true
	case scope == ginjwt.ScopeGlobal:
		c.cur = nil
	}
}

// admin calls RevokeUser on a random user every few hundred milliseconds,
// as a password change or an operator would.
func (f *Fleet) admin(ctx context.Context, rng *rand.Rand) {
	for ctx.Err() == nil {
		sleep(ctx, time.Duration(200+rng.IntN(500))*time.Millisecond)
		if ctx.Err() != nil {
			return
		}
		f.revokeUser(ctx, f.Instances[rng.IntN(len(f.Instances))], f.users[rng.IntN(len(f.users))])
	}
}

// probeUsers are the subjects the recovery prober logs in, per instance:
// several, so that on a Cluster they spread over the masters. The workload
// never touches them.
const probeUsers = 6

// recover logs in and calls the guarded route through inst, with each of
// its probe users, until all succeed or ctx ends; it returns when they
// did, or false.
func (f *Fleet) recover(ctx context.Context, inst *Instance) (time.Time, bool) {
	for ctx.Err() == nil {
		ok := true
		for u := range probeUsers {
			r := &request{kind: OpLogin, client: clientRecovery, inst: inst, user: fmt.Sprintf("probe-%d-%d", inst.ID, u)}
			if op := f.send(ctx, r); op.Status != http.StatusOK || r.response == nil {
				ok = false
				break
			}
			p, parsed := pairOf(r.response)
			if !parsed {
				ok = false
				break
			}
			op := f.send(ctx, &request{kind: OpGuard, client: clientRecovery, inst: inst, raw: p.access, tok: p.acc, bearer: true})
			if op.Status != http.StatusOK {
				ok = false
				break
			}
		}
		if ok {
			return time.Now(), true
		}
		sleep(ctx, 20*time.Millisecond)
	}
	return time.Time{}, false
}

// auditWorkers is how many requests at once an audit sends per fleet.
const auditWorkers = 4

// audit presents each access token of pairs once to the guard, through the
// instances in turn: after a fault, a revocation that the fault lost shows
// as an accepted token.
func (f *Fleet) audit(ctx context.Context, pairs []pair) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range auditWorkers {
		wg.Go(func() {
			for i := range next {
				inst := f.Instances[i%len(f.Instances)]
				f.send(ctx, &request{kind: OpProbe, client: clientAudit, inst: inst, raw: pairs[i].access, tok: pairs[i].acc, bearer: true})
			}
		})
	}
	for i := range pairs {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
