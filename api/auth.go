package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/tollgate/tollgate"
)

// Role is an API caller's role. Ordered roles grant everything below them;
// ingest is provider-scoped and outside the order.
type Role string

const (
	RolePublic   Role = ""
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleApprover Role = "approver"
	RoleAdmin    Role = "admin"
	RoleIngest   Role = "ingest"
)

var roleRank = map[Role]int{RoleViewer: 1, RoleOperator: 2, RoleApprover: 3, RoleAdmin: 4}

// Allows reports whether a caller with role r may call a route needing min.
func (r Role) Allows(min Role) bool {
	if min == RolePublic {
		return true
	}
	if min == RoleIngest {
		// Ingest routes also accept operators and above (back-office uploads).
		return r == RoleIngest || roleRank[r] >= roleRank[RoleOperator]
	}
	return roleRank[r] >= roleRank[min] && roleRank[r] > 0
}

// Principal is the authenticated caller.
type Principal struct {
	KeyID      string
	Name       string
	Role       Role
	ProviderID string // set for ingest keys
}

type principalKey struct{}

// PrincipalFrom returns the caller attached by the auth middleware.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// keyPrefix makes keys recognisable in config files and secret scanners.
const keyPrefix = "tg_"

// GenerateKey returns a new key "tg_<id>_<secret>" and its parts.
func GenerateKey() (key, id string, secretHash []byte) {
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	idb, sec := make([]byte, 5), make([]byte, 20)
	_, _ = rand.Read(idb)
	_, _ = rand.Read(sec)
	id = strings.ToLower(enc.EncodeToString(idb))
	secret := strings.ToLower(enc.EncodeToString(sec))
	h := sha256.Sum256([]byte(secret))
	return keyPrefix + id + "_" + secret, id, h[:]
}

// parseKey splits a presented key into id and secret hash.
func parseKey(key string) (id string, secretHash []byte, ok bool) {
	rest, found := strings.CutPrefix(key, keyPrefix)
	if !found {
		return "", nil, false
	}
	id, secret, found := strings.Cut(rest, "_")
	if !found || id == "" || secret == "" {
		return "", nil, false
	}
	h := sha256.Sum256([]byte(secret))
	return id, h[:], true
}

// EnsureBootstrapKey stores the given admin key (the dev stack's or one from
// TOLLGATE_ADMIN_KEY) so it authenticates. Idempotent.
func EnsureBootstrapKey(ctx context.Context, pool *pgxpool.Pool, key string) error {
	id, hash, ok := parseKey(key)
	if !ok {
		return tollgate.Errorf(tollgate.CodeInvalid, "admin key must look like tg_<id>_<secret>")
	}
	_, err := pool.Exec(ctx, `
		INSERT INTO api_keys (id, name, role, secret_hash) VALUES ($1, 'bootstrap-admin', 'admin', $2)
		ON CONFLICT (id) DO UPDATE SET secret_hash = EXCLUDED.secret_hash, revoked_at = NULL, role = 'admin'`, id, hash)
	return err
}

type authenticator struct {
	pool   *pgxpool.Pool
	clock  func() time.Time
	oidc   *oidcVerifier // nil: API keys only
	limits *keyLimiter   // nil: no rate limiting
}

func newAuthenticator(pool *pgxpool.Pool, clock func() time.Time) *authenticator {
	return &authenticator{pool: pool, clock: clock}
}

func (a *authenticator) authenticate(ctx context.Context, header string) (Principal, error) {
	token, found := strings.CutPrefix(header, "Bearer ")
	if !found || token == "" {
		return Principal{}, tollgate.Errorf(tollgate.CodeUnauthorized, "missing bearer token: send Authorization: Bearer <api key>")
	}
	token = strings.TrimSpace(token)
	if !strings.HasPrefix(token, keyPrefix) && a.oidc != nil && looksLikeJWT(token) {
		return a.oidc.authenticate(ctx, token)
	}
	id, hash, ok := parseKey(token)
	if !ok {
		return Principal{}, tollgate.Errorf(tollgate.CodeUnauthorized, "malformed API key")
	}
	var p Principal
	var stored []byte
	var provider *string
	var expires, revoked *time.Time
	err := a.pool.QueryRow(ctx, `SELECT id, name, role, provider_id, secret_hash, expires_at, revoked_at
		FROM api_keys WHERE id = $1`, id).Scan(&p.KeyID, &p.Name, &p.Role, &provider, &stored, &expires, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		// Compare anyway so a missing key costs the same as a wrong one.
		subtle.ConstantTimeCompare(hash, make([]byte, len(hash)))
		return Principal{}, tollgate.Errorf(tollgate.CodeUnauthorized, "invalid API key")
	} else if err != nil {
		return Principal{}, tollgate.Wrap(tollgate.CodeUnavailable, err, "cannot check API key")
	}
	if subtle.ConstantTimeCompare(hash, stored) != 1 {
		return Principal{}, tollgate.Errorf(tollgate.CodeUnauthorized, "invalid API key")
	}
	if revoked != nil {
		return Principal{}, tollgate.Errorf(tollgate.CodeUnauthorized, "API key revoked")
	}
	if expires != nil && !a.clock().Before(*expires) {
		return Principal{}, tollgate.Errorf(tollgate.CodeUnauthorized, "API key expired")
	}
	if provider != nil {
		p.ProviderID = *provider
	}
	return p, nil
}

// require authenticates the caller and checks the route's minimum role.
func (a *authenticator) require(min Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, err := a.authenticate(c.Request().Context(), c.Request().Header.Get(echo.HeaderAuthorization))
			if err != nil {
				if tollgate.ErrorCode(err) == tollgate.CodeUnauthorized {
					c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="tollgate"`)
				}
				return err
			}
			if !p.Role.Allows(min) {
				return tollgate.Errorf(tollgate.CodeForbidden, "role %q may not call %s %s (needs %s)", p.Role, c.Request().Method, c.Path(), min)
			}
			// Limited after authentication, so the budget is the
			// credential's and strangers cannot spend it.
			if err := a.limits.allow(p.KeyID); err != nil {
				return err
			}
			c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), principalKey{}, p)))
			return next(c)
		}
	}
}
