package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/store"
)

// runAuditVerify recomputes the audit trail's hash chain against
// DATABASE_URL alone and prints the verdict. It reports whether the trail
// is intact; an error means the check could not run.
func runAuditVerify(ctx context.Context, cfg config, out io.Writer) (bool, error) {
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return false, fmt.Errorf("PostgreSQL: %w", err)
	}
	defer pool.Close()
	start := time.Now()
	r, err := store.New(pool, nil).VerifyAudit(ctx)
	if err != nil {
		return false, fmt.Errorf("audit verify (has `tollgate migrate` run?): %w", err)
	}
	if r.OK {
		fmt.Fprintln(out, "audit verify: OK")
	} else {
		fmt.Fprintln(out, "audit verify: TAMPERING FOUND")
		fmt.Fprintf(out, "first break: row %d (%s)\n  %s\n", r.Break.ID, r.Break.Kind, r.Break.Detail)
	}
	fmt.Fprintf(out, "rows checked: %d\nhead: seq %d, hash %s\nchecked at: %s (took %s)\n",
		r.Rows, r.HeadSeq, r.Head, r.CheckedAt.Format(time.RFC3339), time.Since(start).Round(time.Millisecond))
	return r.OK, nil
}

// exitAuditBroken is the exit status of "audit verify" when it finds
// tampering, as "ledger verify" uses 3 for a broken ledger.
const exitAuditBroken = 3

// securityConfig is the API's authentication and hardening settings.
type securityConfig struct {
	OIDC        *api.OIDCConfig
	RateLimit   api.RateLimit
	CORSOrigins []string
}

// loadSecurityConfig reads TOLLGATE_OIDC_*, TOLLGATE_RATE_* and
// TOLLGATE_CORS_ORIGINS. OIDC is on when an issuer is given; then the
// audience, JWKS URL and role map are required.
func loadSecurityConfig() (securityConfig, error) {
	var c securityConfig
	if iss := os.Getenv("TOLLGATE_OIDC_ISSUER"); iss != "" {
		o := &api.OIDCConfig{Issuer: iss, Audience: os.Getenv("TOLLGATE_OIDC_AUDIENCE"), JWKSURL: os.Getenv("TOLLGATE_OIDC_JWKS_URL"),
			RoleClaim: os.Getenv("TOLLGATE_OIDC_ROLE_CLAIM"), NameClaim: os.Getenv("TOLLGATE_OIDC_NAME_CLAIM"), RoleMap: map[string]api.Role{}}
		for _, pair := range strings.Split(os.Getenv("TOLLGATE_OIDC_ROLES"), ",") {
			value, role, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if pair == "" {
				continue
			}
			switch api.Role(role) {
			case api.RoleViewer, api.RoleOperator, api.RoleApprover, api.RoleAdmin:
			default:
				ok = false
			}
			if !ok || value == "" {
				return c, fmt.Errorf("TOLLGATE_OIDC_ROLES: %q must be <claim value>=<viewer|operator|approver|admin>", pair)
			}
			o.RoleMap[value] = api.Role(role)
		}
		if o.Audience == "" || o.JWKSURL == "" || len(o.RoleMap) == 0 {
			return c, fmt.Errorf("TOLLGATE_OIDC_ISSUER is set: TOLLGATE_OIDC_AUDIENCE, TOLLGATE_OIDC_JWKS_URL and TOLLGATE_OIDC_ROLES are required too")
		}
		c.OIDC = o
	}
	if v := os.Getenv("TOLLGATE_RATE_PER_SECOND"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return c, fmt.Errorf("TOLLGATE_RATE_PER_SECOND: %w", err)
		}
		c.RateLimit.PerSecond = f
	}
	if v := os.Getenv("TOLLGATE_RATE_BURST"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return c, fmt.Errorf("TOLLGATE_RATE_BURST: %w", err)
		}
		c.RateLimit.Burst = n
	}
	for _, o := range strings.Split(os.Getenv("TOLLGATE_CORS_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}
	return c, nil
}
