package otelguard

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// OutcomeUnknown is the outcome of a request to a route wrapped with
// Route that failed without the ErrorHandler of Instrument (or
// ErrorHandler) seeing the error, and the outcome on the span of a guarded
// request refused that way.
const OutcomeUnknown = "unknown"

// guardMarkKey and routeMarkKey are the gin context keys of the state of a
// guarded and of a routed request.
type (
	guardMarkKey struct{}
	routeMarkKey struct{}
)

// OnGuard returns an Options.OnGuard that measures every check of the
// guard (every request through Auth.Middleware, every Auth.Verify call)
// and then calls next, when not nil: each counts once in
// jwtguard.guard.requests and jwtguard.guard.duration, with outcome "ok"
// when the token passed and else the error code of the refusal
// (token_expired, token_revoked, insufficient_scope, store_unavailable, …).
// The duration covers the guard's checks only, never the handlers after
// it, timed from the clock reading the checks used (Options.Now). The
// count is an atomic add, reported at collection by an observable counter,
// and the duration one histogram measurement with a precomputed attribute
// set: nothing else on the hot path. Instrument installs it. A nil
// Instruments returns next.
func (in *Instruments) OnGuard(next func(context.Context, time.Time, error)) func(context.Context, time.Time, error) {
	if in == nil {
		return next
	}
	return func(ctx context.Context, started time.Time, err error) {
		outcome := OutcomeOK
		if err != nil {
			outcome = ginjwt.ErrorCode(err)
		}
		count := in.outcomes.get(outcome)
		count.n.Add(1)
		in.guardDuration.Record(ctx, max(time.Since(started), 0).Seconds(), count.opts.rec...)
		if next != nil {
			next(ctx, started, err)
		}
	}
}

// guardMark follows the span of one guarded request.
type guardMark struct {
	done bool
	span trace.Span
	orig context.Context // the request's context before the guard span
}

// Guard traces guard, a handler from Auth.Middleware: with a
// TracerProvider it returns the chain start, guard, passed, followed by
// handlers, for a route or a group, so that a jwtguard.guard span covers
// the guard's checks, with the store calls the guard makes as its
// children and the outcome as an attribute:
//
//	api := r.Group("/api", inst.Guard(auth.Middleware())...)
//	r.GET("/admin", inst.Guard(auth.Middleware(ginjwt.RequireRole("admin")), adminHandler)...)
//
// The outcome of a refusal needs the ErrorHandler that Instrument installs;
// without it the span's outcome is "unknown". Metrics need no Guard: the
// OnGuard of Instrument measures every guard. Without a TracerProvider,
// and for a nil Instruments, Guard returns guard followed by handlers.
func (in *Instruments) Guard(guard gin.HandlerFunc, handlers ...gin.HandlerFunc) gin.HandlersChain {
	if in == nil || !in.tracing {
		return append(gin.HandlersChain{guard}, handlers...)
	}
	return append(gin.HandlersChain{in.guardStart, guard, in.guardPassed}, handlers...)
}

func (in *Instruments) guardStart(c *gin.Context) {
	m := &guardMark{orig: c.Request.Context()}
	ctx, span := in.tracer.Start(m.orig, "jwtguard.guard")
	m.span = span
	c.Request = c.Request.WithContext(ctx)
	c.Set(guardMarkKey{}, m)
	c.Next()
	if !m.done {
		in.guardEnd(c, m, OutcomeUnknown)
	}
}

func (in *Instruments) guardPassed(c *gin.Context) {
	if m := markOf[guardMark](c, guardMarkKey{}); m != nil && !m.done {
		in.guardEnd(c, m, OutcomeOK)
	}
}

// guardEnd ends the span of a guarded request with its outcome.
func (in *Instruments) guardEnd(c *gin.Context, m *guardMark, outcome string) {
	m.done = true
	m.span.SetAttributes(AttrOutcome.String(outcome))
	if in.sessionIDs {
		if id := ginjwt.SessionID(c); id != "" {
			m.span.SetAttributes(AttrSessionID.String(id))
		}
	}
	if outcome != OutcomeOK {
		m.span.SetStatus(codes.Error, outcome)
	}
	m.span.End()
	c.Request = c.Request.WithContext(m.orig)
}

// routeMark follows one request to a route wrapped with Route.
type routeMark struct{ outcome string }

// Route measures an authentication route, such as login, refresh or
// logout, named by operation (a constant: it becomes an attribute and the
// span name jwtguard.<operation>). Put it before the route's handler:
//
//	r.POST("/auth/login", inst.Route("login"), auth.LoginHandler())
//
// Each request counts once in jwtguard.requests, by operation and outcome:
// "ok", or the error code of the failure as the ErrorHandler of Instrument
// saw it. With a TracerProvider, a jwtguard.<operation> span covers the
// request, with the store calls as its children. A nil Instruments returns
// a handler that does nothing.
func (in *Instruments) Route(operation string) gin.HandlerFunc {
	if in == nil {
		return func(*gin.Context) {}
	}
	spanName := "jwtguard." + operation
	return func(c *gin.Context) {
		r := &routeMark{}
		c.Set(routeMarkKey{}, r)
		var span trace.Span
		var orig context.Context
		if in.tracing {
			orig = c.Request.Context()
			var ctx context.Context
			ctx, span = in.tracer.Start(orig, spanName, trace.WithAttributes(AttrOperation.String(operation)))
			c.Request = c.Request.WithContext(ctx)
		}
		c.Next()
		outcome := r.outcome
		if outcome == "" {
			outcome = OutcomeOK
			if c.Writer.Status() >= http.StatusBadRequest {
				outcome = OutcomeUnknown
			}
		}
		ctx := c.Request.Context()
		opts := in.routeOpts.get(operation+"\x00"+outcome, func() []attribute.KeyValue {
			return []attribute.KeyValue{AttrOperation.String(operation), AttrOutcome.String(outcome)}
		})
		in.requests.Add(ctx, 1, opts.add...)
		if span == nil {
			return
		}
		span.SetAttributes(AttrOutcome.String(outcome), AttrStatusCode.Int(c.Writer.Status()))
		if in.sessionIDs {
			if id := ginjwt.SessionID(c); id != "" {
				span.SetAttributes(AttrSessionID.String(id))
			}
		}
		if outcome != OutcomeOK {
			span.SetStatus(codes.Error, outcome)
		}
		span.End()
		c.Request = c.Request.WithContext(orig)
	}
}

// ErrorHandler returns an Options.ErrorHandler that records the error code
// of a routed request (see Route) and on the span of a refused guarded
// request (see Guard), and then calls next: ginjwt.DefaultErrorHandler when
// next is nil.
func (in *Instruments) ErrorHandler(next func(*gin.Context, error)) func(*gin.Context, error) {
	if next == nil {
		next = ginjwt.DefaultErrorHandler
	}
	if in == nil {
		return next
	}
	return func(c *gin.Context, err error) {
		if m := markOf[guardMark](c, guardMarkKey{}); m != nil && !m.done {
			in.guardEnd(c, m, ginjwt.ErrorCode(err))
		}
		if r := markOf[routeMark](c, routeMarkKey{}); r != nil && r.outcome == "" {
			r.outcome = ginjwt.ErrorCode(err)
		}
		next(c, err)
	}
}

// markOf returns the *T stored under key in c, or nil.
func markOf[T any](c *gin.Context, key any) *T {
	v, ok := c.Get(key)
	if !ok {
		return nil
	}
	m, _ := v.(*T)
	return m
}
