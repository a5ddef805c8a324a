package main

import (
	"bytes"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/internal/testdb"
	"github.com/tollgate/tollgate/store"
)

func TestAuditVerifyCommand(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := testdb.URL(t)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	st := store.New(pool, nil)
	for _, id := range []string{"a", "b", "c"} {
		require.NoError(t, st.Audit(ctx, store.AuditEvent{Actor: "ann", Action: "party.create", ObjectType: "party", ObjectID: id,
			After: []byte(`{"id":"` + id + `"}`)}))
	}
	cfg := config{DatabaseURL: url}
	var out bytes.Buffer
	ok, err := runAuditVerify(ctx, cfg, &out)
	require.NoError(t, err)
	require.True(t, ok, out.String())
	require.Contains(t, out.String(), "audit verify: OK")
	require.Contains(t, out.String(), "rows checked: 3")

	for _, s := range []string{`ALTER TABLE audit_log DISABLE TRIGGER audit_log_immutable`,
		`UPDATE audit_log SET actor = 'mallory' WHERE id = 2`,
		`ALTER TABLE audit_log ENABLE TRIGGER audit_log_immutable`} {
		_, err := pool.Exec(ctx, s)
		require.NoError(t, err, s)
	}
	out.Reset()
	ok, err = runAuditVerify(ctx, cfg, &out)
	require.NoError(t, err)
	require.False(t, ok)
	require.Contains(t, out.String(), "first break: row 2 (content)")
}

func TestSplitAuditCommand(t *testing.T) {
	t.Parallel()
	cmd, args, err := splitCommand([]string{"audit", "verify", "-database-url", "x"})
	require.NoError(t, err)
	require.Equal(t, "audit verify", cmd)
	require.Equal(t, []string{"-database-url", "x"}, args)
	_, _, err = splitCommand([]string{"audit"})
	require.ErrorContains(t, err, "audit verify")
}

func TestSecurityConfig(t *testing.T) {
	t.Setenv("TOLLGATE_OIDC_ISSUER", "https://idp.example")
	t.Setenv("TOLLGATE_OIDC_AUDIENCE", "tollgate")
	t.Setenv("TOLLGATE_OIDC_JWKS_URL", "https://idp.example/jwks")
	t.Setenv("TOLLGATE_OIDC_ROLES", "fin-ops=operator, fin-leads=approver")
	t.Setenv("TOLLGATE_RATE_PER_SECOND", "50")
	t.Setenv("TOLLGATE_CORS_ORIGINS", "https://console.example, https://ops.example")
	c, err := loadSecurityConfig()
	require.NoError(t, err)
	require.Equal(t, map[string]api.Role{"fin-ops": api.RoleOperator, "fin-leads": api.RoleApprover}, c.OIDC.RoleMap)
	require.Equal(t, 50.0, c.RateLimit.PerSecond)
	require.Equal(t, []string{"https://console.example", "https://ops.example"}, c.CORSOrigins)

	t.Setenv("TOLLGATE_OIDC_ROLES", "fin-ops=ingest")
	_, err = loadSecurityConfig()
	require.ErrorContains(t, err, "TOLLGATE_OIDC_ROLES")
	t.Setenv("TOLLGATE_OIDC_ROLES", "")
	_, err = loadSecurityConfig()
	require.ErrorContains(t, err, "required")
}
