// Package api is Tollgate's HTTP API (Echo): handlers, authentication,
// role checks and problem+json errors. Handlers are thin: decode, call the
// store/ledger/Temporal, encode.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.temporal.io/sdk/client"

	"github.com/tollgate/tollgate/ledger"
	"github.com/tollgate/tollgate/store"
)

// Deps are the API's collaborators, built once in cmd/.
type Deps struct {
	Pool     *pgxpool.Pool
	Store    *store.Store
	Ledger   *ledger.Ledger
	Temporal client.Client
	Logger   *slog.Logger
	Clock    func() time.Time
	// BodyLimit caps request bodies (default 16 MiB: 10,000 transactions).
	BodyLimit string
	// OIDC, when set, accepts identity-provider JWTs besides API keys.
	OIDC *OIDCConfig
	// RateLimit is the per-credential budget (generous defaults when zero).
	RateLimit RateLimit
	// CORSOrigins lists the browser origins allowed to call the API. Empty
	// (the default) sends no CORS headers, so browsers refuse cross-origin
	// calls.
	CORSOrigins []string
}

// Server holds the handlers' dependencies and the route rules.
type Server struct {
	Deps
	echo    *echo.Echo
	rules   map[routeKey]Role
	auth    *authenticator
	openapi *apiContract
}

type routeKey struct{ Method, Path string }

// New builds the Echo instance with every route registered.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.BodyLimit == "" {
		d.BodyLimit = "16M"
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(d.Logger)
	s := &Server{Deps: d, echo: e, rules: map[routeKey]Role{}, auth: newAuthenticator(d.Pool, d.Clock), openapi: loadContract()}
	s.auth.limits = newKeyLimiter(d.RateLimit, d.Clock)
	if d.OIDC != nil {
		s.auth.oidc = newOIDCVerifier(*d.OIDC, d.Clock)
	}
	e.Use(
		middleware.RequestID(),
		recoverer(d.Logger),
		requestLog(d.Logger),
		middleware.BodyLimit(d.BodyLimit),
		securityHeaders,
		textGuard,
	)
	if len(d.CORSOrigins) > 0 {
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:  d.CORSOrigins,
			AllowMethods:  []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete},
			AllowHeaders:  []string{echo.HeaderAuthorization, echo.HeaderContentType},
			ExposeHeaders: []string{echo.HeaderXRequestID, "Retry-After"},
			MaxAge:        600,
		}))
	}
	s.routes()
	return s
}

// Handler is the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.echo }

// Rules lists every registered route with the minimum role it needs.
func (s *Server) Rules() map[routeKey]Role { return s.rules }

// Rule returns the minimum role of a route as Echo names it
// ("/v1/parties/:id"); ok is false for a route registered without one.
func (s *Server) Rule(method, path string) (min Role, ok bool) {
	min, ok = s.rules[routeKey{method, path}]
	return min, ok
}

// Echo exposes the router, for tests that walk every route.
func (s *Server) Echo() *echo.Echo { return s.echo }

// HTTPServer wraps the handler with timeouts suitable for a money API:
// bounded header/body reads so slow clients cannot pin connections.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// route registers a handler with the minimum role allowed to call it.
// RolePublic routes need no credentials.
// Every route is then checked against the OpenAPI document and, when it
// changes state, audited.
func (s *Server) route(method, path string, min Role, h echo.HandlerFunc) {
	s.rules[routeKey{method, path}] = min
	var mw []echo.MiddlewareFunc
	if min != RolePublic {
		mw = append(mw, s.auth.require(min))
	}
	mw = append(mw, s.openapi.validate(method, path), s.auditBaseline)
	s.echo.Add(method, path, h, mw...)
}

func (s *Server) routes() {
	s.route(http.MethodGet, "/healthz", RolePublic, s.healthz)
	s.route(http.MethodGet, "/readyz", RolePublic, s.readyz)
	s.route(http.MethodGet, "/openapi.json", RolePublic, s.serveOpenAPI)
	s.dashboardRoutes()
	s.route(http.MethodPost, "/v1/diagnostics/roundtrip", RoleOperator, s.roundTrip)
	s.ingestRoutes()
	s.ledgerRoutes()
	s.route(http.MethodGet, "/v1/kpis", RoleViewer, s.kpis)
	s.cycleRoutes()
	s.apiKeyRoutes()
	s.auditRoutes()
}
