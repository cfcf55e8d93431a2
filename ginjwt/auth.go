package ginjwt

import (
	"context"
	"fmt"
)

// Auth issues, checks and revokes tokens. Create one with New and share it:
// it is safe for concurrent use.
type Auth struct {
	opts       Options
	cookies    *CookieOptions // nil without the cookie transport
	lookup     []TokenExtractor
	csrfHeader string
	tokens     *tokenCache // nil when off
	// warm is true when the guard may answer from the token cache without
	// reading the wall clock for the token (see warmRequest): the cache is
	// on and Now is the real clock.
	warm    bool
	keys    *keyring
	access  *verifier // guard: every claim checked
	refresh *verifier // refresh: every claim checked
	// logout verifiers check signature, type, iss and aud but not time: an
	// expired token of a session may still end it.
	logoutAccess  *verifier
	logoutRefresh *verifier
	throttle      Throttle // nil when there is none
	limits        Limits   // with defaults; the built-in limits apply unless Off

	clients *clientSet      // digests of Options.Clients; nil without them
	legacy  *legacyVerifier // Options.LegacyTokens; nil without them
	dpop    *dpopBinding    // Options.DPoP; nil when off
}

// Identity is who logged in, as returned by Options.Authenticate.
type Identity struct {
	// Subject is the stable user id, the "sub" of the tokens. Required.
	Subject string
	// Device labels the session in session lists, e.g. "iPhone" or a
	// shortened User-Agent. Optional; control characters are dropped and it
	// is cut to 64 bytes.
	Device string
	// Roles go into the "roles" claim of both tokens; see RequireRole.
	Roles []string
	// Scopes go into the "scope" claim of both tokens; see RequireScope.
	// Scopes must not contain spaces.
	Scopes []string
	// ACR is the authentication context class reference of this login or
	// step-up ("acr" claim, e.g. "mfa"), for RequireACR. Optional.
	ACR string
	// AMR lists the authentication methods used ("amr" claim, RFC 8176,
	// e.g. "pwd", "otp"). Optional.
	AMR []string
	// Extra is encoded as JSON into the "ext" claim of both tokens and kept
	// across refreshes; read it back with Claims.DecodeExtra. Optional. It is
	// visible to anyone holding the token: never put secrets in it.
	Extra any
}

// maxSubjectLen bounds subjects, which become part of store keys.
const maxSubjectLen = 256

// New validates o and returns a ready Auth. Every error wraps
// ErrInvalidOptions and names the option at fault.
func New(o Options) (*Auth, error) {
	realClock := o.Now == nil
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	keys, err := newKeyring(o.Keys)
	if err != nil {
		return nil, err
	}
	o.Keys = append([]Key(nil), o.Keys...)
	var cookies *CookieOptions
	csrfHeader := defaultCSRFHeader
	if o.Cookies != nil {
		c, err := o.Cookies.withDefaults()
		if err != nil {
			return nil, err
		}
		cookies, csrfHeader = &c, c.CSRFHeader
	}
	lookup := o.TokenLookup
	if len(lookup) == 0 {
		lookup = []TokenExtractor{FromHeader}
		if cookies != nil {
			lookup = append(lookup, FromCookie(cookies.AccessName))
		}
	}
	var tokens *tokenCache
	if o.TokenCacheSize > 0 {
		tokens = newTokenCache(o.TokenCacheSize, o.Leeway)
	}
	limits, err := o.Limits.withDefaults()
	if err != nil {
		return nil, err
	}
	clients, err := newClientSet(o.Clients)
	if err != nil {
		return nil, err
	}
	dpop, err := newDPoPBinding(&o, keys)
	if err != nil {
		return nil, err
	}
	var legacy *legacyVerifier
	if o.LegacyTokens != nil {
		if legacy, err = newLegacyVerifier(o.LegacyTokens, &o); err != nil {
			return nil, err
		}
	}
	throttle := o.Throttle
	if throttle == nil {
		throttle, _ = o.Store.(Throttle)
	}
	if throttle == nil && !limits.Off {
		return nil, fmt.Errorf("%w: Options.Limits need a Throttle, and the Store does not implement one; set Options.Throttle, or Options.Limits.Off to go without limits", ErrInvalidOptions)
	}
	return &Auth{
		legacy:        legacy,
		dpop:          dpop,
		throttle:      throttle,
		limits:        limits,
		clients:       clients,
		tokens:        tokens,
		warm:          tokens != nil && realClock,
		opts:          o,
		cookies:       cookies,
		lookup:        lookup,
		csrfHeader:    csrfHeader,
		keys:          keys,
		access:        newVerifier(accessKind, keys, &o, true),
		refresh:       newVerifier(refreshKind, keys, &o, true).reportingUnknownKeys(),
		logoutAccess:  newVerifier(accessKind, keys, &o, false).reportingUnknownKeys(),
		logoutRefresh: newVerifier(refreshKind, keys, &o, false).reportingUnknownKeys(),
	}, nil
}

// RevokeSession ends one session of subject: its access and refresh tokens
// stop working at once. Revoking a session that does not exist is not an error.
func (a *Auth) RevokeSession(ctx context.Context, subject, sessionID string) error {
	if subject == "" {
		return errEmptySubject
	}
	if err := a.opts.Store.DeleteSession(ctx, subject, sessionID); err != nil {
		return storeError(err)
	}
	a.emit(Event{Kind: EventRevoke, Subject: subject, SessionID: sessionID, Reason: "session"})
	return nil
}

// RevokeOtherSessions ends every session of subject except keepID, for "log
// out of all other devices".
func (a *Auth) RevokeOtherSessions(ctx context.Context, subject, keepID string) error {
	if subject == "" {
		return errEmptySubject
	}
	if err := a.opts.Store.RevokeOtherSessions(ctx, subject, keepID); err != nil {
		return storeError(err)
	}
	a.emit(Event{Kind: EventRevoke, Subject: subject, SessionID: keepID, Reason: "others"})
	return nil
}

// RevokeUser ends every session of subject, for "log out everywhere" or after
// a password change: every token issued to the subject so far stops working.
func (a *Auth) RevokeUser(ctx context.Context, subject string) error {
	if subject == "" {
		return errEmptySubject
	}
	if err := a.opts.Store.RevokeUser(ctx, subject); err != nil {
		return storeError(err)
	}
	a.emit(Event{Kind: EventRevoke, Subject: subject, Reason: "user"})
	return nil
}

// Sessions lists the live sessions of subject, oldest first.
func (a *Auth) Sessions(ctx context.Context, subject string) ([]SessionInfo, error) {
	if subject == "" {
		return nil, errEmptySubject
	}
	list, err := a.opts.Store.Sessions(ctx, subject)
	if err != nil {
		return nil, storeError(err)
	}
	return list, nil
}

var errEmptySubject = fmt.Errorf("%w: empty subject", ErrBadRequest)

// storeError marks a store failure as ErrStoreUnavailable, keeping the cause.
func storeError(err error) error {
	return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
}
