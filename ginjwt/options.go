package ginjwt

import (
	"context"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
)

// Defaults for the zero values of Options.
const (
	DefaultIssuer         = "jwtguard"
	DefaultAccessTTL      = 15 * time.Minute
	DefaultRefreshTTL     = 7 * 24 * time.Hour
	DefaultSessionMaxAge  = 30 * 24 * time.Hour
	DefaultRefreshGrace   = 5 * time.Second
	DefaultRefreshRetries = 3
	DefaultLeeway         = 10 * time.Second
	DefaultMaxTokenSize   = 8 << 10
)

// NoGrace, as Options.RefreshGrace, turns the refresh grace window off: of
// several concurrent refreshes with one refresh token, exactly one succeeds.
// The others are refused with ErrTokenRevoked, without revoking the session,
// when they arrive within 2 seconds of the rotation; later they count as reuse.
const NoGrace time.Duration = -1

// NoRetries, as Options.RefreshRetries, allows no retry after RefreshGrace.
const NoRetries = -1

// DefaultMaxSessions is Options.MaxSessions when it is zero, and the limit
// a Store applies when NewSession.Limit is zero.
const DefaultMaxSessions = 100

// maxMaxSessions bounds Options.MaxSessions: each login and session list
// of a subject costs up to that many entries in the store.
const maxMaxSessions = 1000

// maxRefreshRetries bounds Options.RefreshRetries.
const maxRefreshRetries = 100

// raceWindow is how long after a rotation, with NoGrace, a duplicate of the
// rotated refresh token is refused without being treated as reuse.
const raceWindow = 2 * time.Second

// Limits New enforces.
const (
	maxLeeway       = time.Minute
	maxRefreshGrace = time.Minute
)

// Options configure an Auth. Zero values mean the documented default.
// New copies Options; changing them afterwards has no effect.
type Options struct {
	// Store keeps sessions and user versions. Required: redisstore, or
	// memstore for one process and tests.
	Store Store

	// Keys sign and verify tokens. Keys[0] is the current key: it signs.
	// Every other key verifies, each with its own pinned algorithm, and is in
	// the JWKS: a published key, listed before it signs so that JWKS caches
	// learn it, or a retired key, listed after it signed so that its tokens
	// keep working. To rotate: publish the new key as Keys[1]; after the
	// JWKS max-age (5 minutes), make it Keys[0] and keep the old key, with
	// its private key, as Keys[1]; drop the old key after RefreshTTL. A
	// dropped key's refresh tokens answer key_unknown (log in again).
	// Required.
	Keys []Key

	// Authenticate checks the credentials of a login request and returns
	// who logged in. Return an error wrapping ErrInvalidCredentials for wrong
	// credentials and ErrBadRequest for a malformed request; any other error
	// answers 500. Required by LoginHandler only.
	Authenticate func(c *gin.Context) (Identity, error)

	// Issuer is the "iss" of issued tokens, and the only one accepted.
	// Default "jwtguard".
	Issuer string

	// Audience is the "aud" of issued tokens, and the one required.
	// Default: the Issuer.
	Audience string

	// AccessTTL is the lifetime of access tokens. Default 15 minutes.
	AccessTTL time.Duration

	// RefreshTTL is the idle lifetime of a session: a refresh token, and its
	// session, expire this long after the last login or refresh.
	// Default 7 days; must be longer than AccessTTL.
	RefreshTTL time.Duration

	// SessionMaxAge is the absolute lifetime of a session, from login; after
	// it, refresh answers session_expired and the user must log in again.
	// Default 30 days; must be at least RefreshTTL.
	SessionMaxAge time.Duration

	// RefreshGrace is how long after a refresh the refresh token it replaced
	// still gets a new pair (for the session's current generation, without
	// advancing it), so concurrent refreshes from one app all succeed and
	// converge. After it, see RefreshRetries. Default 5 seconds, at most 1
	// minute; NoGrace turns it off, and with it RefreshRetries.
	RefreshGrace time.Duration

	// RefreshRetries is how many times per session, after RefreshGrace, the
	// refresh token the last refresh replaced still gets a pair for the
	// current generation: a client whose refresh response was lost (a
	// tunnel, an app sent to the background) retries with that token minutes
	// later and stays signed in. Each such retry emits a refresh event with
	// reason "retry". Once a session has used them up, that token is reuse:
	// the session is revoked. The bound ends a thief holding the replaced
	// token and the honest client taking turns. Default 3; NoRetries turns
	// them off; at most 100.
	RefreshRetries int

	// Leeway tolerates clock skew when checking exp, nbf and iat.
	// Default 10 seconds, at most 1 minute.
	Leeway time.Duration

	// TokenLookup lists where the guard looks for the access token, in
	// order. Default FromHeader, then, with Cookies set, the access cookie.
	TokenLookup []TokenExtractor

	// Cookies, when set, turns on the cookie transport with CSRF protection;
	// see CookieOptions. Default nil: tokens travel in bodies and headers.
	Cookies *CookieOptions

	// TokenCacheSize is how many verified access tokens the guard
	// remembers, by exact token string, to skip the signature check and
	// claims decoding when one comes back; expiry is still checked on every
	// use and the store on every request. Its table has room for twice as
	// many, in sets of 4 (a lookup takes no lock), so that tokens rarely
	// push each other out. Default 4096, at most MaxTokenCacheSize;
	// negative turns it off.
	TokenCacheSize int

	// MaxTokenSize is the length above which a token is refused before any
	// parsing. Default 8 KiB.
	MaxTokenSize int

	// StepUpTTL is the longest life of an access token that Auth.StepUp
	// issues, and so of a raised authentication. Default and at most
	// AccessTTL.
	StepUpTTL time.Duration

	// OnRefresh, when set, is called on every successful refresh with the
	// session's claims, after the store rotated the session. It returns the
	// subject's Identity as of now: the new tokens carry its Roles, Scopes
	// and Extra, so that a demotion or a profile change reaches the session
	// at its next refresh instead of at its next login. An error that wraps
	// ErrAccountDisabled ends the session (a revoke event with reason
	// account_disabled; the client sees 401 account_disabled); any other
	// error answers 500 and keeps the session, whose client may retry with
	// the same refresh token. Default none: tokens keep what the login
	// granted.
	OnRefresh func(ctx context.Context, claims *Claims) (Identity, error)

	// ExtendTokenResponse, when set, adds fields to the body of login and
	// refresh answers, such as the user's profile; the standard fields of
	// TokenResponse always win. An error answers 500. Default none.
	ExtendTokenResponse func(c *gin.Context, claims *Claims) (map[string]any, error)

	// Limits throttles logins per client IP and per account, and refreshes
	// per session; see Limits for the defaults. Over a limit a request
	// answers 429 too_many_requests. Limits.Off turns them off.
	Limits Limits

	// Throttle keeps the counters of Limits and Auth.RateLimit. Default: the
	// Store, when it implements Throttle (redisstore and memstore do). New
	// fails when the limits are on and there is none.
	Throttle Throttle

	// OmitClientInfo keeps the client IP and User-Agent out of the store:
	// session lists then show only device, created and last refresh, and
	// each session's stored state is smaller. Events still carry them.
	// Default false.
	OmitClientInfo bool

	// Clients are the confidential OAuth clients, typically resource servers
	// in other languages, that authenticate with HTTP Basic: required by
	// IntrospectionHandler, accepted by RevocationHandler. New refuses an
	// empty or repeated ID and a Secret under MinClientSecretSize bytes, and
	// keeps only digests of the secrets. Default none.
	Clients []ClientCredentials

	// MaxSessions bounds the live sessions of one subject (one login on one
	// device each). A login past it ends the subject's least recently used
	// sessions, by their last login or refresh, in the same atomic store
	// call: the subject never has more than MaxSessions, each ended session
	// emits a revoke event with reason "session_limit", and its tokens
	// answer token_revoked. The bound is also what keeps every per-subject
	// store operation and the session list small, so there is no
	// "unlimited": raise it if your users need more, knowing that a login
	// at the limit and a session list cost redisstore work in proportion to
	// it (at 1,000, about 1.3 ms and 8 ms of Redis time and a 228 KB list
	// on a small machine). Lowering it takes effect for a subject at its
	// next login. Default 100, at most 1,000.
	MaxSessions int

	// OnEvent, when set, is called for every login, failed login, refresh,
	// reuse detection, logout and revocation, synchronously in the request:
	// keep it fast (log, count, or hand off to a channel). Default none.
	OnEvent func(Event)

	// OnGuard, when set, is called once for every request the guard
	// (Middleware) checks and every Verify call, after the checks: with
	// the request's context, the time the checks started (a reading of
	// Now taken before them, so time.Since(started) is how long they took
	// with the default clock) and their error, nil when the token passed. It runs
	// on the guard's hot path: keep it to counting, as ginjwt/otelguard
	// does. Default none.
	OnGuard func(ctx context.Context, started time.Time, err error)

	// DPoP binds sessions to a key the client holds (RFC 9449), for the
	// bearer transport: see DPoPOptions. Default off.
	DPoP DPoPOptions

	// LegacyTokens, when set, makes the guard and Verify also accept the
	// access tokens of the system jwtguard replaces until a cutover
	// deadline; see LegacyTokens and GinJWTLegacy. Default none.
	LegacyTokens *LegacyTokens

	// ErrorHandler writes failures to the client. It must abort the request.
	// Default DefaultErrorHandler.
	ErrorHandler func(c *gin.Context, err error)

	// Now is the clock. Default time.Now; set it in tests. With the
	// default, the guard answers a cached token on the monotonic clock,
	// reading the wall clock for it at least once a second (see
	// docs/operations.md, token cache).
	Now func() time.Time
}

// withDefaults returns o with zero values replaced, or an error naming the
// first bad option.
func (o Options) withDefaults() (Options, error) {
	if o.Store == nil {
		return o, fmt.Errorf("%w: Options.Store is nil; configure a store such as redisstore.New(client)", ErrInvalidOptions)
	}
	if o.Issuer == "" {
		o.Issuer = DefaultIssuer
	}
	if o.Audience == "" {
		o.Audience = o.Issuer
	}
	if o.AccessTTL == 0 {
		o.AccessTTL = DefaultAccessTTL
	}
	if o.RefreshTTL == 0 {
		o.RefreshTTL = DefaultRefreshTTL
	}
	if o.SessionMaxAge == 0 {
		o.SessionMaxAge = DefaultSessionMaxAge
	}
	if o.RefreshGrace == 0 {
		o.RefreshGrace = DefaultRefreshGrace
	}
	if o.RefreshRetries == 0 {
		o.RefreshRetries = DefaultRefreshRetries
	}
	if o.Leeway == 0 {
		o.Leeway = DefaultLeeway
	}
	if o.TokenCacheSize == 0 {
		o.TokenCacheSize = DefaultTokenCacheSize
	}
	if o.MaxTokenSize == 0 {
		o.MaxTokenSize = DefaultMaxTokenSize
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.StepUpTTL == 0 {
		o.StepUpTTL = o.AccessTTL
	}
	if o.ErrorHandler == nil {
		o.ErrorHandler = DefaultErrorHandler
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	switch {
	case o.AccessTTL < time.Second:
		return o, fmt.Errorf("%w: Options.AccessTTL (%v) must be at least 1s", ErrInvalidOptions, o.AccessTTL)
	case o.RefreshTTL <= o.AccessTTL:
		return o, fmt.Errorf("%w: Options.RefreshTTL (%v) must be longer than Options.AccessTTL (%v)", ErrInvalidOptions, o.RefreshTTL, o.AccessTTL)
	case o.SessionMaxAge < o.RefreshTTL:
		return o, fmt.Errorf("%w: Options.SessionMaxAge (%v) must be at least Options.RefreshTTL (%v)", ErrInvalidOptions, o.SessionMaxAge, o.RefreshTTL)
	case o.RefreshGrace != NoGrace && (o.RefreshGrace < 0 || o.RefreshGrace > maxRefreshGrace):
		return o, fmt.Errorf("%w: Options.RefreshGrace (%v) must be between 0 and %v, or NoGrace", ErrInvalidOptions, o.RefreshGrace, maxRefreshGrace)
	case o.RefreshRetries != NoRetries && (o.RefreshRetries < 0 || o.RefreshRetries > maxRefreshRetries):
		return o, fmt.Errorf("%w: Options.RefreshRetries (%d) must be between 0 and %d, or NoRetries", ErrInvalidOptions, o.RefreshRetries, maxRefreshRetries)
	case o.Leeway < 0 || o.Leeway > maxLeeway:
		return o, fmt.Errorf("%w: Options.Leeway (%v) must be between 0 and %v", ErrInvalidOptions, o.Leeway, maxLeeway)
	case o.StepUpTTL < time.Second || o.StepUpTTL > o.AccessTTL:
		return o, fmt.Errorf("%w: Options.StepUpTTL (%v) must be between 1s and Options.AccessTTL (%v)", ErrInvalidOptions, o.StepUpTTL, o.AccessTTL)
	case o.TokenCacheSize > MaxTokenCacheSize:
		return o, fmt.Errorf("%w: Options.TokenCacheSize (%d) must be at most %d", ErrInvalidOptions, o.TokenCacheSize, MaxTokenCacheSize)
	case o.MaxTokenSize < 256:
		return o, fmt.Errorf("%w: Options.MaxTokenSize (%d) must be at least 256 bytes", ErrInvalidOptions, o.MaxTokenSize)
	case o.MaxSessions < 1 || o.MaxSessions > maxMaxSessions:
		return o, fmt.Errorf("%w: Options.MaxSessions (%d) must be between 1 and %d (0 means the default, %d)", ErrInvalidOptions, o.MaxSessions, maxMaxSessions, DefaultMaxSessions)
	}
	return o, nil
}

// grace returns the store's Grace, Retries and ReuseAfter for the
// configured window and retries.
func (o *Options) grace() (grace time.Duration, retries int, reuseAfter time.Duration) {
	if o.RefreshGrace == NoGrace {
		return 0, 0, raceWindow
	}
	return o.RefreshGrace, max(o.RefreshRetries, 0), o.RefreshGrace
}
