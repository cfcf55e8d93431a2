package ginjwt_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/internal/redistest"
)

// staleStore answers State from a cache that hears of no change, as a
// near-cache that missed an invalidation would, and FreshState from the
// store behind it, replacing the cached entry.
type staleStore struct {
	ginjwt.Store
	mu         sync.Mutex
	cached     map[string]ginjwt.SessionState
	freshCalls atomic.Int32
}

func (s *staleStore) State(ctx context.Context, subject, sessionID string) (ginjwt.SessionState, bool, error) {
	s.mu.Lock()
	st, ok := s.cached[sessionID]
	s.mu.Unlock()
	if ok {
		return st, true, nil
	}
	return s.FreshState(ctx, subject, sessionID)
}

func (s *staleStore) FreshState(ctx context.Context, subject, sessionID string) (ginjwt.SessionState, bool, error) {
	s.freshCalls.Add(1)
	st, found, err := s.Store.State(ctx, subject, sessionID)
	if found {
		s.mu.Lock()
		s.cached[sessionID] = st
		s.mu.Unlock()
	}
	return st, found, err
}

// A token newer than the state the store first answers (refreshed through
// another instance a moment ago) is checked against the fresh state, not
// refused; an older one is still refused, without a second read.
func TestGuardRereadsStateForNewerTokens(t *testing.T) {
	b := redistest.Backends(t)[0]
	var stale *staleStore
	a := newApp(t, b, func(o *ginjwt.Options) {
		o.Throttle = o.Store.(ginjwt.Throttle)
		stale = &staleStore{Store: o.Store, cached: map[string]ginjwt.SessionState{}}
		o.Store = stale
		o.TokenCacheSize = -1
	})
	first := a.login("alice")
	expect(t, "first token", a.me(first.AccessToken), http.StatusOK, "") // caches generation 1
	next := a.refresh(first.RefreshToken).tokens(t)
	stale.freshCalls.Store(0)
	expect(t, "refreshed token against a stale state", a.me(next.AccessToken), http.StatusOK, "")
	if n := stale.freshCalls.Load(); n != 1 {
		t.Fatalf("FreshState called %d times, want 1", n)
	}
	expect(t, "the rotated-away token", a.me(first.AccessToken), http.StatusUnauthorized, "token_revoked")
	if n := stale.freshCalls.Load(); n != 1 {
		t.Fatalf("an older token made the guard read again (%d FreshState calls)", n)
	}
}
