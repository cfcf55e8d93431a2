// Command example is a small Gin API whose JWTs can be revoked, built with
// jwtguard. It needs nothing installed:
//
//	go run ./example
//
// starts it on :8080 with an embedded in-memory Redis. Environment:
//
//	ADDR        listen address (default ":8080")
//	REDIS_ADDR  host:port of a Redis to use instead of the embedded one
//	REDIS_CLUSTER_ADDRS  comma-separated seed nodes of a Redis Cluster instead
//	REDIS_SENTINEL_ADDRS comma-separated sentinels, with REDIS_MASTER_NAME the
//	            name of the primary they watch, instead
//	REDIS_REPLICA_ACKS=N durable writes: every login, refresh and logout
//	            waits until N replicas hold it (REDIS_REPLICA_ACK_TIMEOUT, a
//	            Go duration, default 500ms; 503 when they don't)
//	JWT_SECRET  HMAC secret, at least 32 bytes (default: random at each
//	            start, so tokens do not survive a restart)
//	COOKIE_INSECURE=1  browser cookies without the Secure attribute, for
//	            plain HTTP on a host other than localhost
//	ACCESS_TTL  access token lifetime, a Go duration such as "2s" (default
//	            15m); short ones let tests and demos watch tokens expire
//	PUBLIC_URL  the URL clients reach the app at (default
//	            http://localhost:8080): the tokens' issuer and the base of
//	            the URLs in the OAuth metadata; https, or http on localhost
//	INTROSPECTION_CLIENT_ID, INTROSPECTION_CLIENT_SECRET  the HTTP Basic
//	            credentials of the services that may call /oauth/introspect
//	            (a secret of at least 16 bytes); unset, the route is off
//	OTEL_METRICS=prometheus  OpenTelemetry metrics (ginjwt/otelguard) served
//	            at GET /metrics in the Prometheus text format; unset or
//	            "none": no metrics
//	OTEL_TRACES=stdout  OpenTelemetry spans of logins, refreshes, logouts,
//	            guard checks and store calls, as JSON on standard output;
//	            unset or "none": no traces
//	DPOP=optional|required  DPoP (RFC 9449) on the bearer routes: a login
//	            with a DPoP proof (required: every login) binds the session
//	            to the client's key; proofs name PUBLIC_URL. Unset: off
//	DPOP_NONCE_LIFETIME  with DPOP: proofs must carry a server nonce
//	            (DPoP-Nonce header), a new one each period, such as 5m
//
// Demo users: alice / wonderland (admin) and bob / builder. Routes:
//
//	POST   /auth/login          {"username","password"} -> tokens (bearer transport)
//	POST   /auth/refresh        {"refresh_token"} -> tokens
//	POST   /auth/logout         access or refresh token; ?scope=local|others|global
//	POST   /auth/step-up        access token + {"username","password"} -> a fresh access token
//	GET    /auth/sessions       the caller's sessions
//	DELETE /auth/sessions/:id   end one of them
//	       /web/auth/...        the same routes with the cookie transport for browsers:
//	                            HttpOnly cookies, X-CSRF-Token on unsafe requests
//	GET    /.well-known/jwks.json  public keys (empty with an HMAC key)
//	GET    /.well-known/oauth-authorization-server  RFC 8414 metadata
//	POST   /oauth/introspect    RFC 7662 token introspection, for other services
//	POST   /oauth/revoke        RFC 7009 token revocation
//	GET    /api/me              who am I (guarded)
//	POST   /api/password        {"current_password","new_password"}: logs out everywhere
//	GET    /api/admin           admins only
//	GET    /api/account/export  needs a login or step-up within 5 minutes (RFC 9470)
//	GET    /ws                  WebSocket upgrade guarded by Verify: one greeting, then close
//	GET    /healthz
//	GET    /metrics             with OTEL_METRICS=prometheus
//	GET    /openapi.json        OpenAPI 3.1 description of these routes (example/openapi.json)
//	GET    /demo/               browser demo of the JavaScript client (example/web)
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
	"github.com/jwtguard/jwtguard/ginjwt/otelguard"
	"github.com/jwtguard/jwtguard/redisstore"
	"github.com/redis/go-redis/v9"
)

// shutdownTimeout bounds how long in-flight requests may take to finish
// after SIGINT or SIGTERM.
const shutdownTimeout = 10 * time.Second

// config is the app's configuration, read from the environment by loadConfig.
type config struct {
	addr            string   // listen address
	redisAddr       string   // host:port of Redis; with no Redis set, an embedded miniredis starts
	clusterAddrs    []string // seed nodes of a Redis Cluster
	sentinelAddrs   []string // sentinels watching the primary masterName
	masterName      string
	replicaAcks     int           // redisstore.WithReplicaAcks; 0 off
	ackTimeout      time.Duration // how long a write waits for the replicas
	keyPrefix       string        // Redis key prefix; empty means redisstore's default
	secret          []byte        // HMAC secret of the tokens
	secretGenerated bool          // secret is random, made at start
	cookieInsecure  bool          // browser cookies without Secure, for plain HTTP beyond localhost

	// accessTTL is the access token lifetime; zero means ginjwt's default.
	accessTTL time.Duration

	// publicURL is the tokens' issuer and the base of the metadata's URLs;
	// empty means defaultPublicURL.
	publicURL string
	// introspection holds the credentials of the introspection route's
	// one client; a zero ID leaves the route off.
	introspection ginjwt.ClientCredentials

	// otelMetrics ("prometheus") and otelTraces ("stdout") turn on the
	// OpenTelemetry signals; empty: off. See example/otel.go.
	otelMetrics, otelTraces string

	// dpop is the DPoP mode of the bearer routes; ginjwt.DPoPOff unless
	// DPOP says otherwise. dpopNonce is DPOP_NONCE_LIFETIME; 0: no nonces.
	dpop      ginjwt.DPoPMode
	dpopNonce time.Duration
}

// defaultPublicURL is the public URL of an app started with the defaults.
const defaultPublicURL = "http://localhost:8080"

// OAuth routes for other services.
const (
	metadataPath      = "/.well-known/oauth-authorization-server"
	introspectionPath = "/oauth/introspect"
	revocationPath    = "/oauth/revoke"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(log); err != nil {
		log.Error("example stopped", "error", err)
		os.Exit(1)
	}
}

// run wires the app from the environment and serves it until a signal.
func run(log *slog.Logger) error {
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		return err
	}
	if cfg.secretGenerated {
		log.Warn("JWT_SECRET is not set: using a random secret; tokens will not survive a restart")
	}
	if _, set := os.LookupEnv(gin.EnvGinMode); !set {
		gin.SetMode(gin.ReleaseMode)
	}
	router, closeApp, err := newApp(cfg, log)
	if err != nil {
		return err
	}
	defer closeApp()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg.addr, router, log)
}

// loadConfig reads the configuration from the environment through lookup
// (os.LookupEnv). A JWT_SECRET that is set must be at least 32 bytes; an
// unset one is replaced by 32 random bytes.
func loadConfig(lookup func(string) (string, bool)) (config, error) {
	cfg := config{addr: ":8080"}
	if addr, ok := lookup("ADDR"); ok && addr != "" {
		cfg.addr = addr
	}
	cfg.redisAddr, _ = lookup("REDIS_ADDR")
	cfg.clusterAddrs = splitList(lookup("REDIS_CLUSTER_ADDRS"))
	cfg.sentinelAddrs = splitList(lookup("REDIS_SENTINEL_ADDRS"))
	cfg.masterName, _ = lookup("REDIS_MASTER_NAME")
	set := 0
	for _, on := range []bool{cfg.redisAddr != "", len(cfg.clusterAddrs) > 0, len(cfg.sentinelAddrs) > 0} {
		if on {
			set++
		}
	}
	cfg.ackTimeout = 500 * time.Millisecond
	if v, ok := lookup("REDIS_REPLICA_ACKS"); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return cfg, fmt.Errorf("REDIS_REPLICA_ACKS=%q: want the number of replicas every write waits for, such as 1", v)
		}
		cfg.replicaAcks = n
	}
	if v, ok := lookup("REDIS_REPLICA_ACK_TIMEOUT"); ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d >= redisstore.DefaultTimeout {
			return cfg, fmt.Errorf("REDIS_REPLICA_ACK_TIMEOUT=%q: want a duration below %v, such as 500ms", v, redisstore.DefaultTimeout)
		}
		cfg.ackTimeout = d
	}
	switch {
	case cfg.replicaAcks > 0 && set == 0:
		return cfg, errors.New("REDIS_REPLICA_ACKS needs a real Redis with replicas: set REDIS_ADDR, REDIS_CLUSTER_ADDRS or REDIS_SENTINEL_ADDRS")
	case set > 1:
		return cfg, errors.New("set one of REDIS_ADDR, REDIS_CLUSTER_ADDRS and REDIS_SENTINEL_ADDRS, not several")
	case len(cfg.sentinelAddrs) > 0 && cfg.masterName == "":
		return cfg, errors.New("REDIS_SENTINEL_ADDRS needs REDIS_MASTER_NAME, the name of the primary the sentinels watch")
	}
	if v, _ := lookup("COOKIE_INSECURE"); v == "1" {
		cfg.cookieInsecure = true
	}
	switch v, _ := lookup("DPOP"); v {
	case "", "off":
	case "optional":
		cfg.dpop = ginjwt.DPoPOptional
	case "required":
		cfg.dpop = ginjwt.DPoPRequired
	default:
		return cfg, fmt.Errorf("DPOP=%q: want optional, required or off", v)
	}
	if v, ok := lookup("DPOP_NONCE_LIFETIME"); ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || cfg.dpop == ginjwt.DPoPOff {
			return cfg, fmt.Errorf("DPOP_NONCE_LIFETIME=%q: want a duration such as 5m, with DPOP set", v)
		}
		cfg.dpopNonce = d
	}
	if v, ok := lookup("ACCESS_TTL"); ok && v != "" {
		ttl, err := time.ParseDuration(v)
		if err != nil || ttl < time.Second {
			return cfg, fmt.Errorf("ACCESS_TTL=%q: want a duration of at least 1s, such as 2s or 15m", v)
		}
		cfg.accessTTL = ttl
	}
	if err := loadOAuthConfig(lookup, &cfg); err != nil {
		return cfg, err
	}
	if err := loadOTelConfig(lookup, &cfg); err != nil {
		return cfg, err
	}
	secret, ok := lookup("JWT_SECRET")
	switch {
	case !ok:
		cfg.secret = make([]byte, ginjwt.MinHMACKeySize)
		_, _ = rand.Read(cfg.secret) // never fails (Go 1.24+)
		cfg.secretGenerated = true
	case len(secret) < ginjwt.MinHMACKeySize:
		return cfg, fmt.Errorf("JWT_SECRET is %d bytes; it must be at least %d random bytes (for example: openssl rand -base64 48)",
			len(secret), ginjwt.MinHMACKeySize)
	default:
		cfg.secret = []byte(secret)
	}
	return cfg, nil
}

// newApp connects to Redis, or starts an embedded one, and builds the router.
// Call the returned function after the server has stopped, to release Redis.
func newApp(cfg config, log *slog.Logger) (*gin.Engine, func(), error) {
	tel, err := newTelemetry(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	rdb, closeRedis, err := openRedis(cfg, log)
	if err != nil {
		tel.close()
		return nil, nil, err
	}
	closeAll := func() {
		tel.close()
		closeRedis()
	}
	auth, err := newAuth(rdb, cfg, log, tel)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return newRouter(auth, log), closeAll, nil
}

// auths are the app's two transports over one store and one key: bearer
// tokens in bodies and headers for mobile apps and scripts, and HttpOnly
// cookies with CSRF protection for the browser. Tokens of either pass either
// guard.
type auths struct {
	bearer, browser *ginjwt.Auth

	metadata      gin.HandlerFunc // the RFC 8414 document
	introspection bool            // the introspection route is on
	tel           *telemetry      // OpenTelemetry; measures nothing unless configured
}

// newAuth configures jwtguard with its sessions in rdb; its events go to log.
// With tel configured, the store, events and errors are measured.
func newAuth(rdb redis.UniversalClient, cfg config, log *slog.Logger, tel *telemetry) (auths, error) {
	var storeOpts []redisstore.Option
	if cfg.keyPrefix != "" {
		storeOpts = append(storeOpts, redisstore.WithPrefix(cfg.keyPrefix))
	}
	if cfg.replicaAcks > 0 {
		storeOpts = append(storeOpts, redisstore.WithReplicaAcks(cfg.replicaAcks, cfg.ackTimeout))
		log.Info("durable writes: each waits for replicas", "replicas", cfg.replicaAcks, "timeout", cfg.ackTimeout)
	}
	store, err := redisstore.New(rdb, storeOpts...)
	if err != nil {
		return auths{}, err
	}
	opts := ginjwt.Options{
		Store:        store,
		Keys:         []ginjwt.Key{ginjwt.HS256(cfg.secret)},
		Authenticate: authenticate,
		OnEvent:      logEvent(log),
		AccessTTL:    cfg.accessTTL,
		Issuer:       cfg.issuer(),
		// Proofs name the public URL: the bearer routes bind sessions, and
		// the API's guard (the browser Auth's) checks bound tokens.
		DPoP: ginjwt.DPoPOptions{Mode: cfg.dpop, BaseURL: cfg.issuer(), NonceLifetime: cfg.dpopNonce},
	}
	if cfg.introspection.ID != "" {
		opts.Clients = []ginjwt.ClientCredentials{cfg.introspection}
	}
	if err := tel.observeStore(store); err != nil {
		return auths{}, err
	}
	tel.inst.Instrument(&opts) // once: the browser Auth below shares it
	bearer, err := ginjwt.New(opts)
	if err != nil {
		return auths{}, err
	}
	metadata, err := bearer.MetadataHandler(metadataOptions(cfg))
	if err != nil {
		return auths{}, fmt.Errorf("PUBLIC_URL: %w", err)
	}
	opts.Cookies = &ginjwt.CookieOptions{RefreshPath: "/web/auth/refresh", Insecure: cfg.cookieInsecure}
	browser, err := ginjwt.New(opts)
	if err != nil {
		return auths{}, err
	}
	return auths{bearer: bearer, browser: browser, metadata: metadata, introspection: cfg.introspection.ID != "", tel: tel}, nil
}

// logEvent writes jwtguard's audit events to log. Events never hold tokens.
func logEvent(log *slog.Logger) func(ginjwt.Event) {
	return func(e ginjwt.Event) {
		level := slog.LevelInfo
		if e.Kind == ginjwt.EventReuseDetected || e.Kind == ginjwt.EventLoginFailed {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, "auth event", "kind", e.Kind, "subject", e.Subject,
			"session", e.SessionID, "device", e.Device, "ip", e.IP, "reason", e.Reason)
	}
}

// newRouter mounts the routes.
func newRouter(auth auths, log *slog.Logger) *gin.Engine {
	router := gin.New()
	// Trust no proxy: c.ClientIP() is then the peer of the TCP connection,
	// and no client can choose the address it is seen with by sending
	// X-Forwarded-For. Behind a reverse proxy, list the proxy's address here.
	_ = router.SetTrustedProxies(nil) // cannot fail for an empty list
	router.Use(requestLog(log), gin.Recovery())

	router.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	auth.tel.mount(router)
	router.GET("/openapi.json", serveOpenAPI)
	mountWeb(router)
	router.GET("/.well-known/jwks.json", auth.bearer.JWKSHandler())
	mountOAuth(router, auth)
	mountAuth(router.Group("/auth"), auth.bearer, auth.tel.inst)
	mountAuth(router.Group("/web/auth"), auth.browser, auth.tel.inst)

	// The browser Auth's guard reads the Authorization header first, then the
	// access cookie, so the API serves both kinds of client.
	guard := auth.browser
	inst := auth.tel.inst
	api := router.Group("/api", inst.Guard(guard.Middleware())...)
	api.GET("/me", me)
	api.POST("/password", changePassword(guard))
	// A WebSocket upgrade checks its token with Verify.
	router.GET("/ws", wsHello(guard))
	// Downloading one's data needs a login or step-up within 5 minutes.
	router.GET("/api/account/export", inst.Guard(guard.Middleware(guard.RequireRecentAuth(5*time.Minute)), me)...)
	router.GET("/api/admin", inst.Guard(guard.Middleware(ginjwt.RequireRole("admin")), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"message": "hello, admin"})
	})...)
	return router
}

// mountAuth mounts login, refresh, logout and the session routes of auth;
// inst measures the first three (nil: not measured).
func mountAuth(g *gin.RouterGroup, auth *ginjwt.Auth, inst *otelguard.Instruments) {
	g.POST("/login", inst.Route("login"), auth.LoginHandler())
	g.POST("/refresh", inst.Route("refresh"), auth.RefreshHandler())
	g.POST("/logout", inst.Route("logout"), auth.LogoutHandler())
	g.POST("/step-up", auth.Middleware(), auth.StepUpHandler())
	g.GET("/sessions", auth.SessionsHandler())
	g.DELETE("/sessions/:id", auth.RevokeSessionHandler())
}

// passwordChange is the body of POST /api/password.
type passwordChange struct {
	Current string `json:"current_password" binding:"required"`
	New     string `json:"new_password" binding:"required,min=8"`
}

// changePassword sets a new password and then ends every session of the
// user, this one included: whoever knew the old password is logged out
// everywhere. It answers 204; the client logs in again.
func changePassword(auth *ginjwt.Auth) gin.HandlerFunc {
	return func(c *gin.Context) {
		var body passwordChange
		if err := c.ShouldBindJSON(&body); err != nil {
			ginjwt.DefaultErrorHandler(c, fmt.Errorf("%w: %w", ginjwt.ErrBadRequest, err))
			return
		}
		subject := ginjwt.Subject(c)
		if err := setPassword(subject, body.Current, body.New); err != nil {
			ginjwt.DefaultErrorHandler(c, err)
			return
		}
		if err := auth.RevokeUser(c.Request.Context(), subject); err != nil {
			ginjwt.DefaultErrorHandler(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

// meResponse is the body of GET /api/me.
type meResponse struct {
	Subject   string  `json:"subject"`
	SessionID string  `json:"session_id"`
	Profile   profile `json:"profile"`
}

// me answers who the access token belongs to, from its verified claims.
func me(c *gin.Context) {
	claims, _ := ginjwt.ClaimsFromContext(c) // the guard ran: always present
	var p profile
	if err := claims.DecodeExtra(&p); err != nil {
		ginjwt.DefaultErrorHandler(c, fmt.Errorf("%w: decoding the profile claim: %w", ginjwt.ErrServer, err))
		return
	}
	c.JSON(http.StatusOK, meResponse{Subject: claims.Subject, SessionID: claims.SessionID, Profile: p})
}

// requestLog logs one line per request: method, path without the query,
// status, duration and client address, plus the errors handlers recorded with c.Error. It
// never logs headers, query strings or bodies, where tokens and passwords are.
func requestLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		if status >= http.StatusInternalServerError {
			level = slog.LevelError
		}
		attrs := []any{
			"method", c.Request.Method, "path", c.Request.URL.Path, "status", status,
			"duration", time.Since(start), "client", c.ClientIP(),
		}
		if len(c.Errors) > 0 {
			attrs = append(attrs, "error", strings.Join(c.Errors.Errors(), "; "))
		}
		log.Log(c.Request.Context(), level, "request", attrs...)
	}
}

// serve serves handler on addr until ctx is done, then shuts down
// gracefully, letting in-flight requests finish.
func serve(ctx context.Context, addr string, handler http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// splitList splits a comma-separated list, as lookup returns it, dropping
// empty items.
func splitList(v string, _ bool) []string {
	var items []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}
