package ginjwt

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// RateLimitError is the error of a request a limit refused. It wraps
// ErrTooManyRequests, so the client sees 429 too_many_requests, with
// Retry-After and the RateLimit-Policy and RateLimit headers of the IETF
// httpapi draft.
type RateLimitError struct {
	Policy     string        // which limit: "login-ip", "login-account", "refresh", or a name given to Auth.RateLimit
	Quota      int           // attempts at once under the policy; 0 for the account backoff
	Window     time.Duration // how long an unused quota takes to refill
	RetryAfter time.Duration // until the next attempt is allowed
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("ginjwt: %s limit reached; retry after %v", e.Policy, e.RetryAfter)
}

// Unwrap returns ErrTooManyRequests.
func (e *RateLimitError) Unwrap() error { return ErrTooManyRequests }

// setHeaders writes Retry-After, RateLimit-Policy and RateLimit.
func (e *RateLimitError) setHeaders(c *gin.Context) {
	retry := seconds(e.RetryAfter)
	c.Header("Retry-After", strconv.FormatInt(retry, 10))
	if e.Quota > 0 {
		c.Header("RateLimit-Policy", policyHeader(e.Policy, e.Quota, e.Window))
	}
	c.Header("RateLimit", limitHeader(e.Policy, 0, retry))
}

func policyHeader(policy string, quota int, window time.Duration) string {
	return strconv.Quote(policy) + ";q=" + strconv.Itoa(quota) + ";w=" + strconv.FormatInt(seconds(window), 10)
}

func limitHeader(policy string, remaining int, reset int64) string {
	return strconv.Quote(policy) + ";r=" + strconv.Itoa(remaining) + ";t=" + strconv.FormatInt(reset, 10)
}

// seconds rounds d up to whole seconds, at least 1.
func seconds(d time.Duration) int64 {
	return max(1, int64((d+time.Second-1)/time.Second))
}

// loginKey holds, in a login request's context, what LoginAttempt needs.
type loginKey struct{}

// loginAttempt is the throttling state of one login request.
type loginAttempt struct {
	auth    *Auth
	account string // set by LoginAttempt
}

// LoginAttempt tells LoginHandler which account the login in c is for, and
// refuses it while that account is locked out after failed attempts (see
// Limits.Account). Call it from Options.Authenticate as soon as the login
// name is known, before checking the password, and return its error as it
// is:
//
//	if err := ginjwt.LoginAttempt(c, body.Username); err != nil {
//		return ginjwt.Identity{}, err // 429, or 503 when the store is down
//	}
//
// Call it for unknown names too: a locked-out name answers the same
// whether or not the account exists. The attempt counts until the login
// succeeds, which clears the account's count. Outside LoginHandler, or with
// Limits.Off, it does nothing and returns nil.
func LoginAttempt(c *gin.Context, account string) error {
	v, ok := c.Get(loginKey{})
	if !ok {
		return nil
	}
	attempt := v.(*loginAttempt)
	a := attempt.auth
	attempt.account = account
	b := a.limits.Account
	locked, err := a.throttle.Attempt(c.Request.Context(), accountKey(account), b)
	if err != nil {
		return storeError(err)
	}
	if locked > 0 {
		return &RateLimitError{Policy: policyLoginAccount, RetryAfter: locked}
	}
	return nil
}

func accountKey(account string) string { return policyLoginAccount + ":" + account }

// RateLimit returns a middleware that allows each client r and answers 429
// too_many_requests beyond it, with the same headers as the login limits;
// allowed responses carry RateLimit-Policy and RateLimit too. name labels
// the limit in headers and events, and separates its counters from other
// limits'. key picks the client; nil means the client IP (IPv6 per /64).
// It uses Options.Throttle, or the Store when that implements Throttle, even
// with Limits.Off, and panics at route set-up when there is none or r is
// not valid.
func (a *Auth) RateLimit(name string, r Rate, key func(*gin.Context) string) gin.HandlerFunc {
	if a.throttle == nil {
		panic("ginjwt: RateLimit needs a Throttle: Options.Throttle, or a Store that implements it")
	}
	r, err := r.withDefaults("RateLimit " + strconv.Quote(name))
	if err != nil {
		panic(err)
	}
	if key == nil {
		key = func(c *gin.Context) string { return ipKey(c.ClientIP()) }
	}
	policy := policyHeader(name, r.Burst, r.window())
	return func(c *gin.Context) {
		d, err := a.take(c.Request.Context(), name, "app:"+name+":"+key(c), r)
		if err != nil {
			a.refuse(c, err, Event{Subject: Subject(c), SessionID: SessionID(c)})
			return
		}
		c.Header("RateLimit-Policy", policy)
		c.Header("RateLimit", limitHeader(name, d.Remaining, seconds(d.ResetAfter)))
		c.Next()
	}
}

// refuse answers err and, when a limit refused the request, emits e as a
// throttled event naming the limit.
func (a *Auth) refuse(c *gin.Context, err error, e Event) {
	var limited *RateLimitError
	if errors.As(err, &limited) {
		client := clientInfo(c)
		e.Kind, e.Reason, e.IP, e.UserAgent = EventThrottled, limited.Policy, client.IP, client.UserAgent
		a.emit(e)
	}
	a.fail(c, err)
}
