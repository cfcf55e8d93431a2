package ginjwt

import (
	"context"
	"strconv"
	"time"
)

// Store keeps the little state that makes tokens revocable: per subject a user
// version, and per session its generation and timestamps. The redisstore
// package implements it on Redis; ginjwt/storetest checks any implementation
// against this contract.
//
// Contract, for every method:
//   - Each method is atomic: no interleaving of two calls can be observed
//     half-done, on any number of application instances.
//   - Missing state means "not valid": a missing user version never matches a
//     token, a missing session is never alive. Losing data logs people out; it
//     never makes a revoked token valid again.
//   - Errors are for system failures only (unreachable, timeout). Absent state
//     is reported through results, never as an error. Revoking or deleting
//     something that does not exist returns nil.
//   - Tokens are never passed to a Store; it only sees subjects, session ids
//     and numbers. Subjects are 1 to 256 bytes of any value; session ids are
//     1 to 64 base64url characters.
//   - Revocation is monotonic: a token a store has refused (a session gone,
//     a generation passed, a user version changed) is never accepted again,
//     and a session reported missing never comes back. Caches rely on it.
//   - Times (creation, last rotation, grace windows, absolute lifetimes)
//     come from one clock of the store's own — Redis' for redisstore — never
//     from the caller, so that application instances whose clocks disagree
//     still apply the same rules.
type Store interface {
	// CreateSession records a new session of subject with generation 1 and
	// returns the subject's user version. When the subject has no version
	// yet, the store creates one at random (never a predictable value such
	// as 0), so that state lost and created again never matches old tokens.
	//
	// It keeps the subject within s.Limit live sessions, the new one
	// included: when the subject already has s.Limit or more, its least
	// recently used sessions are deleted in the same atomic step, as
	// DeleteSession would, and their ids returned in CreateResult.Evicted.
	// A session's last use is its login or its latest rotation that
	// advanced the generation (Rotated, Healed), on the store's clock;
	// guard checks and converged or retried refreshes do not count.
	// Expired and removed sessions never count either, so no live session
	// is evicted while there is room. The work of one call, as of every
	// other method, is bounded by the limit, never by how many sessions
	// the subject ever had.
	CreateSession(ctx context.Context, subject string, s NewSession) (CreateResult, error)

	// State returns the subject's user version and the session's generation
	// in a single round trip. found is false, with a nil error, when either
	// is missing.
	State(ctx context.Context, subject, sessionID string) (st SessionState, found bool, err error)

	// Rotate applies the refresh rules to the session for a refresh token
	// carrying r.UserVersion and r.Generation; see RotateOutcome for the
	// rules and what each outcome does to the stored state.
	Rotate(ctx context.Context, subject, sessionID string, r Rotation) (RotateResult, error)

	// DeleteSession removes one session of subject. Deleting a session that
	// does not exist returns nil.
	DeleteSession(ctx context.Context, subject, sessionID string) error

	// RevokeOtherSessions removes every session of subject except keepID.
	// A subject without sessions returns nil.
	RevokeOtherSessions(ctx context.Context, subject, keepID string) error

	// RevokeUser advances the subject's user version, so that no token issued
	// before passes again, and removes the subject's sessions. A subject
	// without state returns nil.
	RevokeUser(ctx context.Context, subject string) error

	// Sessions lists the live sessions of subject, oldest first. Expired,
	// removed or evicted sessions never appear, so the list is no longer
	// than the Limit of the subject's latest login. A subject without
	// sessions gives an empty list and a nil error.
	Sessions(ctx context.Context, subject string) ([]SessionInfo, error)
}

// StateRefresher is implemented by stores whose State may answer from a
// cache, such as redisstore with its near-cache. When a token is newer than
// the state State returned (a higher generation, or another user version),
// the guard asks FreshState, which reads the source of truth, before it
// refuses the token: a token just issued through another instance is never
// refused because this instance's cache has not heard of it yet.
type StateRefresher interface {
	// FreshState is State without any cache.
	FreshState(ctx context.Context, subject, sessionID string) (st SessionState, found bool, err error)
}

// ValidSessionID reports whether id has the shape the Store contract
// promises, 1 to 64 base64url characters, so that a store can put it in a
// key. Stores refuse other ids: CreateSession with an error, the other
// methods as an unknown session.
func ValidSessionID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// NewSession describes a session at login.
type NewSession struct {
	ID     string        // random session id
	Device string        // label shown in session lists; may be empty
	TTL    time.Duration // idle lifetime: the session expires this long after its last login or rotation
	MaxAge time.Duration // absolute lifetime: the session never outlives its creation plus MaxAge
	Client ClientInfo    // who logged in, for session lists
	// Limit is the most live sessions the subject may have once this one
	// is created; see Store.CreateSession. Zero or less means
	// DefaultMaxSessions: a store never keeps sessions without a bound.
	Limit int
}

// SessionLimit returns the limit a store applies for s: s.Limit, or
// DefaultMaxSessions when it is zero or less.
func (s NewSession) SessionLimit() int {
	if s.Limit <= 0 {
		return DefaultMaxSessions
	}
	return s.Limit
}

// CreateResult is the outcome of Store.CreateSession.
type CreateResult struct {
	// UserVersion is the subject's user version, which the new session's
	// tokens carry.
	UserVersion int64
	// Evicted lists the sessions the login ended to stay within
	// NewSession.Limit, least recently used first; usually none or one.
	// Sessions used at the same millisecond go by session id.
	Evicted []string
}

// ClientInfo describes the client of a login or refresh, for session lists.
// It is informational only: it never decides anything.
type ClientInfo struct {
	IP        string // client IP as gin reports it (see gin's trusted proxies)
	UserAgent string // User-Agent header, cut to 64 bytes
}

// SessionInfo describes a live session.
type SessionInfo struct {
	ID          string    `json:"id"`
	Device      string    `json:"device"`
	Created     time.Time `json:"created"`
	LastRefresh time.Time `json:"last_refresh"` // equals Created until the first refresh
	IP          string    `json:"ip"`           // at login or last refresh
	UserAgent   string    `json:"user_agent"`   // at login or last refresh
}

// SessionState is the state a token is checked against.
type SessionState struct {
	UserVersion int64 // advances on RevokeUser
	Generation  int64 // advances on every rotation
}

// Rotation is a refresh request as the store sees it.
type Rotation struct {
	UserVersion int64         // the refresh token's user version
	Generation  int64         // the refresh token's generation
	Grace       time.Duration // the previous generation within Grace of the rotation converges
	Retries     int           // after Grace, the previous generation converges this many more times per session
	ReuseAfter  time.Duration // the previous generation later than this after the rotation, retries used up, is reuse; ReuseAfter >= Grace
	TTL         time.Duration // idle lifetime, restarted by a rotation
	MaxAge      time.Duration // absolute lifetime, counted from the session's creation
	Client      ClientInfo    // recorded on the session when it rotates
	Limit       Rate          // the most refreshes of the session: see Throttled; zero Count: no limit
}

// RotateOutcome is what Rotate decided.
type RotateOutcome int

// Rotate outcomes. Rules are applied in this order: a missing session or a
// user version that differs gives Revoked; a session MaxAge old or older is
// deleted and gives Expired; the current generation gives Rotated; a later
// generation gives Healed; the previous generation gives Converged within
// Grace of the last rotation, then Retried while the session has retries
// left (each use spends one), then Superseded within ReuseAfter of the
// rotation, and Reused after; any older generation gives Reused. Last, when
// the outcome is Rotated, Healed, Converged or Retried and the session has
// refreshed faster than Limit allows, Throttled replaces it.
const (
	// Rotated: the generation advanced by one and the idle lifetime restarted.
	Rotated RotateOutcome = iota + 1
	// Converged: a concurrent refresh of the previous generation; nothing
	// changes and the current generation is returned.
	Converged
	// Superseded: the previous generation shortly after a rotation, with no
	// grace to converge; refused, but the session stays.
	Superseded
	// Reused: a generation that was already rotated away was presented again;
	// the session has been deleted.
	Reused
	// Revoked: the session or the user version is gone or has changed.
	Revoked
	// Expired: the session reached MaxAge and has been deleted.
	Expired
	// Retried: the previous generation after Grace, such as the retry of a
	// refresh whose response was lost; like Converged, nothing changes but
	// the session's count of retries, and the current generation is
	// returned.
	Retried
	// Healed: a generation later than the stored one, which only the store
	// losing a rotation (a failover) can explain: the session moves on to
	// the presented generation plus one, as if that rotation had happened,
	// so every older token stops working again.
	Healed
	// Throttled: the refresh would have succeeded, but the session has
	// used up Rotation.Limit (GCRA on the store's clock, counting every
	// refresh that succeeded); nothing changes, and RotateResult.RetryAfter
	// says when the next one may. Reuse is never throttled: it always ends
	// the session.
	Throttled
)

// String returns the outcome's name, such as "rotated".
func (o RotateOutcome) String() string {
	switch o {
	case Rotated:
		return "rotated"
	case Converged:
		return "converged"
	case Superseded:
		return "superseded"
	case Reused:
		return "reused"
	case Revoked:
		return "revoked"
	case Expired:
		return "expired"
	case Retried:
		return "retried"
	case Healed:
		return "healed"
	case Throttled:
		return "throttled"
	}
	return "RotateOutcome(" + strconv.Itoa(int(o)) + ")"
}

// RotateResult is the outcome of Rotate and, for Rotated, Converged, Retried
// and Healed, the generation new tokens must carry.
type RotateResult struct {
	Outcome    RotateOutcome
	Generation int64
	RetryAfter time.Duration // with Throttled: until the session may refresh again
}
