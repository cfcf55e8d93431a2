package otelguard

import (
	"context"
	"time"

	"github.com/jwtguard/jwtguard/ginjwt"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Store and throttle operations, the values of the operation attribute of
// jwtguard.store.duration and the suffixes of the jwtguard.store.* spans.
const (
	OpCreateSession       = "create_session"
	OpState               = "state"
	OpFreshState          = "fresh_state"
	OpStateAndProof       = "state_and_proof"
	OpRotate              = "rotate"
	OpDeleteSession       = "delete_session"
	OpRevokeOtherSessions = "revoke_other_sessions"
	OpRevokeUser          = "revoke_user"
	OpSessions            = "sessions"
	OpThrottleTake        = "throttle_take"
	OpThrottleRefund      = "throttle_refund"
	OpThrottleAttempt     = "throttle_attempt"
	OpThrottleClear       = "throttle_clear"
)

var allOps = []string{
	OpCreateSession, OpState, OpFreshState, OpStateAndProof, OpRotate, OpDeleteSession, OpRevokeOtherSessions,
	OpRevokeUser, OpSessions, OpThrottleTake, OpThrottleRefund, OpThrottleAttempt, OpThrottleClear,
}

// opInfo holds what a call of one operation records, computed once.
type opInfo struct {
	spanName string
	spanOpts []trace.SpanStartOption
	ok, err  *measureOpts
}

// call is one store call in progress.
type call struct {
	in    *Instruments
	op    *opInfo
	start time.Time
	span  trace.Span
}

// begin starts measuring a call of op; ctx is the context to pass on.
func (in *Instruments) begin(ctx context.Context, op string) (context.Context, call) {
	c := call{in: in, op: in.ops[op], start: time.Now()}
	if in.tracing {
		ctx, c.span = in.tracer.Start(ctx, c.op.spanName, c.op.spanOpts...)
	}
	return ctx, c
}

// end records the call's duration and result, and ends its span with the
// attributes given.
func (c call) end(ctx context.Context, err error, attrs ...attribute.KeyValue) {
	opts := c.op.ok
	if err != nil {
		opts = c.op.err
	}
	c.in.storeDuration.Record(ctx, time.Since(c.start).Seconds(), opts.rec...)
	if c.span == nil {
		return
	}
	if len(attrs) > 0 {
		c.span.SetAttributes(attrs...)
	}
	if err != nil {
		// The error's text stays out: store errors may quote keys, which
		// hold subjects. Its presence is enough to find the log line.
		c.span.SetStatus(codes.Error, "store error")
		c.span.SetAttributes(AttrResult.String("error"))
	}
	c.span.End()
}

func (in *Instruments) initOps() {
	in.ops = make(map[string]*opInfo, len(allOps))
	for _, op := range allOps {
		in.ops[op] = &opInfo{
			spanName: "jwtguard.store." + op,
			spanOpts: []trace.SpanStartOption{
				trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(AttrOperation.String(op)),
			},
			ok:  newMeasureOpts(AttrOperation.String(op), AttrResult.String("ok")),
			err: newMeasureOpts(AttrOperation.String(op), AttrResult.String("error")),
		}
	}
}

// cachedStater is a store with a near-cache it can read without I/O, such
// as *redisstore.Store.
type cachedStater interface {
	CachedState(subject, sessionID string) (st ginjwt.SessionState, found, ok bool)
}

// Store returns s measured: each call records its duration in
// jwtguard.store.duration (by operation and result) and, with a
// TracerProvider, a jwtguard.store.<operation> span, a child of the
// request's span. A State call that a redisstore near-cache answers
// without I/O is neither timed nor traced: jwtguard.nearcache.hits counts
// it, and the guard's own duration covers it. The result implements ginjwt.StateRefresher and
// ginjwt.Throttle exactly when s does, so that the guard's cache
// re-check and the default Options.Throttle keep working; other methods of
// s (such as redisstore's Close) stay on s. Subjects, session ids and
// throttle keys are never recorded. A nil Instruments or a nil s returns
// s.
func (in *Instruments) Store(s ginjwt.Store) ginjwt.Store {
	if in == nil || s == nil {
		return s
	}
	st := &store{in: in, next: s}
	st.cached, _ = s.(cachedStater)
	var (
		r *refresher
		t *throttle
		p *prover
	)
	if v, ok := s.(ginjwt.StateRefresher); ok {
		r = &refresher{in, v}
	}
	if v, ok := s.(ginjwt.Throttle); ok {
		t = &throttle{in, v}
	}
	if v, ok := s.(ginjwt.ProofStore); ok {
		p = &prover{in, v}
	}
	// One type per combination of the optional interfaces, so that each
	// is implemented exactly when s implements it.
	switch {
	case r != nil && t != nil && p != nil:
		return &struct {
			*store
			*refresher
			*throttle
			*prover
		}{st, r, t, p}
	case r != nil && t != nil:
		return &struct {
			*store
			*refresher
			*throttle
		}{st, r, t}
	case r != nil && p != nil:
		return &struct {
			*store
			*refresher
			*prover
		}{st, r, p}
	case t != nil && p != nil:
		return &struct {
			*store
			*throttle
			*prover
		}{st, t, p}
	case r != nil:
		return &struct {
			*store
			*refresher
		}{st, r}
	case t != nil:
		return &struct {
			*store
			*throttle
		}{st, t}
	case p != nil:
		return &struct {
			*store
			*prover
		}{st, p}
	}
	return st
}

// prover measures a ginjwt.ProofStore: operation state_and_proof.
type prover struct {
	in   *Instruments
	next ginjwt.ProofStore
}

func (p *prover) StateAndProof(ctx context.Context, subject, sessionID string, check ginjwt.ProofCheck) (ginjwt.SessionState, bool, ginjwt.ProofOutcome, error) {
	ctx, c := p.in.begin(ctx, OpStateAndProof)
	st, found, outcome, err := p.next.StateAndProof(ctx, subject, sessionID, check)
	if c.span != nil {
		c.end(ctx, err, AttrFound.Bool(found), AttrProofOutcome.String(outcome.String()))
	} else {
		c.end(ctx, err)
	}
	return st, found, outcome, err
}

// Throttle returns t measured like Store, with the operations
// throttle_take, throttle_refund, throttle_attempt and throttle_clear. The
// keys, which hold client IPs and account names, are never recorded. A nil
// Instruments or a nil t returns t.
func (in *Instruments) Throttle(t ginjwt.Throttle) ginjwt.Throttle {
	if in == nil || t == nil {
		return t
	}
	return &throttle{in, t}
}

type store struct {
	in     *Instruments
	next   ginjwt.Store
	cached cachedStater // next, when it has a near-cache; else nil
}

func (s *store) CreateSession(ctx context.Context, subject string, ns ginjwt.NewSession) (ginjwt.CreateResult, error) {
	ctx, c := s.in.begin(ctx, OpCreateSession)
	res, err := s.next.CreateSession(ctx, subject, ns)
	c.end(ctx, err, attribute.Int("jwtguard.sessions.evicted", len(res.Evicted)))
	return res, err
}

func (s *store) State(ctx context.Context, subject, sessionID string) (ginjwt.SessionState, bool, error) {
	if s.cached != nil {
		if st, found, hit := s.cached.CachedState(subject, sessionID); hit {
			return st, found, nil // counted in jwtguard.nearcache.hits
		}
	}
	ctx, c := s.in.begin(ctx, OpState)
	st, found, err := s.next.State(ctx, subject, sessionID)
	if c.span != nil {
		c.end(ctx, err, AttrFound.Bool(found))
	} else {
		c.end(ctx, err)
	}
	return st, found, err
}

func (s *store) Rotate(ctx context.Context, subject, sessionID string, r ginjwt.Rotation) (ginjwt.RotateResult, error) {
	ctx, c := s.in.begin(ctx, OpRotate)
	res, err := s.next.Rotate(ctx, subject, sessionID, r)
	if err == nil && c.span != nil {
		c.end(ctx, err, AttrRotateOutcome.String(res.Outcome.String()))
	} else {
		c.end(ctx, err)
	}
	return res, err
}

func (s *store) DeleteSession(ctx context.Context, subject, sessionID string) error {
	ctx, c := s.in.begin(ctx, OpDeleteSession)
	err := s.next.DeleteSession(ctx, subject, sessionID)
	c.end(ctx, err)
	return err
}

func (s *store) RevokeOtherSessions(ctx context.Context, subject, keepID string) error {
	ctx, c := s.in.begin(ctx, OpRevokeOtherSessions)
	err := s.next.RevokeOtherSessions(ctx, subject, keepID)
	c.end(ctx, err)
	return err
}

func (s *store) RevokeUser(ctx context.Context, subject string) error {
	ctx, c := s.in.begin(ctx, OpRevokeUser)
	err := s.next.RevokeUser(ctx, subject)
	c.end(ctx, err)
	return err
}

func (s *store) Sessions(ctx context.Context, subject string) ([]ginjwt.SessionInfo, error) {
	ctx, c := s.in.begin(ctx, OpSessions)
	list, err := s.next.Sessions(ctx, subject)
	c.end(ctx, err)
	return list, err
}

type refresher struct {
	in   *Instruments
	next ginjwt.StateRefresher
}

func (r *refresher) FreshState(ctx context.Context, subject, sessionID string) (ginjwt.SessionState, bool, error) {
	ctx, c := r.in.begin(ctx, OpFreshState)
	st, found, err := r.next.FreshState(ctx, subject, sessionID)
	if c.span != nil {
		c.end(ctx, err, AttrFound.Bool(found))
	} else {
		c.end(ctx, err)
	}
	return st, found, err
}

type throttle struct {
	in   *Instruments
	next ginjwt.Throttle
}

func (t *throttle) Take(ctx context.Context, key string, r ginjwt.Rate) (ginjwt.Allowance, error) {
	ctx, c := t.in.begin(ctx, OpThrottleTake)
	a, err := t.next.Take(ctx, key, r)
	if err == nil && c.span != nil {
		c.end(ctx, err, attribute.Bool("jwtguard.throttle.allowed", a.Allowed))
	} else {
		c.end(ctx, err)
	}
	return a, err
}

func (t *throttle) Refund(ctx context.Context, key string, r ginjwt.Rate) error {
	ctx, c := t.in.begin(ctx, OpThrottleRefund)
	err := t.next.Refund(ctx, key, r)
	c.end(ctx, err)
	return err
}

func (t *throttle) Attempt(ctx context.Context, key string, b ginjwt.Backoff) (time.Duration, error) {
	ctx, c := t.in.begin(ctx, OpThrottleAttempt)
	d, err := t.next.Attempt(ctx, key, b)
	c.end(ctx, err)
	return d, err
}

func (t *throttle) Clear(ctx context.Context, key string) error {
	ctx, c := t.in.begin(ctx, OpThrottleClear)
	err := t.next.Clear(ctx, key)
	c.end(ctx, err)
	return err
}
