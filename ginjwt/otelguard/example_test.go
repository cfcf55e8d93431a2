package otelguard_test

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/ginjwt/otelguard"
	"github.com/jwtguard/jwtguard/memstore"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Wire the instruments into the Options and around the routes. The app
// owns the SDK: here a MeterProvider with a ManualReader and a
// TracerProvider without exporter; in production, the exporters of its
// choice (Prometheus, OTLP, …).
func Example() {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tp := sdktrace.NewTracerProvider()
	inst, err := otelguard.New(mp, tp)
	if err != nil {
		panic(err)
	}
	opts := ginjwt.Options{
		Store: memstore.New(),
		Keys:  []ginjwt.Key{ginjwt.HS256([]byte("use-32-or-more-random-bytes-here"))},
		Authenticate: func(c *gin.Context) (ginjwt.Identity, error) {
			return ginjwt.Identity{}, ginjwt.ErrInvalidCredentials
		},
	}
	inst.Instrument(&opts) // store, OnEvent and ErrorHandler
	auth, err := ginjwt.New(opts)
	if err != nil {
		panic(err)
	}
	r := gin.New()
	r.POST("/auth/login", inst.Route("login"), auth.LoginHandler())
	r.POST("/auth/refresh", inst.Route("refresh"), auth.RefreshHandler())
	r.POST("/auth/logout", inst.Route("logout"), auth.LogoutHandler())
	api := r.Group("/api", inst.Guard(auth.Middleware())...)
	api.GET("/me", func(c *gin.Context) { c.String(http.StatusOK, ginjwt.Subject(c)) })
	// Output:
}
