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

// OutcomeUnknown is the outcome of a guarded request refused without the
// ErrorHandler of Instrument (or ErrorHandler) seeing the error.
const OutcomeUnknown = "unknown"

// guardMarkKey and routeMarkKey are the gin context keys of the state of a
// guarded and of a routed request.
type (
	guardMarkKey struct{}
	routeMarkKey struct{}
)

// guardMark follows one guarded request.
type guardMark struct {
	start time.Time
	done  bool
	span  trace.Span
	orig  context.Context // the request's context before the guard span
}

// Guard measures guard, a handler from Auth.Middleware: it returns the
// chain start, guard, passed, followed by handlers, for a route or a
// group:
//
//	api := r.Group("/api", inst.Guard(auth.Middleware())...)
//	r.GET("/admin", inst.Guard(auth.Middleware(ginjwt.RequireRole("admin")), adminHandler)...)
//
// Each request counts once in jwtguard.guard.requests and
// jwtguard.guard.duration, with outcome "ok" when the guard let it through
// and else the error code of the refusal (token_expired, token_revoked,
// insufficient_scope, store_unavailable, …). The duration covers the
// guard's checks only, never the handlers after it. With a TracerProvider,
// a jwtguard.guard span covers the same interval; store calls made by the
// guard are its children. The error code needs the ErrorHandler that
// Instrument installs; without it a refusal counts as "unknown".
//
// A nil Instruments returns guard followed by handlers.
func (in *Instruments) Guard(guard gin.HandlerFunc, handlers ...gin.HandlerFunc) gin.HandlersChain {
	if in == nil {
		return append(gin.HandlersChain{guard}, handlers...)
	}
	return append(gin.HandlersChain{in.guardStart, guard, in.guardPassed}, handlers...)
}

func (in *Instruments) guardStart(c *gin.Context) {
	m := &guardMark{start: time.Now()}
	if in.tracing {
		m.orig = c.Request.Context()
		ctx, span := in.tracer.Start(m.orig, "jwtguard.guard")
		m.span = span
		c.Request = c.Request.WithContext(ctx)
	}
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

// guardEnd records the outcome of a guarded request and ends its span.
func (in *Instruments) guardEnd(c *gin.Context, m *guardMark, outcome string) {
	m.done = true
	ctx := c.Request.Context()
	count := in.outcomes.get(outcome)
	count.n.Add(1)
	in.guardDuration.Record(ctx, time.Since(m.start).Seconds(), count.opts.rec...)
	if m.span == nil {
		return
	}
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
// of a refused guarded request (see Guard) or routed request (see Route),
// and then calls next: ginjwt.DefaultErrorHandler when next is nil.
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
