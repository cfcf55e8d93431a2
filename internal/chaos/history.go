package chaos

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// OpKind is what a client did.
type OpKind uint8

// Operation kinds.
const (
	OpLogin        OpKind = iota + 1
	OpGuard               // a guarded request with the client's current access token
	OpProbe               // a guarded request replaying an older access token, of any session
	OpRefresh             // a refresh with the client's current refresh token
	OpReplay              // a refresh replaying an older refresh token (a thief)
	OpLogoutLocal         // logout, scope local, with the access or the refresh token
	OpLogoutOthers        // logout, scope others, with the access token
	OpLogoutGlobal        // logout, scope global, with the access token
	OpRevokeUser          // Auth.RevokeUser, called from Go
)

var opNames = map[OpKind]string{
	OpLogin: "login", OpGuard: "guard", OpProbe: "probe", OpRefresh: "refresh", OpReplay: "replay",
	OpLogoutLocal: "logout-local", OpLogoutOthers: "logout-others", OpLogoutGlobal: "logout-global",
	OpRevokeUser: "revoke-user",
}

// String returns the kind's name, such as "refresh".
func (k OpKind) String() string {
	if s, ok := opNames[k]; ok {
		return s
	}
	return fmt.Sprintf("OpKind(%d)", k)
}

// guardLike reports whether an operation of kind k asks the guard to
// accept an access token.
func (k OpKind) guardLike() bool { return k == OpGuard || k == OpProbe }

// refreshLike reports whether an operation of kind k presents a refresh
// token at the refresh route.
func (k OpKind) refreshLike() bool { return k == OpRefresh || k == OpReplay }

// Token is what the checker knows of a token: its claims, read without
// verifying the signature.
type Token struct {
	Subject   string
	SessionID string
	Gen       int64
	Ver       int64
	Refresh   bool
	Expires   time.Time
}

// IsZero reports whether t is no token.
func (t Token) IsZero() bool { return t.SessionID == "" }

// String is a short form for history excerpts.
func (t Token) String() string {
	if t.IsZero() {
		return "-"
	}
	kind := "AT"
	if t.Refresh {
		kind = "RT"
	}
	return fmt.Sprintf("%s(%s sid=%s g%d v%d)", kind, t.Subject, short(t.SessionID), t.Gen, t.Ver%100000)
}

// short cuts a session id for display.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// parseToken reads the claims of a JWT without verifying it.
func parseToken(raw string) (Token, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return Token{}, errors.New("chaos: not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Token{}, fmt.Errorf("chaos: JWT payload: %w", err)
	}
	var c struct {
		Sub string `json:"sub"`
		Sid string `json:"sid"`
		Gen int64  `json:"gen"`
		Ver int64  `json:"ver"`
		Typ string `json:"typ"`
		Exp int64  `json:"exp"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return Token{}, fmt.Errorf("chaos: JWT claims: %w", err)
	}
	if c.Sid == "" || c.Sub == "" {
		return Token{}, errors.New("chaos: JWT without sub or sid")
	}
	return Token{Subject: c.Sub, SessionID: c.Sid, Gen: c.Gen, Ver: c.Ver, Refresh: c.Typ == "refresh",
		Expires: time.Unix(c.Exp, 0)}, nil
}

// Clients that are not virtual clients, in Op.Client.
const (
	clientAdmin    = -1 // the admin calling RevokeUser
	clientRecovery = -2 // the recovery prober after a fault
	clientAudit    = -3 // the audit after a fault
)

// Op is one operation of the history: what was sent, when, through which
// instance, and what came back.
type Op struct {
	Seq      uint64
	Kind     OpKind
	Client   int // virtual client; clientAdmin or clientRecovery otherwise
	Instance int
	Near     bool // the instance has the near-cache
	// Start is just before the request was sent; End just after its answer
	// arrived: the acknowledgement time of a revocation.
	Start, End time.Time
	Status     int    // HTTP status; for RevokeUser 204 on success, 503 for ErrStoreUnavailable, 500 otherwise
	Code       string // the error code of a failure answer
	Err        string // the transport error when no answer came
	User       string // the subject of a login or RevokeUser, or of the presented token
	Tok        Token  // the token presented; zero for login and RevokeUser
	Issued     Token  // the access token that a 200 login or refresh returned
	Pair       uint64 // the pair of a concurrent duplicate refresh; 0 for none
}

// Outcome is the op's result in one word: the status and the error code,
// or "no-answer".
func (o *Op) Outcome() string {
	if o.Err != "" {
		return "no-answer"
	}
	if o.Code != "" {
		return fmt.Sprintf("%d %s", o.Status, o.Code)
	}
	return fmt.Sprint(o.Status)
}

// format renders o for an excerpt, with times relative to t0.
func (o *Op) format(t0 time.Time) string {
	inst := fmt.Sprintf("i%d", o.Instance)
	if o.Near {
		inst += "(near)"
	}
	who := fmt.Sprintf("c%d", o.Client)
	switch o.Client {
	case clientAdmin:
		who = "admin"
	case clientRecovery:
		who = "recovery"
	case clientAudit:
		who = "audit"
	}
	s := fmt.Sprintf("%9s..%-9s #%d %s %s %s", rel(o.Start, t0), rel(o.End, t0), o.Seq, who, inst, o.Kind)
	if o.Tok.IsZero() {
		s += " user=" + o.User
	} else {
		s += " " + o.Tok.String()
	}
	if o.Pair != 0 {
		s += fmt.Sprintf(" pair=%d", o.Pair)
	}
	s += " → " + o.Outcome()
	if !o.Issued.IsZero() {
		s += " issued " + o.Issued.String()
	}
	if o.Err != "" {
		s += " (" + o.Err + ")"
	}
	return s
}

// rel is t as seconds since t0, with milliseconds.
func rel(t, t0 time.Time) string {
	return fmt.Sprintf("%+.3fs", t.Sub(t0).Seconds())
}

// History collects the operations of one fleet as they complete and hands
// them to the checker once settled: once nothing that started before them
// can still be in flight. It is safe for concurrent use.
type History struct {
	mu      sync.Mutex
	seq     uint64
	pending []Op
}

// Add records op, giving it the next sequence number.
func (h *History) Add(op Op) {
	h.mu.Lock()
	h.seq++
	op.Seq = h.seq
	h.pending = append(h.pending, op)
	h.mu.Unlock()
}

// Settled removes and returns the recorded operations that ended before
// cutoff.
func (h *History) Settled(cutoff time.Time) []Op {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Op
	keep := h.pending[:0]
	for _, op := range h.pending {
		if op.End.Before(cutoff) {
			out = append(out, op)
		} else {
			keep = append(keep, op)
		}
	}
	// Clear the tail so that the moved ops' strings can be collected.
	clear(h.pending[len(keep):])
	h.pending = keep
	return out
}
