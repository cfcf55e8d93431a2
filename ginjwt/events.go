package ginjwt

import "time"

// EventKind names what happened.
type EventKind string

// Event kinds.
const (
	EventLogin         EventKind = "login"          // a session started
	EventLoginFailed   EventKind = "login_failed"   // Authenticate refused the request; Reason is the error code
	EventRefresh       EventKind = "refresh"        // a session rotated, or converged within the grace window (Reason "converged")
	EventReuseDetected EventKind = "reuse_detected" // a rotated refresh token came back; the session was revoked
	EventLogout        EventKind = "logout"         // a logout request, or a revocation at RevocationHandler (Reason local); Reason is its scope: local, others or global
	EventRevoke        EventKind = "revoke"         // a revocation from Go or the session routes (Reason session, others or user), or by a login past Options.MaxSessions (Reason session_limit)
	EventThrottled     EventKind = "throttled"      // a limit refused a request with 429; Reason is the limit: login-ip, login-account, refresh, or a RateLimit name
	EventStepUp        EventKind = "step_up"        // Auth.StepUp raised a session's authentication; Reason is the new acr
)

// ReasonSessionLimit is the Reason of the revoke event of a session that a
// login ended because its subject had Options.MaxSessions sessions: the
// least recently used one. SessionID is the ended session; IP and UserAgent
// are those of the login, which emits one such event per ended session,
// before its own login event.
const ReasonSessionLimit = "session_limit"

// Event describes one action, for audit logs and metrics. It never holds a
// token or a secret.
type Event struct {
	Kind      EventKind
	Time      time.Time
	Subject   string // empty for a failed login
	SessionID string // the session acted on; empty when there is none
	Device    string
	IP        string // informational: gin's ClientIP, as trustworthy as its trusted proxies
	UserAgent string
	Reason    string
}

// emit hands e to Options.OnEvent, if set.
func (a *Auth) emit(e Event) {
	if a.opts.OnEvent == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = a.opts.Now()
	}
	a.opts.OnEvent(e)
}
