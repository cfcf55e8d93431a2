package redisstore

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/redis/go-redis/v9"
)

// Defaults of the near-cache.
const (
	DefaultNearCacheEntries = 100_000
	DefaultNearCacheTTL     = time.Second
)

// nearCachePing is how long a subscription may stay silent before it is
// pinged, and nearCachePong how long the reply may take before the
// subscription is treated as lost. A silent subscription is noticed within
// their sum; one whose connection fails, at once.
const (
	nearCachePing = 250 * time.Millisecond
	nearCachePong = time.Second
)

// stateCheckInterval is how often the near-cache checks that Redis still
// holds its state (see watchStateLoss).
const stateCheckInterval = 250 * time.Millisecond

// WithNearCache keeps the session state this process reads in a bounded
// local cache, so that a guard check of a recently seen session costs no
// round trip. It also keeps "not found" answers, so that a revoked or
// logged-out token presented again and again costs none either: a session
// found missing never comes back (see negative.go for the argument). Every
// mutation script publishes an invalidation on a Redis pub/sub channel
// (prefix + "invalidate"); the store subscribes and drops the entries it
// names, so a revocation through any instance reaches every instance within
// milliseconds.
//
// Safety: the cache is only used while the subscription is up; it is flushed
// whenever the subscription is (re)established, and bypassed while it is
// down. Each entry also expires after ttl, so that even a lost message keeps
// a revoked token alive for at most ttl. maxEntries bounds memory; zero
// values mean 100,000 entries and 1 second. The subscription starts with the
// store's first State call (New does no I/O); call Close to stop it.
//
// Plain pub/sub rather than RESP3 client tracking: it works the same on a
// single node, Sentinel and Cluster (messages reach subscribers on every
// node), on go-redis's pooled connections, and through proxies; tracking
// needs RESP3 and per-connection redirection that go-redis pools do not
// expose.
func WithNearCache(maxEntries int, ttl time.Duration) Option {
	return func(s *Store) error {
		if maxEntries < 0 || ttl < 0 {
			return errors.New("redisstore: near-cache size and TTL must not be negative")
		}
		if maxEntries == 0 {
			maxEntries = DefaultNearCacheEntries
		}
		if ttl == 0 {
			ttl = DefaultNearCacheTTL
		}
		s.near = &nearCache{max: maxEntries, ttl: ttl, base: time.Now(), users: map[string]map[string]cacheEntry{}, epochs: newEpochs()}
		return nil
	}
}

// nearCache is the local cache of session state behind WithNearCache.
type nearCache struct {
	max int
	ttl time.Duration
	// base is the near-cache's creation, the zero of its clock (see
	// since): entries expire by the monotonic clock alone.
	base time.Time

	// healthy is true while the invalidation subscription is up.
	healthy atomic.Bool
	// epochs advance with every invalidation and flush; a read from Redis
	// only fills the cache if nothing concerning its subject was
	// invalidated while it ran (see epochs.go).
	epochs *epochs

	mu    sync.RWMutex
	users map[string]map[string]cacheEntry // subject -> session id -> entry
	n     int

	started  sync.Once      // the subscription starts once, on first use
	watchers sync.WaitGroup // watchStateLoss
	stop     func()
	done     chan struct{}
	ps       atomic.Pointer[redis.PubSub] // the current subscription, closed by stop

	stats nearCacheCounters // see NearCacheStats
}

// cacheEntry is one State answer read from Redis: found with its state, or
// not found (a negative entry, see negative.go for why that is safe).
type cacheEntry struct {
	state   ginjwt.SessionState
	found   bool
	expires time.Duration // since base
}

// since returns the time since base on the monotonic clock. It is one
// clock read where time.Now is two (wall and monotonic), on the warm
// guard's path; only the monotonic reading was ever compared.
func (nc *nearCache) since() time.Duration { return time.Since(nc.base) }

// get returns a cached State answer, found or not, that has not expired;
// ok is false when there is none.
func (nc *nearCache) get(subject, sessionID string) (st ginjwt.SessionState, found, ok bool) {
	nc.mu.RLock()
	e, ok := nc.users[subject][sessionID]
	nc.mu.RUnlock()
	if !ok || nc.since() >= e.expires {
		return ginjwt.SessionState{}, false, false
	}
	return e.state, e.found, true
}

// put caches a State answer read from Redis, found or not, when the read
// started with ticket and nothing concerning subject was invalidated since;
// the entry expires ttl after started (a reading of since). Negative
// entries share the positive ones' bound, TTL, invalidations and flushes.
func (nc *nearCache) put(subject, sessionID string, st ginjwt.SessionState, found bool, ticket fillTicket, started time.Duration) {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if !nc.healthy.Load() || !nc.epochs.valid(ticket) {
		return
	}
	if nc.n >= nc.max {
		nc.shrink()
	}
	sessions := nc.users[subject]
	if sessions == nil {
		sessions = map[string]cacheEntry{}
		nc.users[subject] = sessions
	}
	if _, exists := sessions[sessionID]; !exists {
		nc.n++
	}
	sessions[sessionID] = cacheEntry{state: st, found: found, expires: started + nc.ttl}
}

// shrink drops expired entries and, if that is not enough, whole subjects
// until an eighth of the room is free. The caller holds mu.
func (nc *nearCache) shrink() {
	now := nc.since()
	for subject, sessions := range nc.users {
		for id, e := range sessions {
			if now >= e.expires {
				delete(sessions, id)
				nc.n--
			}
		}
		if len(sessions) == 0 {
			delete(nc.users, subject)
		}
	}
	for subject, sessions := range nc.users {
		if nc.n < nc.max-nc.max/8 {
			break
		}
		nc.n -= len(sessions)
		delete(nc.users, subject)
	}
}

// invalidate handles one message: "<b64 subject>" drops every session of the
// subject, "<b64 subject> <session id>" one session.
func (nc *nearCache) invalidate(payload string) {
	b64Subject, sessionID, one := strings.Cut(payload, " ")
	raw, err := base64.RawURLEncoding.DecodeString(b64Subject)
	nc.stats.invalidations.Add(1)
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if err != nil {
		nc.flushLocked() // unreadable: drop everything rather than guess
		return
	}
	nc.epochs.invalidate(string(raw))
	if !one {
		sessionID = ""
	}
	nc.dropLocked(string(raw), sessionID)
}

// dropLocked drops one session of subject, or all of them when sessionID is
// empty. The caller holds mu.
func (nc *nearCache) dropLocked(subject, sessionID string) {
	sessions := nc.users[subject]
	if sessionID == "" {
		nc.n -= len(sessions)
		delete(nc.users, subject)
	} else if _, ok := sessions[sessionID]; ok {
		delete(sessions, sessionID)
		nc.n--
	}
}

// forget drops the entries a mutation of this process changed, right after
// it, so the process reads its own writes without waiting for the message.
// An empty sessionID drops the whole subject.
func (s *Store) forget(subject, sessionID string) {
	if s.near == nil {
		return
	}
	s.near.mu.Lock()
	defer s.near.mu.Unlock()
	s.near.epochs.invalidate(subject)
	s.near.dropLocked(subject, sessionID)
}

func (nc *nearCache) flushLocked() {
	nc.stats.flushes.Add(1)
	nc.epochs.flush()
	clear(nc.users)
	nc.n = 0
}

// setHealthy flushes the cache and marks the subscription up or down.
func (nc *nearCache) setHealthy(up bool) {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	nc.flushLocked()
	nc.healthy.Store(up)
}

// startOnce starts the subscription unless it was started or stopped before.
func (nc *nearCache) startOnce(client redis.UniversalClient, channel string) {
	nc.started.Do(func() { nc.start(client, channel) })
}

// start runs the subscription, and the check for lost state, until stopped.
func (nc *nearCache) start(client redis.UniversalClient, channel string) {
	ctx, cancel := context.WithCancel(context.Background())
	nc.done = make(chan struct{})
	nc.stop = func() {
		cancel()
		if ps := nc.ps.Load(); ps != nil {
			_ = ps.Close() // unblocks a pending receive
		}
	}
	nc.watchers.Add(1)
	go func() {
		defer nc.watchers.Done()
		nc.watchStateLoss(ctx, client, channel+":alive")
	}()
	go func() {
		defer close(nc.done)
		defer nc.watchers.Wait()
		backoff := 50 * time.Millisecond
		for ctx.Err() == nil {
			ps := client.Subscribe(ctx, channel)
			nc.ps.Store(ps)
			if ctx.Err() != nil {
				_ = ps.Close()
				break
			}
			if nc.listen(ctx, ps) {
				backoff = 50 * time.Millisecond
			}
			_ = ps.Close()
			nc.setHealthy(false)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
		}
	}()
}

// listen handles messages until the subscription fails, and reports whether
// it was ever up.
func (nc *nearCache) listen(ctx context.Context, ps *redis.PubSub) (wasUp bool) {
	pinged := false
	for {
		wait := nearCachePing
		if pinged {
			wait = nearCachePong
		}
		msg, err := ps.ReceiveTimeout(ctx, wait)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !pinged && ctx.Err() == nil {
				pinged = true
				if ps.Ping(ctx) == nil {
					continue
				}
			}
			// Bypass the cache now: go-redis may still be redialing.
			nc.setHealthy(false)
			return wasUp
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				nc.setHealthy(true)
				wasUp = true
			}
		case *redis.Message:
			nc.invalidate(m.Payload)
		}
	}
}

// NearCacheHealthy reports whether the near-cache is in use: configured and
// its invalidation subscription up.
func (s *Store) NearCacheHealthy() bool { return s.near != nil && s.near.healthy.Load() }

// Close stops the near-cache subscription, if any. It does not close the
// Redis client, which belongs to the caller.
func (s *Store) Close() error {
	if s.near == nil {
		return nil
	}
	s.near.started.Do(func() {}) // never start after Close
	if s.near.stop != nil {
		s.near.stop()
		<-s.near.done
		s.near.setHealthy(false)
	}
	return nil
}

// watchStateLoss flushes the cache when Redis loses its data without the
// subscription noticing (FLUSHALL, FLUSHDB, a restart faster than a ping):
// every stateCheckInterval it reads a marker key, which it writes when
// missing. A missing marker means the data the cache mirrors may be gone,
// so every entry goes. On a Cluster the marker lives on one master; the
// other masters' data loss is bounded by the entry TTL, or noticed through
// the subscription when a node restarts.
func (nc *nearCache) watchStateLoss(ctx context.Context, client redis.UniversalClient, marker string) {
	tick := time.NewTicker(stateCheckInterval)
	defer tick.Stop()
	for {
		err := client.GetEx(ctx, marker, time.Hour).Err()
		if errors.Is(err, redis.Nil) {
			nc.mu.Lock()
			nc.flushLocked()
			nc.mu.Unlock()
			client.Set(ctx, marker, 1, time.Hour)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
