package memstore

import (
	"context"
	"sync"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
)

var _ ginjwt.Throttle = (*Store)(nil)

// throttle holds the counters of Take, Refund, Attempt and Clear.
type throttle struct {
	mu        sync.Mutex
	rates     map[string]time.Time // key -> theoretical arrival time of the next attempt (GCRA)
	attempts  map[string]*attempts // key -> attempts of a Backoff
	nextSweep time.Time
}

// attempts is the backoff state of one key.
type attempts struct {
	count       int
	last        time.Time // of the last counted attempt
	lockedUntil time.Time
	forget      time.Duration
}

// lock takes the throttle's lock, creates its maps on first use, and once a
// minute drops the counters that have run out.
func (t *throttle) lock(now time.Time) {
	t.mu.Lock()
	if t.rates == nil {
		t.rates, t.attempts = map[string]time.Time{}, map[string]*attempts{}
	}
	if now.Before(t.nextSweep) {
		return
	}
	t.nextSweep = now.Add(sweepEvery)
	for k, tat := range t.rates {
		if !tat.After(now) {
			delete(t.rates, k)
		}
	}
	for k, a := range t.attempts {
		if now.Sub(a.last) > a.forget && !a.lockedUntil.After(now) {
			delete(t.attempts, k)
		}
	}
}

// Take implements ginjwt.Throttle with the generic cell rate algorithm: each
// key remembers when its next attempt is due at the steady rate (tat), and
// an attempt is allowed while that is at most a burst ahead of now.
func (s *Store) Take(_ context.Context, key string, r ginjwt.Rate) (ginjwt.Allowance, error) {
	now := s.clock()
	t := &s.throttle
	t.lock(now)
	defer t.mu.Unlock()
	tat := t.rates[key]
	next, wait := gcra(tat, now, r)
	if wait > 0 {
		return ginjwt.Allowance{RetryAfter: wait, ResetAfter: max(tat.Sub(now), 0)}, nil
	}
	t.rates[key] = next
	interval := r.Period / time.Duration(r.Count)
	return ginjwt.Allowance{
		Allowed:    true,
		Remaining:  int((interval*time.Duration(r.Burst) - next.Sub(now)) / interval),
		ResetAfter: next.Sub(now),
	}, nil
}

// gcra is the generic cell rate algorithm: an attempt at now moves the
// theoretical arrival time of the next one, tat, on by one interval of r,
// from now if tat has passed; it is allowed while the new tat is at most a
// burst of intervals ahead of now. It returns the new tat, or how long to
// wait.
func gcra(tat, now time.Time, r ginjwt.Rate) (next time.Time, wait time.Duration) {
	interval := r.Period / time.Duration(r.Count)
	if tat.Before(now) {
		tat = now
	}
	next = tat.Add(interval)
	if wait = next.Sub(now) - interval*time.Duration(r.Burst); wait > 0 {
		return time.Time{}, wait
	}
	return next, 0
}

// Refund implements ginjwt.Throttle.
func (s *Store) Refund(_ context.Context, key string, r ginjwt.Rate) error {
	now := s.clock()
	t := &s.throttle
	t.lock(now)
	defer t.mu.Unlock()
	tat, ok := t.rates[key]
	if !ok {
		return nil
	}
	if tat = tat.Add(-r.Period / time.Duration(r.Count)); tat.After(now) {
		t.rates[key] = tat
	} else {
		delete(t.rates, key)
	}
	return nil
}

// Attempt implements ginjwt.Throttle.
func (s *Store) Attempt(_ context.Context, key string, b ginjwt.Backoff) (time.Duration, error) {
	now := s.clock()
	t := &s.throttle
	t.lock(now)
	defer t.mu.Unlock()
	a := t.attempts[key]
	if a == nil || now.Sub(a.last) > b.Forget && !a.lockedUntil.After(now) {
		a = &attempts{}
		t.attempts[key] = a
	}
	if a.lockedUntil.After(now) {
		return a.lockedUntil.Sub(now), nil
	}
	a.count++
	a.last, a.forget = now, b.Forget
	if a.count >= b.Free {
		a.lockedUntil = now.Add(lockout(b, a.count))
	}
	return 0, nil
}

// lockout is the lockout after the count-th attempt, count ≥ b.Free.
func lockout(b ginjwt.Backoff, count int) time.Duration {
	d := b.Lockout
	for i := b.Free; i < count && d < b.MaxLockout; i++ {
		d *= 2
	}
	return min(d, b.MaxLockout)
}

// Clear implements ginjwt.Throttle.
func (s *Store) Clear(_ context.Context, key string) error {
	now := s.clock()
	t := &s.throttle
	t.lock(now)
	defer t.mu.Unlock()
	delete(t.attempts, key)
	return nil
}
