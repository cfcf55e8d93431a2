package memstore

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
)

// sweepEvery is how often, on the store's clock, a write also drops every
// expired session and subject of the store, not only those of its subject.
const sweepEvery = time.Minute

// Store is a ginjwt.Store in memory. It is safe for concurrent use. The zero
// value is not usable; call New.
type Store struct {
	clock func() time.Time

	// mu guards everything below. State and Sessions only read, under the
	// read lock; every other method writes, under the lock.
	mu        sync.RWMutex
	users     map[string]*user
	nextSweep time.Time // on the store's clock

	throttle throttle // counters of the ginjwt.Throttle methods, under their own lock
}

// user is the state of one subject.
type user struct {
	version  int64
	expires  time.Time // store's clock; never before any of sessions expires
	sessions map[string]*session
}

// session is the state of one session.
type session struct {
	generation int64
	created    time.Time // the store's clock at login, to the millisecond
	rotated    time.Time // the store's clock at the last rotation; zero before the first
	retries    int       // retries of the previous generation after grace, so far
	nextAt     time.Time // the refresh limit's theoretical arrival time of the next refresh (GCRA)
	device     string
	ip         string
	userAgent  string
	expires    time.Time // store's clock

	// proofs maps the DPoP proof ids the session remembers to their expiry
	// on the store's clock; see StateAndProof. nil until the first.
	proofs map[string]time.Time
}

var _ ginjwt.Store = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithClock sets the store's clock, which every rule and idle expiry
// follow; default time.Now. In tests, pass the clock given to
// ginjwt.Options.Now, so that grace windows pass and sessions expire when
// the test advances it. A nil clock means time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.clock = now
		}
	}
}

// New returns an empty Store.
func New(opts ...Option) *Store {
	s := &Store{clock: time.Now, users: map[string]*user{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// errBadSessionID is returned by CreateSession for a session id that is not 1
// to 64 base64url characters, as redisstore returns it.
var errBadSessionID = errors.New("memstore: malformed session id")

// CreateSession implements ginjwt.Store. Past the limit it evicts the
// sessions with the oldest last use, and of those used at the same
// millisecond the one with the lower id, as redisstore does.
func (s *Store) CreateSession(ctx context.Context, subject string, ns ginjwt.NewSession) (ginjwt.CreateResult, error) {
	if err := ctx.Err(); err != nil {
		return ginjwt.CreateResult{}, err
	}
	if !ginjwt.ValidSessionID(ns.ID) {
		return ginjwt.CreateResult{}, errBadSessionID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	s.sweep(now)

	u := s.liveUser(subject, now)
	if u == nil {
		u = &user{version: randomVersion(), sessions: map[string]*session{}}
		s.users[subject] = u
	}
	delete(u.sessions, ns.ID) // a session id logged in again is replaced
	evicted := u.evict(ns.SessionLimit() - 1)
	expires := now.Add(min(ns.TTL, ns.MaxAge))
	u.sessions[ns.ID] = &session{
		generation: 1,
		created:    toMillis(now),
		device:     ns.Device,
		ip:         ns.Client.IP,
		userAgent:  ns.Client.UserAgent,
		expires:    expires,
	}
	u.expires = later(u.expires, expires)
	return ginjwt.CreateResult{UserVersion: u.version, Evicted: evicted}, nil
}

// evict deletes the least recently used sessions of u until it has at most
// keep, and returns their ids, least recently used first. The caller holds
// s.mu and has dropped u's expired sessions.
func (u *user) evict(keep int) []string {
	over := len(u.sessions) - keep
	if over <= 0 {
		return nil
	}
	ids := slices.Collect(maps.Keys(u.sessions))
	slices.SortFunc(ids, func(a, b string) int {
		return cmp.Or(u.sessions[a].lastUse().Compare(u.sessions[b].lastUse()), cmp.Compare(a, b))
	})
	ids = ids[:over:over]
	for _, id := range ids {
		delete(u.sessions, id)
	}
	return ids
}

// lastUse is the session's login or latest rotation.
func (se *session) lastUse() time.Time { return later(se.created, se.rotated) }

// State implements ginjwt.Store.
func (s *Store) State(ctx context.Context, subject, sessionID string) (ginjwt.SessionState, bool, error) {
	if err := ctx.Err(); err != nil {
		return ginjwt.SessionState{}, false, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.clock()

	u := s.users[subject]
	if u == nil || !now.Before(u.expires) {
		return ginjwt.SessionState{}, false, nil
	}
	se := u.sessions[sessionID]
	if se == nil || !now.Before(se.expires) {
		return ginjwt.SessionState{}, false, nil
	}
	return ginjwt.SessionState{UserVersion: u.version, Generation: se.generation}, true, nil
}

// Rotate implements ginjwt.Store. The rules, in order, are those documented
// on ginjwt.RotateOutcome.
func (s *Store) Rotate(ctx context.Context, subject, sessionID string, r ginjwt.Rotation) (ginjwt.RotateResult, error) {
	if err := ctx.Err(); err != nil {
		return ginjwt.RotateResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	s.sweep(now)

	// Like redisstore, count in whole milliseconds.
	at := toMillis(now)
	grace := r.Grace.Truncate(time.Millisecond)
	reuseAfter := r.ReuseAfter.Truncate(time.Millisecond)
	ttl := r.TTL.Truncate(time.Millisecond)
	maxAge := r.MaxAge.Truncate(time.Millisecond)

	u := s.liveUser(subject, now)
	if u == nil || u.version != r.UserVersion || u.sessions[sessionID] == nil {
		return ginjwt.RotateResult{Outcome: ginjwt.Revoked}, nil
	}
	se := u.sessions[sessionID]

	left := se.created.Add(maxAge).Sub(at)
	if left <= 0 {
		delete(u.sessions, sessionID)
		return ginjwt.RotateResult{Outcome: ginjwt.Expired}, nil
	}

	// The current generation rotates; a later one, which only a store that
	// lost rotations can see, moves the session on past it (heals).
	if r.Generation >= se.generation {
		next, wait := allow(se, at, r.Limit)
		if wait > 0 {
			return ginjwt.RotateResult{Outcome: ginjwt.Throttled, RetryAfter: wait}, nil
		}
		se.nextAt = next
		outcome := ginjwt.Rotated
		if r.Generation > se.generation {
			outcome = ginjwt.Healed
		}
		se.generation = r.Generation + 1
		se.rotated = at
		se.ip, se.userAgent = r.Client.IP, r.Client.UserAgent
		se.expires = now.Add(min(ttl, left))
		u.expires = later(u.expires, se.expires)
		return ginjwt.RotateResult{Outcome: outcome, Generation: se.generation}, nil
	}

	// The previous generation: a rotated session only, since before the
	// first rotation the previous generation, 0, was never issued.
	if r.Generation == se.generation-1 && !se.rotated.IsZero() {
		since := at.Sub(se.rotated)
		converges := grace > 0 && since < grace
		if converges || se.retries < r.Retries {
			next, wait := allow(se, at, r.Limit)
			if wait > 0 {
				return ginjwt.RotateResult{Outcome: ginjwt.Throttled, RetryAfter: wait}, nil
			}
			se.nextAt = next
			if converges {
				return ginjwt.RotateResult{Outcome: ginjwt.Converged, Generation: se.generation}, nil
			}
			se.retries++
			return ginjwt.RotateResult{Outcome: ginjwt.Retried, Generation: se.generation}, nil
		}
		if since < reuseAfter {
			return ginjwt.RotateResult{Outcome: ginjwt.Superseded, Generation: se.generation}, nil
		}
	}

	delete(u.sessions, sessionID)
	return ginjwt.RotateResult{Outcome: ginjwt.Reused}, nil
}

// allow applies the refresh limit to a refresh of se at the store's time at
// (gcra over se.nextAt). It returns the new nextAt, or how long to wait.
func allow(se *session, at time.Time, limit ginjwt.Rate) (next time.Time, wait time.Duration) {
	if limit.Count <= 0 {
		return se.nextAt, 0
	}
	return gcra(se.nextAt, at, limit)
}

// DeleteSession implements ginjwt.Store.
func (s *Store) DeleteSession(ctx context.Context, subject, sessionID string) error {
	return s.changeUser(ctx, subject, func(u *user) { delete(u.sessions, sessionID) })
}

// RevokeOtherSessions implements ginjwt.Store.
func (s *Store) RevokeOtherSessions(ctx context.Context, subject, keepID string) error {
	return s.changeUser(ctx, subject, func(u *user) {
		for id := range u.sessions {
			if id != keepID {
				delete(u.sessions, id)
			}
		}
	})
}

// RevokeUser implements ginjwt.Store. The subject's version advances and
// stays as long as it would have for its sessions, so that the next login
// gets the new version.
func (s *Store) RevokeUser(ctx context.Context, subject string) error {
	return s.changeUser(ctx, subject, func(u *user) {
		u.version++
		clear(u.sessions)
	})
}

// changeUser applies change, under the lock, to subject's live state; a
// subject without live state is left alone.
func (s *Store) changeUser(ctx context.Context, subject string, change func(*user)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	s.sweep(now)
	if u := s.liveUser(subject, now); u != nil {
		change(u)
	}
	return nil
}

// Sessions implements ginjwt.Store. Sessions created at the same millisecond
// are listed by id.
func (s *Store) Sessions(ctx context.Context, subject string) ([]ginjwt.SessionInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.clock()

	list := []ginjwt.SessionInfo{}
	u := s.users[subject]
	if u == nil || !now.Before(u.expires) {
		return list, nil
	}
	for id, se := range u.sessions {
		if !now.Before(se.expires) {
			continue
		}
		lastRefresh := se.created
		if se.rotated.After(se.created) {
			lastRefresh = se.rotated
		}
		list = append(list, ginjwt.SessionInfo{
			ID:          id,
			Device:      se.device,
			Created:     se.created,
			LastRefresh: lastRefresh,
			IP:          se.ip,
			UserAgent:   se.userAgent,
		})
	}
	slices.SortFunc(list, func(a, b ginjwt.SessionInfo) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return list, nil
}

// liveUser returns the state of subject with its expired sessions dropped, or
// nil when the subject has none or it has expired. The caller holds s.mu.
func (s *Store) liveUser(subject string, now time.Time) *user {
	u := s.users[subject]
	if u == nil {
		return nil
	}
	if !now.Before(u.expires) {
		delete(s.users, subject)
		return nil
	}
	for id, se := range u.sessions {
		if !now.Before(se.expires) {
			delete(u.sessions, id)
		}
	}
	return u
}

// sweep drops every expired subject and session, at most once per
// sweepEvery. The caller holds s.mu.
func (s *Store) sweep(now time.Time) {
	if now.Before(s.nextSweep) {
		return
	}
	s.nextSweep = now.Add(sweepEvery)
	for subject := range s.users {
		s.liveUser(subject, now)
	}
}

// randomVersion returns a random user version in [1, 2^52], as redisstore
// does: exact as a JSON number, and unpredictable, so a version created anew
// after a restart does not match tokens issued before.
func randomVersion() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.BigEndian.Uint64(b[:])>>12) + 1
}

// toMillis drops t's sub-millisecond part, as storing it in redisstore
// does.
func toMillis(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()) }

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
