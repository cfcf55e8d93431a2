package ginjwt

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/gin-gonic/gin"
)

// Throttle keeps the counters behind the login limits and Auth.RateLimit,
// shared by every instance of an app. redisstore.Store (with
// github.com/go-redis/redis_rate) and memstore.Store implement it;
// ginjwt/storetest checks an implementation.
//
// Keys are opaque strings of up to a few hundred bytes chosen by ginjwt,
// such as "login-ip:203.0.113.7"; a store may hash them. Like a Store, a
// Throttle returns errors for system failures only, and the request then
// answers 503: limits fail closed.
type Throttle interface {
	// Take spends one attempt of key under r. When none is left it spends
	// nothing and reports, in the Allowance, how long until one is.
	Take(ctx context.Context, key string, r Rate) (Allowance, error)

	// Refund gives one attempt taken under r back to key, at most up to a
	// full burst. ginjwt refunds the per-IP attempt of a successful login,
	// so that only failures use the limit up.
	Refund(ctx context.Context, key string, r Rate) error

	// Attempt counts one attempt on key under b. When key is locked out it
	// counts nothing and returns the time left; otherwise it returns 0 and,
	// when the count reaches b.Free or more, locks key out for
	// b.Lockout doubled once per attempt past b.Free, at most b.MaxLockout.
	// Counts are forgotten b.Forget after the last attempt.
	Attempt(ctx context.Context, key string, b Backoff) (lockedFor time.Duration, err error)

	// Clear forgets the attempts counted on key and any lockout.
	Clear(ctx context.Context, key string) error
}

// Rate is a limit in the generic cell rate algorithm (GCRA): Burst attempts
// at once, and one more every Period/Count after that.
type Rate struct {
	Count  int           // attempts per Period; ≥ 1
	Period time.Duration // ≥ 1 ms
	Burst  int           // attempts at once; default Count
}

// window is how long an empty Rate takes to refill completely.
func (r Rate) window() time.Duration {
	return time.Duration(int64(r.Period) / int64(r.Count) * int64(r.Burst))
}

func (r Rate) withDefaults(name string) (Rate, error) {
	if r.Burst == 0 {
		r.Burst = r.Count
	}
	if r.Count < 1 || r.Burst < 1 || r.Period < time.Millisecond {
		return r, fmt.Errorf("%w: %s: a Rate needs Count ≥ 1, Burst ≥ 1 and Period ≥ 1ms (got %d per %v, burst %d)", ErrInvalidOptions, name, r.Count, r.Period, r.Burst)
	}
	return r, nil
}

// Allowance is what Throttle.Take decided.
type Allowance struct {
	Allowed    bool
	Remaining  int           // attempts still allowed at once
	RetryAfter time.Duration // when not Allowed: until the next attempt is
	ResetAfter time.Duration // until the full burst is available again
}

// Backoff locks an account out after repeated login attempts that did not
// succeed, for longer each time. A successful login clears it.
type Backoff struct {
	Free       int           // attempts before the first lockout
	Lockout    time.Duration // the first lockout; each later attempt doubles it
	MaxLockout time.Duration // the longest lockout
	Forget     time.Duration // attempts are forgotten this long after the last one
}

// Limits configures the throttling of logins and refreshes. Its zero value
// means the defaults below.
type Limits struct {
	// Off turns the built-in limits off. Auth.RateLimit still works.
	Off bool

	// LoginPerIP bounds login attempts per client IP, IPv6 per /64, as gin's
	// ClientIP reports it (configure its trusted proxies). A successful
	// login gives its attempt back, so only failures use the limit up and
	// an office behind one NAT keeps logging in; it is there against one
	// client trying many accounts. Default 100 per 10 minutes.
	LoginPerIP Rate

	// Account backs off failed logins per account: the name the app passes
	// to LoginAttempt. Default: 5 free attempts, then a lockout of 1 minute
	// doubling up to 15 minutes; attempts forgotten after 1 hour.
	Account Backoff

	// RefreshPerSession bounds the successful refreshes of each session; the
	// Store applies it inside the rotation (Rotation.Limit), so it costs no
	// round trip. Reuse is never throttled. Default 60 per minute.
	RefreshPerSession Rate
}

// Default limits; see Limits.
var (
	DefaultLoginPerIP        = Rate{Count: 100, Period: 10 * time.Minute}
	DefaultAccountBackoff    = Backoff{Free: 5, Lockout: time.Minute, MaxLockout: 15 * time.Minute, Forget: time.Hour}
	DefaultRefreshPerSession = Rate{Count: 60, Period: time.Minute}
)

func (l Limits) withDefaults() (Limits, error) {
	if l.LoginPerIP == (Rate{}) {
		l.LoginPerIP = DefaultLoginPerIP
	}
	if l.Account == (Backoff{}) {
		l.Account = DefaultAccountBackoff
	}
	if l.RefreshPerSession == (Rate{}) {
		l.RefreshPerSession = DefaultRefreshPerSession
	}
	var err error
	if l.LoginPerIP, err = l.LoginPerIP.withDefaults("Options.Limits.LoginPerIP"); err != nil {
		return l, err
	}
	if l.RefreshPerSession, err = l.RefreshPerSession.withDefaults("Options.Limits.RefreshPerSession"); err != nil {
		return l, err
	}
	b := l.Account
	if b.Free < 1 || b.Lockout < time.Second || b.MaxLockout < b.Lockout || b.Forget < b.MaxLockout {
		return l, fmt.Errorf("%w: Options.Limits.Account needs Free ≥ 1, Lockout ≥ 1s, MaxLockout ≥ Lockout and Forget ≥ MaxLockout", ErrInvalidOptions)
	}
	return l, nil
}

// Policy names, as they appear in RateLimit headers and event reasons.
const (
	policyLoginIP      = "login-ip"
	policyLoginAccount = "login-account"
	policyRefresh      = "refresh"
)

// ipKey is the throttle key of a client IP: IPv4 addresses as they are,
// IPv6 addresses by their /64, which one client usually holds whole.
func ipKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return policyLoginIP + ":" + ip
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return policyLoginIP + ":" + p.String()
	}
	return policyLoginIP + ":" + addr.String()
}

// take spends one attempt of key under r, answering a *RateLimitError when
// none is left.
func (a *Auth) take(ctx context.Context, policy, key string, r Rate) (Allowance, error) {
	d, err := a.throttle.Take(ctx, key, r)
	if err != nil {
		return d, storeError(err)
	}
	if !d.Allowed {
		return d, &RateLimitError{Policy: policy, Quota: r.Burst, Window: r.window(), RetryAfter: d.RetryAfter}
	}
	return d, nil
}

// refreshLimit is the Rotation.Limit of a refresh: the per-session limit,
// which the store applies inside the rotation itself, at no extra round
// trip.
func (a *Auth) refreshLimit() Rate {
	if a.limits.Off {
		return Rate{}
	}
	return a.limits.RefreshPerSession
}

// startLogin spends the login's attempt of its client IP and prepares
// LoginAttempt. It returns nil, nil with Limits.Off.
func (a *Auth) startLogin(c *gin.Context, client ClientInfo) (*loginAttempt, error) {
	if a.limits.Off {
		return nil, nil
	}
	if _, err := a.take(c.Request.Context(), policyLoginIP, ipKey(client.IP), a.limits.LoginPerIP); err != nil {
		return nil, err
	}
	attempt := &loginAttempt{auth: a}
	c.Set(loginKey{}, attempt)
	return attempt, nil
}

// loginSucceeded gives the client IP its attempt back and clears the
// account's failed attempts. The login stands if that fails: the counters
// then expire on their own, and the failure goes to c.Error.
func (a *Auth) loginSucceeded(c *gin.Context, client ClientInfo, attempt *loginAttempt) {
	if attempt == nil {
		return
	}
	ctx := c.Request.Context()
	if err := a.throttle.Refund(ctx, ipKey(client.IP), a.limits.LoginPerIP); err != nil {
		_ = c.Error(storeError(err))
	}
	if attempt.account != "" {
		if err := a.throttle.Clear(ctx, accountKey(attempt.account)); err != nil {
			_ = c.Error(storeError(err))
		}
	}
}
