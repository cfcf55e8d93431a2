// Command capacity measures what one Redis server needs for jwtguard's
// sessions: memory per user and per session, and the Redis CPU time of a
// guard check (Store.State), a refresh (Store.Rotate) and a login
// (Store.CreateSession). docs/capacity.md turns the figures into a sizing
// model.
//
// It starts a redis-server of its own (-redis-server, on -addr; nothing is
// saved to disk), empties it, and stops it at the end. It never touches
// another server: when something already listens on -addr it stops.
//
// Phase 1, memory: for each of four loads — -users users with one session
// each, then with -sessions-per-user each, both without client info (no
// device label, IP or User-Agent, as with Options.OmitClientInfo and no
// device) and with it — a fresh server is started, and INFO memory's
// used_memory, less the connections' buffers (mem_clients_normal), is read
// before and after the load. Two loads of the same kind give the bytes per
// user and per session:
//
//	M1  = users × (U + S)       (one session per user)
//	Mk  = users × (U + k × S)   (k sessions per user)
//	S   = (Mk − M1) / ((k − 1) × users),  U = M1/users − S
//
// S0 and U0 are the same without the bucket arrays of the key space and
// expiry dictionaries (DEBUG HTSTATS), which grow by doubling and so depend
// on the key count. The loads themselves measure logins: CreateSession calls per second and
// Redis CPU seconds per call.
//
// Phase 2, guard checks: -workers goroutines call State (no near-cache) on
// random sessions of the last load for -duration. Phase 3, refreshes: the
// same with Rotate, built as ginjwt's refresh handler builds it with the
// default options, each goroutine rotating its own share of the sessions.
//
// Redis CPU comes from INFO cpu (used_cpu_user + used_cpu_sys, the whole
// process) over each phase, and per-command times from INFO commandstats
// after CONFIG RESETSTAT. "Per core" figures are operations per Redis CPU
// second: what one fully used core would serve, since one Redis server
// executes commands on one thread. The client runs on the same machine
// and competes for its cores, so the operations per wall-clock second are
// lower than the per-core figures.
//
// Usage, from the bench directory:
//
//	go run ./capacity                         # 100,000 users × 10 sessions, 20 s per phase
//	go run ./capacity -users 10000 -duration 5s
//
// or capacity/run.sh, which also saves the output under results/.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

// userAgent is a desktop Chrome User-Agent header of 111 bytes. ginjwt's
// handlers store its first 64 bytes (see ginjwt.ClientInfo), and so does
// this program.
const userAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"

// storedUALen is what ginjwt keeps of a User-Agent header.
const storedUALen = 64

// device is the session label of the loads with client info.
const device = "Chrome 124 on Windows"

type config struct {
	addr        string
	redisServer string
	users       int
	perUser     int
	clientInfo  bool
	duration    time.Duration
	workers     int
	loadWorkers int
}

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:6390", "`host:port` of the redis-server this program starts")
	flag.StringVar(&cfg.redisServer, "redis-server", "redis-server", "the redis-server `binary`")
	flag.IntVar(&cfg.users, "users", 100_000, "users loaded")
	flag.IntVar(&cfg.perUser, "sessions-per-user", 10, "sessions per user in the full loads (≥ 2)")
	flag.BoolVar(&cfg.clientInfo, "client-info", true, "whether the sessions of phases 2 and 3 carry client info (device, IP, User-Agent)")
	flag.DurationVar(&cfg.duration, "duration", 20*time.Second, "length of each throughput phase")
	flag.IntVar(&cfg.workers, "workers", 64, "goroutines (and connections) of the throughput phases")
	flag.IntVar(&cfg.loadWorkers, "load-workers", 64, "goroutines (and connections) of the loads")
	flag.Parse()
	if cfg.users < 1 || cfg.perUser < 2 || cfg.workers < 1 || cfg.loadWorkers < 1 || cfg.duration <= 0 {
		fmt.Fprintln(os.Stderr, "capacity: need -users ≥ 1, -sessions-per-user ≥ 2, -workers ≥ 1, -load-workers ≥ 1, -duration > 0")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "capacity:", err)
		stop()
		os.Exit(1)
	}
}

// ---- the Redis server ---------------------------------------------------------

// server is a redis-server started by this program.
type server struct {
	cmd  *exec.Cmd
	dir  string
	done chan error
}

// startServer starts redis-server on addr with no persistence and waits
// until it answers. It refuses to start when something answers already.
func startServer(ctx context.Context, binary, addr string) (*server, error) {
	host, port, ok := strings.Cut(addr, ":")
	if !ok {
		return nil, fmt.Errorf("-addr %q: want host:port", addr)
	}
	if listening(addr) {
		return nil, fmt.Errorf("something already listens on %s; this program only uses a server it started", addr)
	}
	dir, err := os.MkdirTemp("", "jwtguard-capacity-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "--port", port, "--bind", host, "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--dir", dir, "--logfile", dir+"/redis.log", "--maxmemory-policy", "noeviction",
		"--enable-debug-command", "local")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s := &server{cmd: cmd, dir: dir, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if listening(addr) {
			return s, nil
		}
		select {
		case err := <-s.done:
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("redis-server exited: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			return nil, errors.New("redis-server did not answer within 10 s")
		}
	}
}

// listening reports whether a TCP connection to addr succeeds.
func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// stop ends the server (SIGTERM, then SIGKILL after 10 s) and removes its
// directory.
func (s *server) stop() {
	if s == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	_ = os.RemoveAll(s.dir)
}

// ---- INFO ---------------------------------------------------------------------

// info reads INFO section as key → value.
func info(ctx context.Context, rdb *redis.Client, section string) (map[string]string, error) {
	text, err := rdb.Info(ctx, section).Result()
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":"); ok {
			m[k] = v
		}
	}
	return m, nil
}

func num(m map[string]string, key string) float64 {
	f, _ := strconv.ParseFloat(m[key], 64)
	return f
}

// cpuSeconds is the Redis process' CPU time so far, user and system.
func cpuSeconds(ctx context.Context, rdb *redis.Client) (float64, error) {
	m, err := info(ctx, rdb, "cpu")
	if err != nil {
		return 0, err
	}
	return num(m, "used_cpu_user") + num(m, "used_cpu_sys"), nil
}

// cmdstat is one line of INFO commandstats.
type cmdstat struct {
	name        string
	calls       int64
	usec        int64
	usecPerCall float64
}

// commandStats reads INFO commandstats, most time first.
func commandStats(ctx context.Context, rdb *redis.Client) ([]cmdstat, error) {
	m, err := info(ctx, rdb, "commandstats")
	if err != nil {
		return nil, err
	}
	var out []cmdstat
	for k, v := range m {
		name, ok := strings.CutPrefix(k, "cmdstat_")
		if !ok || name == "info" || name == "config|resetstat" {
			continue
		}
		c := cmdstat{name: name}
		for _, f := range strings.Split(v, ",") {
			fk, fv, _ := strings.Cut(f, "=")
			switch fk {
			case "calls":
				c.calls, _ = strconv.ParseInt(fv, 10, 64)
			case "usec":
				c.usec, _ = strconv.ParseInt(fv, 10, 64)
			case "usec_per_call":
				c.usecPerCall, _ = strconv.ParseFloat(fv, 64)
			}
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b cmdstat) int { return int(b.usec - a.usec) })
	return out, nil
}

// buckets returns the bytes of the bucket arrays of db 0's key space and
// expiry dictionaries (8 per slot, from DEBUG HTSTATS), which grow by
// doubling: 8 to 16 bytes per key each, depending on where the key count
// stands between two powers of two.
func buckets(ctx context.Context, rdb *redis.Client) (int64, error) {
	text, err := rdb.Do(ctx, "DEBUG", "HTSTATS", "0").Text()
	if err != nil {
		return 0, err
	}
	var slots int64
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "table size:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			slots += n
		}
	}
	return 8 * slots, nil
}

// loadavg is /proc/loadavg's three load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// selfCPU is this process' CPU time so far.
func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// ---- measurement --------------------------------------------------------------

// meter measures one phase: operations, wall time, Redis and client CPU,
// command statistics.
type meter struct {
	name      string
	load      string // load averages before the phase
	start     time.Time
	cpu0, me0 float64

	ops, errs int64
	wall      time.Duration
	redisCPU  float64 // seconds
	clientCPU float64 // seconds
	stats     []cmdstat
}

func startMeter(ctx context.Context, rdb *redis.Client, name string) (*meter, error) {
	m := &meter{name: name, load: loadavg()}
	if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
		return nil, err
	}
	cpu, err := cpuSeconds(ctx, rdb)
	if err != nil {
		return nil, err
	}
	m.cpu0, m.me0, m.start = cpu, selfCPU(), time.Now()
	return m, nil
}

func (m *meter) stop(ctx context.Context, rdb *redis.Client, ops, errs int64) error {
	m.wall = time.Since(m.start)
	m.clientCPU = selfCPU() - m.me0
	cpu, err := cpuSeconds(ctx, rdb)
	if err != nil {
		return err
	}
	m.redisCPU = cpu - m.cpu0
	m.ops, m.errs = ops, errs
	m.stats, err = commandStats(ctx, rdb)
	return err
}

func (m *meter) perSecond() float64 { return float64(m.ops) / m.wall.Seconds() }
func (m *meter) perCore() float64   { return float64(m.ops) / m.redisCPU }
func (m *meter) usecPerOp() float64 { return m.redisCPU / float64(m.ops) * 1e6 }

// ---- the data set -------------------------------------------------------------

// dataset is what a load wrote: per user its subject and version, per
// session its id and current generation.
type dataset struct {
	users    int
	perUser  int
	client   bool
	subjects []string
	versions []int64
	ids      []string // user u's sessions are ids[u*perUser : (u+1)*perUser]
	gens     []int64
}

func subjectOf(u int) string { return fmt.Sprintf("user-%06d", u) }

// newID is a session id as ginjwt makes them: 16 random bytes, base64url.
func newID(r *rand.Rand) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, 22)
	for i := range b {
		b[i] = alphabet[r.IntN(64)]
	}
	b[21] = alphabet[r.IntN(16)*4] // 128 bits: the last character carries 2
	return string(b)
}

// clientFor is the client of user u's logins and refreshes.
func clientFor(withInfo bool, u int) (string, ginjwt.ClientInfo) {
	if !withInfo {
		return "", ginjwt.ClientInfo{}
	}
	ip := fmt.Sprintf("198.51.%d.%d", (u/250)%256, 1+u%250)
	return device, ginjwt.ClientInfo{IP: ip, UserAgent: userAgent[:storedUALen]}
}

// Options as ginjwt's defaults give them to the store.
const (
	refreshTTL    = 7 * 24 * time.Hour
	sessionMaxAge = 30 * 24 * time.Hour
)

// load logs perUser sessions in for each of users, from workers goroutines
// each taking whole users, as an app's logins arrive.
func load(ctx context.Context, store *redisstore.Store, users, perUser int, withInfo bool, workers int) (*dataset, int64, error) {
	d := &dataset{users: users, perUser: perUser, client: withInfo,
		subjects: make([]string, users), versions: make([]int64, users),
		ids: make([]string, users*perUser), gens: make([]int64, users*perUser)}
	var next, errs atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for ctx.Err() == nil {
				u := int(next.Add(1) - 1)
				if u >= users {
					return
				}
				sub := subjectOf(u)
				dev, client := clientFor(withInfo, u)
				d.subjects[u] = sub
				for i := range perUser {
					id := newID(r)
					res, err := store.CreateSession(ctx, sub, ginjwt.NewSession{
						ID: id, Device: dev, TTL: refreshTTL, MaxAge: sessionMaxAge,
						Client: client, Limit: ginjwt.DefaultMaxSessions,
					})
					if err != nil {
						errs.Add(1)
						first.CompareAndSwap(nil, err)
						continue
					}
					d.versions[u] = res.UserVersion
					d.ids[u*perUser+i] = id
					d.gens[u*perUser+i] = 1
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	if n := errs.Load(); n > 0 {
		return d, n, fmt.Errorf("%d logins failed, the first: %v", n, first.Load())
	}
	return d, 0, nil
}

// memResult is one load of phase 1.
type memResult struct {
	users, perUser int
	client         bool
	keys           int64
	buckets        int64 // of the dictionaries, after the load
	before, after  map[string]string
	login          *meter
}

func (r memResult) bytes() float64 { return stored(r.after) - stored(r.before) }

// stored is used_memory without the connections' buffers
// (mem_clients_normal), which vary with the traffic of the moment.
func stored(mem map[string]string) float64 {
	return num(mem, "used_memory") - num(mem, "mem_clients_normal")
}

// netBytes is bytes without the dictionaries' bucket arrays. The empty
// server's arrays are negligible.
func (r memResult) netBytes() float64 { return r.bytes() - float64(r.buckets) }

// ---- the run ------------------------------------------------------------------

func run(ctx context.Context, cfg config) error {
	began := time.Now()
	fmt.Printf("jwtguard capacity, %s\n", began.UTC().Format(time.RFC3339))
	fmt.Printf("host: %s, %d CPUs (GOMAXPROCS %d), %s\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), memTotal())
	fmt.Printf("flags: -users %d -sessions-per-user %d -client-info=%v -duration %v -workers %d -load-workers %d\n",
		cfg.users, cfg.perUser, cfg.clientInfo, cfg.duration, cfg.workers, cfg.loadWorkers)
	fmt.Printf("User-Agent with client info: %d bytes sent, %d stored; device %q; IPv4 addresses\n\n", len(userAgent), storedUALen, device)

	var (
		srv   *server
		rdb   *redis.Client
		store *redisstore.Store
	)
	closeAll := func() {
		if rdb != nil {
			_ = rdb.Close()
			rdb = nil
		}
		srv.stop()
		srv = nil
	}
	defer closeAll()
	// fresh starts a new server, so that each load's RSS and fragmentation
	// are its own, and warms it: connections open, scripts cached.
	fresh := func() error {
		closeAll()
		var err error
		if srv, err = startServer(ctx, cfg.redisServer, cfg.addr); err != nil {
			return err
		}
		pool := max(cfg.workers, cfg.loadWorkers) + 8
		rdb = redis.NewClient(&redis.Options{Addr: cfg.addr, PoolSize: pool, MinIdleConns: pool,
			ContextTimeoutEnabled: true, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second})
		if store, err = redisstore.New(rdb, redisstore.WithTimeout(10*time.Second)); err != nil {
			return err
		}
		var wg sync.WaitGroup
		for range pool {
			wg.Add(1)
			go func() { defer wg.Done(); _ = rdb.Ping(ctx).Err() }()
		}
		wg.Wait()
		if _, _, err := load(ctx, store, 1, 2, true, 1); err != nil { // caches the scripts
			return err
		}
		if _, _, err := store.State(ctx, subjectOf(0), "x"); err != nil {
			return err
		}
		if _, err := store.Rotate(ctx, subjectOf(0), "x", ginjwt.Rotation{}); err != nil {
			return err
		}
		return rdb.FlushAllAsync(ctx).Err()
	}

	// Phase 1: memory and logins.
	type variant struct {
		perUser int
		client  bool
	}
	variants := []variant{{1, false}, {1, true}, {cfg.perUser, !cfg.clientInfo}, {cfg.perUser, cfg.clientInfo}}
	results := map[variant]memResult{}
	var last *dataset
	for _, v := range variants {
		if err := fresh(); err != nil {
			return err
		}
		if err := settle(ctx, rdb); err != nil {
			return err
		}
		before, err := info(ctx, rdb, "memory")
		if err != nil {
			return err
		}
		name := fmt.Sprintf("login %d×%d %s", cfg.users, v.perUser, infoName(v.client))
		fmt.Printf("phase 1: %s; load average %s\n", name, loadavg())
		m, err := startMeter(ctx, rdb, name)
		if err != nil {
			return err
		}
		d, errs, err := load(ctx, store, cfg.users, v.perUser, v.client, cfg.loadWorkers)
		if err != nil {
			return err
		}
		if err := m.stop(ctx, rdb, int64(cfg.users*v.perUser), errs); err != nil {
			return err
		}
		if err := settle(ctx, rdb); err != nil {
			return err
		}
		after, err := info(ctx, rdb, "memory")
		if err != nil {
			return err
		}
		keys, err := rdb.DBSize(ctx).Result()
		if err != nil {
			return err
		}
		bucketBytes, err := buckets(ctx, rdb)
		if err != nil {
			return err
		}
		r := memResult{users: cfg.users, perUser: v.perUser, client: v.client, keys: keys, buckets: bucketBytes, before: before, after: after, login: m}
		results[v] = r
		fmt.Printf("  %d sessions in %v (%.0f/s), %d keys; used_memory %s → %s, without client buffers +%.1f MiB, %.1f B/session; used_memory_rss %s, mem_fragmentation_ratio %s\n",
			m.ops, m.wall.Round(time.Millisecond), m.perSecond(), keys, before["used_memory_human"], after["used_memory_human"],
			r.bytes()/(1<<20), r.bytes()/float64(m.ops), after["used_memory_rss_human"], after["mem_fragmentation_ratio"])
		fmt.Printf("  bucket arrays of the key space and expiry dictionaries: %.1f MiB (%.1f B/key); used_memory_overhead %s, used_memory_dataset %s\n",
			float64(bucketBytes)/(1<<20), float64(bucketBytes)/float64(keys), after["used_memory_overhead"], after["used_memory_dataset"])
		printMeter(m)
		last = d
	}

	// Phase 2: guard checks.
	fmt.Printf("\nphase 2: guard checks (State, no near-cache) on %d sessions %s, %d goroutines, %v; load average %s\n",
		len(last.ids), infoName(last.client), cfg.workers, cfg.duration, loadavg())
	check, err := hammer(ctx, rdb, "guard check", cfg, func(w int, r *rand.Rand) error {
		i := r.IntN(len(last.ids))
		u := i / last.perUser
		st, found, err := store.State(ctx, last.subjects[u], last.ids[i])
		if err != nil {
			return err
		}
		if !found || st.UserVersion != last.versions[u] {
			return fmt.Errorf("session %d: found %v, state %+v, want version %d", i, found, st, last.versions[u])
		}
		return nil
	})
	if err != nil {
		return err
	}
	printMeter(check)

	// Phase 3: refreshes. Worker w rotates the sessions i with i % workers
	// == w, so no session is rotated by two goroutines at once and each
	// knows its sessions' generations.
	grace, retries := ginjwt.DefaultRefreshGrace, ginjwt.DefaultRefreshRetries
	refreshLimit := ginjwt.DefaultRefreshPerSession
	if refreshLimit.Burst == 0 { // as ginjwt.Options fills it in: a burst of Count
		refreshLimit.Burst = refreshLimit.Count
	}
	var throttled atomic.Int64
	fmt.Printf("\nphase 3: refreshes (Rotate) on %d sessions %s, %d goroutines, %v; load average %s\n",
		len(last.ids), infoName(last.client), cfg.workers, cfg.duration, loadavg())
	refresh, err := hammer(ctx, rdb, "refresh", cfg, func(w int, r *rand.Rand) error {
		n := (len(last.ids) - w + cfg.workers - 1) / cfg.workers
		if n <= 0 {
			return nil
		}
		i := w + cfg.workers*r.IntN(n)
		u := i / last.perUser
		_, client := clientFor(last.client, u)
		res, err := store.Rotate(ctx, last.subjects[u], last.ids[i], ginjwt.Rotation{
			UserVersion: last.versions[u],
			Generation:  last.gens[i],
			Grace:       grace,
			Retries:     retries,
			ReuseAfter:  grace,
			TTL:         refreshTTL,
			MaxAge:      sessionMaxAge,
			Client:      client,
			Limit:       refreshLimit,
		})
		if err != nil {
			return err
		}
		switch res.Outcome {
		case ginjwt.Rotated:
			last.gens[i] = res.Generation
			return nil
		case ginjwt.Throttled:
			throttled.Add(1)
			return nil
		}
		return fmt.Errorf("session %d: rotate %v", i, res.Outcome)
	})
	if err != nil {
		return err
	}
	printMeter(refresh)
	if n := throttled.Load(); n > 0 {
		fmt.Printf("  %d refreshes throttled by the per-session limit (counted as operations)\n", n)
	}

	if err := settle(ctx, rdb); err != nil {
		return err
	}
	mem, err := info(ctx, rdb, "memory")
	if err != nil {
		return err
	}
	var rotated int
	for _, g := range last.gens {
		if g > 1 {
			rotated++
		}
	}
	loaded := results[variants[len(variants)-1]].after
	fmt.Printf("  after the refreshes: used_memory %s, used_memory_rss %s, mem_fragmentation_ratio %s; %d sessions refreshed at least once, +%.1f B each\n",
		mem["used_memory_human"], mem["used_memory_rss_human"], mem["mem_fragmentation_ratio"], rotated, (stored(mem)-stored(loaded))/float64(max(rotated, 1)))
	srvInfo, err := info(ctx, rdb, "server")
	if err != nil {
		return err
	}
	closeAll()

	summary(cfg, srvInfo, results[variant{1, false}], results[variant{cfg.perUser, false}],
		results[variant{1, true}], results[variant{cfg.perUser, true}], check, refresh)
	fmt.Printf("\ntotal run time %v; load average at the end %s\n", time.Since(began).Round(time.Second), loadavg())
	return nil
}

// settle waits for a lazy FLUSHALL to finish freeing and for the allocator
// statistics to catch up, so that used_memory is read at rest.
func settle(ctx context.Context, rdb *redis.Client) error {
	for range 100 {
		m, err := info(ctx, rdb, "memory")
		if err != nil {
			return err
		}
		if m["lazyfree_pending_objects"] == "0" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	return nil
}

// hammer runs op from cfg.workers goroutines for cfg.duration and measures
// it. The first error ends the phase.
func hammer(ctx context.Context, rdb *redis.Client, name string, cfg config, op func(w int, r *rand.Rand) error) (*meter, error) {
	m, err := startMeter(ctx, rdb, name)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	var ops, errs atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	for w := range cfg.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for ctx.Err() == nil {
				if err := op(w, r); err != nil {
					if ctx.Err() != nil { // the end of the phase cut the call
						return
					}
					errs.Add(1)
					first.CompareAndSwap(nil, err)
					cancel()
					return
				}
				ops.Add(1)
			}
		}()
	}
	wg.Wait()
	if err := m.stop(context.WithoutCancel(ctx), rdb, ops.Load(), errs.Load()); err != nil {
		return nil, err
	}
	if e := first.Load(); e != nil {
		return nil, fmt.Errorf("%s: %v", name, e)
	}
	return m, nil
}

func infoName(client bool) string {
	if client {
		return "with client info"
	}
	return "without client info"
}

// printMeter prints a phase's throughput, CPU and busiest commands.
func printMeter(m *meter) {
	fmt.Printf("  %s: %d ops in %.1f s = %.0f ops/s; Redis CPU %.2f s (%.0f%% of one core) = %.2f µs/op → %.0f ops per Redis CPU second; client CPU %.2f s\n",
		m.name, m.ops, m.wall.Seconds(), m.perSecond(), m.redisCPU, 100*m.redisCPU/m.wall.Seconds(), m.usecPerOp(), m.perCore(), m.clientCPU)
	for i, c := range m.stats {
		if i == 8 {
			break
		}
		fmt.Printf("    cmdstat %-10s calls %9d  usec_per_call %6.2f  calls/op %.2f\n", c.name, c.calls, c.usecPerCall, float64(c.calls)/float64(m.ops))
	}
}

// summary prints the results table.
func summary(cfg config, srv map[string]string, out1, outK, in1, inK memResult, check, refresh *meter) {
	solve := func(one, k memResult, bytes func(memResult) float64) (u, s float64) {
		s = (bytes(k) - bytes(one)) / float64((k.perUser-1)*k.users)
		u = bytes(one)/float64(one.users) - s
		return u, s
	}
	uOut, sOut := solve(out1, outK, memResult.bytes)
	uIn, sIn := solve(in1, inK, memResult.bytes)
	u0Out, s0Out := solve(out1, outK, memResult.netBytes)
	u0In, s0In := solve(in1, inK, memResult.netBytes)
	fmt.Printf("\nsummary: redis %s (%s), %d users\n", srv["redis_version"], inK.after["mem_allocator"], cfg.users)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "memory\twithout client info\twith client info\t")
	fmt.Fprintf(tw, "used_memory per session, %d per user (B)\t%.1f\t%.1f\t\n", cfg.perUser, outK.bytes()/float64(outK.users*outK.perUser), inK.bytes()/float64(inK.users*inK.perUser))
	fmt.Fprintf(tw, "used_memory per session, 1 per user (B)\t%.1f\t%.1f\t\n", out1.bytes()/float64(out1.users), in1.bytes()/float64(in1.users))
	fmt.Fprintf(tw, "S: per session (B)\t%.1f\t%.1f\t\n", sOut, sIn)
	fmt.Fprintf(tw, "U: per user (B)\t%.1f\t%.1f\t\n", uOut, uIn)
	fmt.Fprintf(tw, "S0: per session, without bucket arrays (B)\t%.1f\t%.1f\t\n", s0Out, s0In)
	fmt.Fprintf(tw, "U0: per user, without bucket arrays (B)\t%.1f\t%.1f\t\n", u0Out, u0In)
	fmt.Fprintf(tw, "bucket arrays per key, %d per user (B)\t%.1f\t%.1f\t\n", cfg.perUser, float64(outK.buckets)/float64(outK.keys), float64(inK.buckets)/float64(inK.keys))
	fmt.Fprintf(tw, "bucket arrays per key, 1 per user (B)\t%.1f\t%.1f\t\n", float64(out1.buckets)/float64(out1.keys), float64(in1.buckets)/float64(in1.keys))
	fmt.Fprintf(tw, "mem_fragmentation_ratio, %d per user\t%s\t%s\t\n", cfg.perUser, outK.after["mem_fragmentation_ratio"], inK.after["mem_fragmentation_ratio"])
	fmt.Fprintf(tw, "used_memory_rss, %d per user\t%s\t%s\t\n", cfg.perUser, outK.after["used_memory_rss_human"], inK.after["used_memory_rss_human"])
	_ = tw.Flush()
	fmt.Println()
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tops/s (this box)\tRedis CPU µs/op\tops per Redis core-second\tload avg before\t")
	for _, m := range []*meter{outK.login, inK.login, check, refresh} {
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.0f\t%s\t\n", m.name, m.perSecond(), m.usecPerOp(), m.perCore(), m.load)
	}
	_ = tw.Flush()
	fmt.Println()
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tcommand\tcalls/op\tusec_per_call\t")
	for _, m := range []*meter{inK.login, check, refresh} {
		for i, c := range m.stats {
			if i == 4 {
				break
			}
			fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\t\n", m.name, c.name, float64(c.calls)/float64(m.ops), c.usecPerCall)
		}
	}
	_ = tw.Flush()
}

// cpuModel is the first model name of /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// memTotal is /proc/meminfo's MemTotal.
func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown memory"
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return fmt.Sprintf("%.1f GiB RAM", kb/(1<<20))
		}
	}
	return "unknown memory"
}
