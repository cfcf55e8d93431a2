package chaos

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The checker on made-up histories: each case is a few operations and the
// findings they must (or must not) give. No Redis needed.

// t0 is the made-up run's start.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// at is t0 plus ms milliseconds.
func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// tok is a token of session sid of user u.
func tok(u, sid string, gen int64, refresh bool) Token {
	return Token{Subject: u, SessionID: sid, Gen: gen, Ver: 7, Refresh: refresh, Expires: t0.Add(time.Hour)}
}

// op is an operation from start to end (milliseconds after t0).
func op(kind OpKind, start, end, status int, code string) Op {
	return Op{Kind: kind, Start: at(start), End: at(end), Status: status, Code: code}
}

func (o Op) with(f func(*Op)) Op { f(&o); return o }

func login(u, sid string, start, end int) Op {
	return op(OpLogin, start, end, http.StatusOK, "").with(func(o *Op) { o.User, o.Issued = u, tok(u, sid, 1, false) })
}

func guard(t Token, start, end, status int, code string, near bool) Op {
	return op(OpGuard, start, end, status, code).with(func(o *Op) { o.Tok, o.User, o.Near = t, t.Subject, near })
}

// check runs a checker of a fleet with or without acks over ops, with
// faults, in one batch or one batch per op.
func check(t *testing.T, acks bool, faults []*Fault, ops ...Op) *Checker {
	t.Helper()
	fs := &Faults{list: faults}
	c := newChecker(&Fleet{Name: "test", Acks: acks}, fs, t0)
	c.Process(ops, at(3600_000))
	c.Finish()
	return c
}

// expectFindings fails t unless c found exactly want findings of rule,
// among its violations (or losses when loss is true).
func expectFindings(t *testing.T, c *Checker, rule string, loss bool, want int) {
	t.Helper()
	counts, list := c.ViolationCount, c.Violations
	if loss {
		counts, list = c.LossCount, c.Losses
	}
	if counts[rule] != want {
		var b strings.Builder
		for _, f := range list {
			b.WriteString("\n  (" + f.Rule + ") " + f.Text + "\n    " + strings.Join(f.Excerpt, "\n    "))
		}
		t.Fatalf("rule (%s): %d findings (loss %v), want %d; all: %v%s", rule, counts[rule], loss, want, counts, b.String())
	}
}

func TestCheckerLogoutThenAccepted(t *testing.T) {
	at1 := tok("u", "S", 1, false)
	logout := op(OpLogoutLocal, 100, 110, http.StatusNoContent, "").with(func(o *Op) { o.Tok, o.User = at1, "u" })
	for _, tc := range []struct {
		name  string
		start int
		near  bool
		want  int
	}{
		{"before the ack", 105, false, 0},
		{"after the ack, no near-cache", 111, false, 1},
		{"within the bound, near-cache", 900, true, 0},
		{"past the bound, near-cache", 1200, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := check(t, true, nil, login("u", "S", 0, 10), logout, guard(at1, tc.start, tc.start+5, http.StatusOK, "", tc.near))
			expectFindings(t, c, ruleRevoked, false, tc.want)
		})
	}
}

func TestCheckerRotation(t *testing.T) {
	rt1, rt2 := tok("u", "S", 1, true), tok("u", "S", 2, true)
	refresh := func(rt Token, issued int64, start, end int) Op {
		return op(OpRefresh, start, end, http.StatusOK, "").with(func(o *Op) { o.Tok, o.User, o.Issued = rt, "u", tok("u", "S", issued, false) })
	}
	base := []Op{login("u", "S", 0, 10), refresh(rt1, 2, 100, 110)}

	// The rotated-away access token, after the rotation's acknowledgement.
	c := check(t, true, nil, append(base, guard(tok("u", "S", 1, false), 120, 125, http.StatusOK, "", false))...)
	expectFindings(t, c, ruleRevoked, false, 1)
	// The new one is fine, and so is the previous refresh token (it converges).
	c = check(t, true, nil, append(base, guard(tok("u", "S", 2, false), 120, 125, http.StatusOK, "", false),
		refresh(rt1, 2, 130, 140))...)
	expectFindings(t, c, ruleRevoked, false, 0)
	// A refresh token two generations old is reuse: accepting it is not.
	c = check(t, true, nil, append(base, refresh(rt2, 3, 200, 210), refresh(rt1, 3, 300, 310))...)
	expectFindings(t, c, ruleRevoked, false, 1)
	// Nor may a refresh answer a generation older than one acknowledged.
	c = check(t, true, nil, append(base, refresh(rt2, 3, 200, 210), refresh(rt2, 2, 300, 310))...)
	expectFindings(t, c, ruleRevoked, false, 1)
}

func TestCheckerWideRevocations(t *testing.T) {
	k, s, late := tok("u", "K", 1, false), tok("u", "S", 1, false), tok("u", "L", 1, false)
	ops := func(kind OpKind) []Op {
		wide := op(kind, 100, 120, http.StatusNoContent, "").with(func(o *Op) {
			o.User = "u"
			if kind != OpRevokeUser {
				o.Tok = k
			}
		})
		return []Op{
			login("u", "K", 0, 10), login("u", "S", 0, 20), login("u", "L", 90, 110), wide,
			guard(k, 200, 205, http.StatusOK, "", false),
			guard(s, 200, 205, http.StatusOK, "", false),
			guard(late, 200, 205, http.StatusOK, "", false), // its login was not done when the revocation started
		}
	}
	expectFindings(t, check(t, true, nil, ops(OpLogoutOthers)...), ruleRevoked, false, 1)
	expectFindings(t, check(t, true, nil, ops(OpLogoutGlobal)...), ruleRevoked, false, 2)
	expectFindings(t, check(t, true, nil, ops(OpRevokeUser)...), ruleRevoked, false, 2)
}

func TestCheckerAcksOffLosses(t *testing.T) {
	at1 := tok("u", "S", 1, false)
	logout := op(OpLogoutLocal, 100, 110, http.StatusNoContent, "").with(func(o *Op) { o.Tok, o.User = at1, "u" })
	c := check(t, false, nil, login("u", "S", 0, 10), logout, guard(at1, 200, 205, http.StatusOK, "", false))
	expectFindings(t, c, ruleRevoked, false, 0)
	expectFindings(t, c, ruleRevoked, true, 1)
}

func TestCheckerAnswers(t *testing.T) {
	at1 := tok("u", "S", 1, false)
	c := check(t, true, nil, login("u", "S", 0, 10),
		guard(at1, 20, 25, http.StatusInternalServerError, "server_error", false),
		guard(at1, 30, 35, http.StatusUnauthorized, "token_invalid", false),
		guard(at1, 40, 45, http.StatusServiceUnavailable, "store_unavailable", false),
		guard(at1, 50, 55, 0, "", false).with(func(o *Op) { o.Err = "connection reset" }),
	)
	expectFindings(t, c, ruleAnswers, false, 3)
	if c.Outside503 != 1 {
		t.Errorf("Outside503 = %d, want 1", c.Outside503)
	}
}

func TestCheckerLostSessions(t *testing.T) {
	at1 := tok("u", "S", 1, false)
	refused := guard(at1, 200, 205, http.StatusUnauthorized, "token_revoked", false)
	// Nothing explains it.
	expectFindings(t, check(t, true, nil, login("u", "S", 0, 10), refused), ruleLostValid, false, 1)
	// A refresh that got no answer may have rotated it.
	attempt := op(OpRefresh, 150, 1150, http.StatusServiceUnavailable, "store_unavailable").with(func(o *Op) {
		o.Tok, o.User = tok("u", "S", 1, true), "u"
	})
	expectFindings(t, check(t, true, nil, login("u", "S", 0, 10), attempt, refused), ruleLostValid, false, 0)
	// A RevokeUser that answered 503 may have been applied.
	revoke := op(OpRevokeUser, 150, 160, http.StatusServiceUnavailable, "store_unavailable").with(func(o *Op) { o.User = "u" })
	expectFindings(t, check(t, true, nil, login("u", "S", 0, 10), revoke, refused), ruleLostValid, false, 0)
	// An emptied Redis ends every session.
	flush := &Fault{Kind: FaultKind{Name: "flushall", StateLoss: true}, Start: at(100), Cleared: at(101), End: at(101)}
	expectFindings(t, check(t, true, []*Fault{flush}, login("u", "S", 0, 10), refused), ruleLostValid, false, 0)
	// Without acks a lost session is a loss, not a violation.
	c := check(t, false, nil, login("u", "S", 0, 10), refused)
	expectFindings(t, c, ruleLostValid, false, 0)
	expectFindings(t, c, ruleLostValid, true, 1)
}

// A refusal is judged only once every operation that started before it
// ended has come in, however late that operation ended: here a RevokeUser
// that started before the refusal and ended after it, in a later batch.
func TestCheckerWaitsForLateExplanations(t *testing.T) {
	c := newChecker(&Fleet{Name: "test", Acks: true}, &Faults{}, t0)
	refused := guard(tok("u", "S", 1, false), 200, 205, http.StatusUnauthorized, "token_revoked", false)
	c.Process([]Op{login("u", "S", 0, 10), refused}, at(210))
	revoke := op(OpRevokeUser, 150, 1150, http.StatusNoContent, "").with(func(o *Op) { o.User = "u" })
	c.Process([]Op{revoke}, at(1200))
	c.Process(nil, at(3600_000))
	expectFindings(t, c, ruleLostValid, false, 0)
}

func TestCheckerRecovery(t *testing.T) {
	slow := &Fault{Kind: FaultKind{Name: "pause"}, Start: at(0), Cleared: at(1000), End: at(1000),
		Recoveries: []Recovery{{Fleet: "test", Instance: 0, Took: 3 * time.Second, OK: true}, {Fleet: "test", Instance: 1, Took: time.Second, OK: true}}}
	failover := &Fault{Kind: FaultKind{Name: "failover", Restarts: true}, Start: at(0), Cleared: at(3000), End: at(4000),
		Recoveries: []Recovery{{Fleet: "test", Instance: 0, Took: 3 * time.Second, OK: true}, {Fleet: "test", Instance: 1, OK: false}}}
	c := check(t, true, []*Fault{slow, failover})
	expectFindings(t, c, ruleRecovery, false, 2)
}

func TestHistorySettled(t *testing.T) {
	var h History
	h.Add(op(OpGuard, 0, 100, http.StatusOK, ""))
	h.Add(op(OpGuard, 0, 300, http.StatusOK, ""))
	h.Add(op(OpGuard, 0, 200, http.StatusOK, ""))
	if got := h.Settled(at(250)); len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 3 {
		t.Fatalf("Settled(250ms) = %+v; want ops 1 and 3", got)
	}
	if got := h.Settled(at(1000)); len(got) != 1 || got[0].Seq != 2 {
		t.Fatalf("Settled(1s) = %+v; want op 2", got)
	}
}

func TestParseToken(t *testing.T) {
	// {"alg":"HS256"}.{"sub":"u","sid":"S","gen":3,"ver":7,"typ":"refresh","exp":1}.sig
	raw := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1Iiwic2lkIjoiUyIsImdlbiI6MywidmVyIjo3LCJ0eXAiOiJyZWZyZXNoIiwiZXhwIjoxfQ.c2ln"
	got, err := parseToken(raw)
	want := Token{Subject: "u", SessionID: "S", Gen: 3, Ver: 7, Refresh: true, Expires: time.Unix(1, 0)}
	if err != nil || got != want {
		t.Fatalf("parseToken = %+v, %v; want %+v", got, err, want)
	}
	if _, err := parseToken("not.a-jwt"); err == nil {
		t.Fatal("parseToken accepted a malformed token")
	}
}

func TestCheckerPrunes(t *testing.T) {
	c := newChecker(&Fleet{Name: "test", Acks: true}, &Faults{}, t0)
	c.Process([]Op{login("u", "old", 0, 10), login("u", "new", 0, 10)}, at(20))
	later := int((sessionHorizon + time.Minute) / time.Millisecond)
	c.Process([]Op{guard(tok("u", "new", 1, false), later, later+5, http.StatusOK, "", false)}, at(later+10))
	if _, ok := c.sessions["old"]; ok {
		t.Error("a session untouched for longer than the horizon was kept")
	}
	if _, ok := c.sessions["new"]; !ok {
		t.Error("a session in use was pruned")
	}
	if u := c.users["u"]; u == nil || len(u.live) != 1 || u.live[0].id != "new" {
		t.Errorf("the user's live sessions after pruning: %+v", u)
	}
}
