package chaos

import (
	"bufio"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// settle is how long after an operation ended the checker waits before it
// looks at it: longer than any request may take (httpTimeout), so that
// every operation that started before it ended has been recorded.
const settle = httpTimeout + 2*time.Second

// Rules, as in the package comment.
const (
	ruleRevoked   = "a" // a revoked token accepted after its acknowledged revocation
	ruleAnswers   = "b" // a 500, an unexpected answer or none
	ruleRecovery  = "c" // no recovery within the bound after a fault
	ruleLostValid = "d" // a valid session refused with nothing to explain it
)

var ruleNames = map[string]string{
	ruleRevoked:   "revoked token accepted",
	ruleAnswers:   "bad answer",
	ruleRecovery:  "slow recovery",
	ruleLostValid: "valid session lost",
}

// Finding is a violation, or with acks off a loss: a rule broken, with an
// excerpt of the history around it.
type Finding struct {
	Rule    string
	Text    string
	Excerpt []string
}

// maxExcerpts is how many findings per rule keep their excerpt.
const maxExcerpts = 10

// Checker checks the history of one fleet, batch by batch as operations
// settle. It is not safe for concurrent use.
type Checker struct {
	fleet  *Fleet
	faults *Faults
	t0     time.Time

	sessions map[string]*sessionFacts
	users    map[string]*userFacts

	// Counts counts operations by kind and outcome.
	Counts map[OpKind]map[string]int
	// Violations break a rule; Losses are what rules (a) and (d) find with
	// acks off, the documented loss of asynchronous replication.
	Violations, Losses        []Finding
	ViolationCount, LossCount map[string]int
	// RevokedPresented counts the answers (not 503) to revoked tokens
	// presented after their acknowledged revocation (plus the bound), and
	// Accepted those that accepted them.
	RevokedPresented, Accepted int
	// WithinBound counts revoked tokens that near-cache instances accepted
	// within the near-cache bound after the revocation; MaxStaleness is the
	// longest such delay, from the acknowledgement to the start of the
	// request that was still accepted.
	WithinBound  int
	MaxStaleness time.Duration
	// Outside503 counts 503s that no fault window explains.
	Outside503  int
	outside503s []string

	deferred  []Op // refusals waiting for rule (d)
	lastPrune time.Time
	log       *bufio.Writer // the whole history, when asked for
}

// sessionFacts is what the history proves about one session.
type sessionFacts struct {
	id, user             string
	loginStart, loginEnd time.Time
	// revoked is the earliest acknowledgement of a revocation of the whole
	// session; zero if none.
	revoked   time.Time
	revokedBy Op
	// gens are the generations that refreshes acknowledged, each with the
	// earliest acknowledgement of it or a later one: increasing in both.
	gens []genAck
	// changes are refreshes that succeeded, with their start: for (d).
	changes []genAck
	// disturbed is the earliest start of an operation that may have changed
	// the session in a way the history does not show: a refresh or logout
	// without a 200 answer. Zero if none.
	disturbed time.Time
	recent    []Op      // the session's last operations, for excerpts
	lastSeen  time.Time // the end of the last operation on the session
	pruned    bool
}

// genAck is a generation acknowledged (or started) at a time, by an op.
type genAck struct {
	gen int64
	at  time.Time
	op  Op
}

// userFacts is what the history proves about one user.
type userFacts struct {
	live []*sessionFacts // logged in and not known revoked, in login order
	wide []wideOp        // every wide revocation attempt, for (d)
}

// wideOp is a logout of scope others or global, or a RevokeUser, that may
// have been applied.
type wideOp struct {
	start, end time.Time
	keep       string // the session scope others keeps; "" for global
}

// recentOps is how many operations per session excerpts show.
const recentOps = 12

// Pruning keeps a long run's memory bounded. A session that no operation
// touched for sessionHorizon is forgotten: by then no client holds it and
// it has left the replay pool (whose turnover is seconds), and should an
// operation touch it again, it is checked as a session of unknown origin —
// less checking, never a false finding. Wide revocation attempts are kept
// for wideHorizon, far longer than a session lives.
const (
	sessionHorizon = 5 * time.Minute
	wideHorizon    = 30 * time.Minute
	pruneEvery     = time.Minute
)

func newChecker(fleet *Fleet, faults *Faults, t0 time.Time) *Checker {
	return &Checker{
		fleet: fleet, faults: faults, t0: t0,
		sessions: map[string]*sessionFacts{}, users: map[string]*userFacts{},
		Counts:         map[OpKind]map[string]int{},
		ViolationCount: map[string]int{}, LossCount: map[string]int{},
	}
}

// Process checks a batch of settled operations: every operation that
// ended before through and was not in an earlier batch.
func (c *Checker) Process(ops []Op, through time.Time) {
	slices.SortFunc(ops, func(a, b Op) int { return a.End.Compare(b.End) })
	if c.log != nil {
		for i := range ops {
			fmt.Fprintf(c.log, "%s\n", ops[i].format(c.t0))
		}
	}
	for i := range ops {
		c.note(&ops[i])
	}
	for i := range ops {
		c.learn(&ops[i])
	}
	for i := range ops {
		c.check(&ops[i])
	}
	c.checkDeferred(through)
	if n := len(ops); n > 0 {
		c.prune(ops[n-1].End)
	}
}

// maxOpSpan bounds how long any operation takes: the HTTP client's
// timeout, or the store timeout for RevokeUser, with a margin.
const maxOpSpan = httpTimeout + time.Second

// checkDeferred applies rule (d) to the refusals whose explanations are all
// known: those that ended more than maxOpSpan before through, so that
// every operation that started before they ended has been processed. The
// rule looks at operations that started before the refusal ended, which
// may end, and so come in a batch, well after it.
func (c *Checker) checkDeferred(through time.Time) {
	n := 0
	for _, op := range c.deferred {
		if op.End.Add(maxOpSpan).Before(through) {
			c.checkRefused(&op, c.session(op.Tok.SessionID))
		} else {
			c.deferred[n] = op
			n++
		}
	}
	clear(c.deferred[n:])
	c.deferred = c.deferred[:n]
}

// prune forgets the sessions that no operation touched for sessionHorizon
// before now, and the wide revocations older than wideHorizon.
func (c *Checker) prune(now time.Time) {
	if now.Sub(c.lastPrune) < pruneEvery {
		return
	}
	c.lastPrune = now
	for id, s := range c.sessions {
		if now.Sub(s.lastSeen) > sessionHorizon {
			s.pruned = true
			delete(c.sessions, id)
		}
	}
	for name, u := range c.users {
		u.live = slices.DeleteFunc(u.live, func(s *sessionFacts) bool { return s.pruned })
		u.wide = slices.DeleteFunc(u.wide, func(w wideOp) bool { return now.Sub(w.end) > wideHorizon })
		if len(u.live) == 0 && len(u.wide) == 0 {
			delete(c.users, name)
		}
	}
}

func (c *Checker) session(id string) *sessionFacts {
	s := c.sessions[id]
	if s == nil {
		s = &sessionFacts{id: id}
		c.sessions[id] = s
	}
	return s
}

func (c *Checker) user(name string) *userFacts {
	u := c.users[name]
	if u == nil {
		u = &userFacts{}
		c.users[name] = u
	}
	return u
}

// note counts op, registers the session a login started, and keeps op for
// excerpts.
func (c *Checker) note(op *Op) {
	if c.Counts[op.Kind] == nil {
		c.Counts[op.Kind] = map[string]int{}
	}
	c.Counts[op.Kind][op.Outcome()]++
	if op.Kind == OpLogin && op.Status == http.StatusOK && !op.Issued.IsZero() {
		s := c.session(op.Issued.SessionID)
		s.user, s.loginStart, s.loginEnd = op.User, op.Start, op.End
		u := c.user(op.User)
		u.live = append(u.live, s)
	}
	for _, tok := range []Token{op.Tok, op.Issued} {
		if !tok.IsZero() {
			s := c.session(tok.SessionID)
			s.lastSeen = op.End
			if len(s.recent) == recentOps {
				s.recent = s.recent[1:]
			}
			s.recent = append(s.recent, *op)
			if tok.SessionID == op.Issued.SessionID {
				break
			}
		}
	}
}

// learn records what an acknowledged operation proves: a generation
// reached, a session or a user's sessions revoked; and, for rule (d), what
// an unacknowledged one may have done.
func (c *Checker) learn(op *Op) {
	ok := op.Err == "" && (op.Status == http.StatusOK || op.Status == http.StatusNoContent)
	// Reuse ends the session: 400 invalid_grant at the refresh route, 401 at
	// logout.
	reused := (op.Status == http.StatusBadRequest || op.Status == http.StatusUnauthorized) && op.Code == "refresh_reused"
	switch op.Kind {
	case OpRefresh, OpReplay:
		s := c.session(op.Tok.SessionID)
		switch {
		case ok && !op.Issued.IsZero():
			s.ackGen(op.Issued.Gen, op.End, *op)
			s.changes = append(s.changes, genAck{gen: op.Issued.Gen, at: op.Start, op: *op})
		case op.Code != "token_expired":
			s.disturb(op.Start)
		}
		if reused {
			c.revoke(s, *op)
		}
	case OpLogoutLocal:
		s := c.session(op.Tok.SessionID)
		s.disturb(op.Start)
		if ok || reused {
			c.revoke(s, *op)
		}
	case OpLogoutOthers, OpLogoutGlobal, OpRevokeUser:
		keep := ""
		if op.Kind == OpLogoutOthers {
			keep = op.Tok.SessionID
		}
		u := c.user(op.User)
		if op.Status != http.StatusUnauthorized { // a 401 refused the token before anything changed
			u.wide = append(u.wide, wideOp{start: op.Start, end: op.End, keep: keep})
		}
		if !ok {
			return
		}
		// Every session whose login was acknowledged before this started
		// is in the user's index, and this removed it.
		live := u.live[:0]
		for _, s := range u.live {
			if s.loginEnd.Before(op.Start) && s.id != keep {
				c.revoke(s, *op)
			} else {
				live = append(live, s)
			}
		}
		u.live = live
	}
}

// ackGen records that op acknowledged generation gen of the session at at.
// Operations come in the order of their acknowledgements, so a generation
// at most the highest known adds nothing.
func (s *sessionFacts) ackGen(gen int64, at time.Time, op Op) {
	if n := len(s.gens); n > 0 && s.gens[n-1].gen >= gen {
		return
	}
	s.gens = append(s.gens, genAck{gen: gen, at: at, op: op})
}

// disturb records an operation that may have changed the session.
func (s *sessionFacts) disturb(start time.Time) {
	if s.disturbed.IsZero() || start.Before(s.disturbed) {
		s.disturbed = start
	}
}

// revoke records that op revoked the whole session when it was
// acknowledged.
func (c *Checker) revoke(s *sessionFacts, op Op) {
	if s.revoked.IsZero() || op.End.Before(s.revoked) {
		s.revoked, s.revokedBy = op.End, op
	}
}

// revokedAt returns when tok was first known revoked, and by what: its
// session revoked, or a generation acknowledged that tok may no longer be
// used with — any later one for an access token; for a refresh token, one
// past the next (the next is still the previous generation, which
// converges or retries).
func (s *sessionFacts) revokedAt(tok Token) (time.Time, Op, bool) {
	at, by, found := s.revoked, s.revokedBy, !s.revoked.IsZero()
	past := tok.Gen
	if tok.Refresh {
		past++
	}
	for _, g := range s.gens {
		if g.gen > past {
			if !found || g.at.Before(at) {
				at, by, found = g.at, g.op, true
			}
			break
		}
	}
	return at, by, found
}

// allowed are the answers each kind of operation may get, besides 503
// store_unavailable. The refresh route refuses a grant with 400
// invalid_grant; an Op records the reason, such as refresh_reused.
var allowed = map[OpKind][]string{
	OpLogin:        {"200"},
	OpGuard:        {"200", "401 token_revoked", "401 token_expired", "401 session_expired"},
	OpProbe:        {"200", "401 token_revoked", "401 token_expired", "401 session_expired"},
	OpRefresh:      {"200", "400 token_revoked", "400 refresh_reused", "400 token_expired", "400 session_expired"},
	OpReplay:       {"200", "400 token_revoked", "400 refresh_reused", "400 token_expired", "400 session_expired"},
	OpLogoutLocal:  {"204", "401 token_revoked", "401 refresh_reused"},
	OpLogoutOthers: {"204", "401 token_revoked", "401 token_expired"},
	OpLogoutGlobal: {"204", "401 token_revoked", "401 token_expired"},
	OpRevokeUser:   {"204"},
}

// check applies the rules to op.
func (c *Checker) check(op *Op) {
	switch out := op.Outcome(); {
	case op.Err != "":
		c.find(ruleAnswers, op, nil, "no answer: "+op.Err)
	case out == "503 store_unavailable":
		if !c.faults.during(op.Start, op.End) {
			c.Outside503++
			if len(c.outside503s) < maxExcerpts {
				c.outside503s = append(c.outside503s, op.format(c.t0))
			}
		}
	case op.Status >= 500:
		c.find(ruleAnswers, op, nil, fmt.Sprintf("answered %s", out))
	case !slices.Contains(allowed[op.Kind], out):
		c.find(ruleAnswers, op, nil, fmt.Sprintf("unexpected answer %s to %s", out, op.Kind))
	case (op.Kind == OpLogin || op.Kind.refreshLike()) && op.Status == http.StatusOK && op.Issued.IsZero():
		c.find(ruleAnswers, op, nil, "200 without readable tokens")
	}
	if op.Tok.IsZero() {
		return
	}
	s := c.session(op.Tok.SessionID)
	wide := op.Kind == OpLogoutOthers || op.Kind == OpLogoutGlobal
	accepted := op.Err == "" && ((op.Kind.guardLike() || op.Kind.refreshLike()) && op.Status == http.StatusOK ||
		wide && op.Status == http.StatusNoContent)
	if op.Kind.guardLike() || op.Kind.refreshLike() || wide {
		c.checkRevoked(op, s, accepted)
	}
	if op.Kind.refreshLike() && op.Status == http.StatusOK && !op.Issued.IsZero() {
		c.checkForward(op, s)
	}
	if op.Kind.guardLike() && op.Status == http.StatusUnauthorized && op.Code == "token_revoked" {
		c.deferred = append(c.deferred, *op) // see checkDeferred
	}
}

// checkRevoked is rule (a): a token must not be accepted for a request
// that started after its revocation was acknowledged — plus the near-cache
// bound on a near-cache instance, for the routes that read the session
// through the cache. It also counts the revoked tokens presented.
func (c *Checker) checkRevoked(op *Op, s *sessionFacts, accepted bool) {
	at, by, revoked := s.revokedAt(op.Tok)
	if !revoked || !op.Start.After(at) || unavailable(*op) {
		return
	}
	var bound time.Duration
	if op.Near && !op.Kind.refreshLike() { // refresh rotates in Redis, never from the cache
		bound = nearCacheTTL
	}
	late := op.Start.Sub(at)
	if late <= bound {
		if accepted {
			c.WithinBound++
			c.MaxStaleness = max(c.MaxStaleness, late)
		}
		return
	}
	c.RevokedPresented++
	if !accepted {
		return
	}
	c.Accepted++
	c.find(ruleRevoked, op, &by, fmt.Sprintf("%s accepted by instance %d (near-cache %v) %v after its revocation was acknowledged (bound %v)",
		op.Tok, op.Instance, op.Near, late.Round(time.Microsecond), bound))
}

// checkForward is rule (a) for generations: a refresh answers with the
// session's current generation, which never goes back, so it is never
// below one acknowledged before the refresh started.
func (c *Checker) checkForward(op *Op, s *sessionFacts) {
	for i := len(s.gens) - 1; i >= 0; i-- {
		g := s.gens[i]
		if g.at.Before(op.Start) {
			if g.gen > op.Issued.Gen {
				c.find(ruleRevoked, op, &g.op, fmt.Sprintf("refresh answered generation %d after generation %d had been acknowledged: the session went back",
					op.Issued.Gen, g.gen))
			}
			return
		}
	}
}

// checkRefused is rule (d): with acks on, a token refused as revoked must
// have been revoked, rotated away or lost with an emptied Redis.
func (c *Checker) checkRefused(op *Op, s *sessionFacts) {
	if _, by, revoked := s.revokedAt(op.Tok); revoked && by.Start.Before(op.End) {
		return
	}
	if s.loginEnd.IsZero() || // a session the history does not show starting
		(!s.disturbed.IsZero() && s.disturbed.Before(op.End)) ||
		c.faults.stateLoss(s.loginStart, op.End) {
		return
	}
	for _, ch := range s.changes {
		if ch.at.Before(op.End) && ch.gen > op.Tok.Gen {
			return
		}
	}
	for _, w := range c.user(s.user).wide {
		if w.start.Before(op.End) && w.end.After(s.loginStart) && w.keep != s.id {
			return
		}
	}
	c.find(ruleLostValid, op, nil, fmt.Sprintf("%s refused as revoked by instance %d, with no revocation, rotation, refresh attempt or emptied Redis to explain it",
		op.Tok, op.Instance))
}

// find records a finding of rule about op; by is the operation that
// revoked op's token, if any. With acks off, findings of rules (a) and (d)
// are losses.
func (c *Checker) find(rule string, op *Op, by *Op, text string) {
	loss := !c.fleet.Acks && (rule == ruleRevoked || rule == ruleLostValid)
	count, list := c.ViolationCount, &c.Violations
	if loss {
		count, list = c.LossCount, &c.Losses
	}
	count[rule]++
	if count[rule] > maxExcerpts {
		return
	}
	f := Finding{Rule: rule, Text: text}
	from := op.Start
	if by != nil {
		f.Excerpt = append(f.Excerpt, "revoked by: "+by.format(c.t0))
		from = by.Start
	}
	f.Excerpt = append(f.Excerpt, "this op:    "+op.format(c.t0))
	if !op.Tok.IsZero() {
		f.Excerpt = append(f.Excerpt, "the session's last operations:")
		for _, r := range c.session(op.Tok.SessionID).recent {
			f.Excerpt = append(f.Excerpt, "  "+r.format(c.t0))
		}
	}
	if !op.Tok.IsZero() {
		f.Excerpt = append(f.Excerpt, c.fleet.notes.about(op.Instance, op.Tok.SessionID, op.Start, op.End, c.t0)...)
	}
	f.Excerpt = append(f.Excerpt, c.faults.around(from.Add(-10*time.Second), op.End, c.t0)...)
	*list = append(*list, f)
}

// Finish applies rule (c) to the faults once the run is over.
func (c *Checker) Finish() {
	for _, f := range c.faults.Snapshot() {
		for _, r := range f.Recoveries {
			if r.Fleet != c.fleet.Name {
				continue
			}
			if r.OK && r.Took <= f.Kind.bound() {
				continue
			}
			text := fmt.Sprintf("instance %d: no fresh login + guarded call within %v after %s cleared", r.Instance, recoveryPatience, f.Kind.Name)
			if r.OK {
				text = fmt.Sprintf("instance %d served a fresh session %v after %s cleared (bound %v)", r.Instance, r.Took.Round(time.Millisecond), f.Kind.Name, f.Kind.bound())
			}
			c.ViolationCount[ruleRecovery]++
			if c.ViolationCount[ruleRecovery] <= maxExcerpts {
				c.Violations = append(c.Violations, Finding{Rule: ruleRecovery, Text: text,
					Excerpt: c.faults.around(f.Start, f.End, c.t0)})
			}
		}
	}
}
