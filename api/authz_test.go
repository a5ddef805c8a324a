package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/internal/testdb"
	"github.com/tollgate/tollgate/store"
)

// insertKey stores a key with the given role directly, as a fixture.
func insertKey(t *testing.T, pool *pgxpool.Pool, name string, role api.Role, provider string) string {
	t.Helper()
	key, id, hash := api.GenerateKey()
	var pv any
	if provider != "" {
		pv = provider
	}
	_, err := pool.Exec(t.Context(), `INSERT INTO api_keys (id, name, role, provider_id, secret_hash) VALUES ($1, $2, $3, $4, $5)`,
		id, name, string(role), pv, hash)
	require.NoError(t, err)
	return key
}

type caller struct {
	name     string
	role     api.Role // "" for no credentials
	key      string
	provider string
}

func requireProblem(t *testing.T, status int, hdr http.Header, body []byte, want int, msg string) {
	t.Helper()
	require.Equal(t, want, status, "%s: %s", msg, body)
	require.Equal(t, "application/problem+json", hdr.Get("Content-Type"), msg)
	var p api.Problem
	require.NoError(t, json.Unmarshal(body, &p), msg)
	require.Equal(t, want, p.Status, msg)
	require.True(t, strings.HasPrefix(p.Type, "https://tollgate.dev/problems/"), msg)
}

var routeParam = regexp.MustCompile(`:[a-z_]+`)

// TestAuthorisationMatrix calls every registered route as every kind of
// caller and checks the answer against the route's rule: no credentials
// 401, a role below the rule 403, an ingest key for another provider 403,
// and everyone else gets past authorisation (whatever the handler then
// makes of the placeholder input).
func TestAuthorisationMatrix(t *testing.T) {
	t.Parallel()
	pool := testdb.Pool(t)
	st := store.New(pool, nil)
	for _, id := range []string{"pv-a", "pv-b"} {
		_, err := st.CreateParty(t.Context(), tollgate.Party{ID: id, Kind: "provider", Name: id, Currency: "EUR"})
		require.NoError(t, err)
	}
	srv := api.New(api.Deps{Pool: pool, Store: st})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)

	callers := []caller{{name: "none"}}
	for _, r := range []api.Role{api.RoleViewer, api.RoleOperator, api.RoleApprover, api.RoleAdmin} {
		callers = append(callers, caller{name: string(r), role: r, key: insertKey(t, pool, "matrix-"+string(r), r, "")})
	}
	callers = append(callers,
		caller{name: "ingest(own provider)", role: api.RoleIngest, key: insertKey(t, pool, "matrix-ingest-a", api.RoleIngest, "pv-a"), provider: "pv-a"},
		caller{name: "ingest(other provider)", role: api.RoleIngest, key: insertKey(t, pool, "matrix-ingest-b", api.RoleIngest, "pv-b"), provider: "pv-b"},
	)
	// Every provider-scoped body names pv-a: the own-provider ingest key
	// may send it, the other one may not.
	batch := `{"transactions":[{"provider_id":"pv-a","operator_id":"op-x","external_id":"m1","kind":"charge","amount":"1.00","currency":"EUR","occurred_at":"2026-01-01T00:00:00Z"}]}`

	routes := routesOf(srv)
	require.Greater(t, len(routes), 30, "the router lists the API's routes")
	for _, r := range routes {
		min, ok := srv.Rule(r.Method, r.Path)
		require.True(t, ok, "%s %s was registered without a role rule (use s.route)", r.Method, r.Path)
		path := routeParam.ReplaceAllStringFunc(r.Path, func(p string) string {
			if p == ":version" {
				return "1"
			}
			return "matrix-x"
		})
		var body []byte
		switch {
		case r.Path == "/v1/transactions" || strings.HasSuffix(r.Path, "/events"):
			body = []byte(batch)
		case r.Method == http.MethodPost || r.Method == http.MethodPut:
			body = []byte(`{}`)
		}
		for _, c := range callers {
			msg := c.name + " " + r.Method + " " + r.Path
			req, err := http.NewRequestWithContext(t.Context(), r.Method, hs.URL+path, bytes.NewReader(body))
			require.NoError(t, err)
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			if c.key != "" {
				req.Header.Set("Authorization", "Bearer "+c.key)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)

			switch {
			case min == api.RolePublic:
				require.NotEqual(t, http.StatusForbidden, resp.StatusCode, msg)
				require.Empty(t, resp.Header.Get("WWW-Authenticate"), "%s: a public route must not ask for a key", msg)
			case c.role == "":
				requireProblem(t, resp.StatusCode, resp.Header, got, http.StatusUnauthorized, msg)
				require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer", msg)
			case !c.role.Allows(min):
				requireProblem(t, resp.StatusCode, resp.Header, got, http.StatusForbidden, msg)
			case c.role == api.RoleIngest && c.provider != "pv-a":
				requireProblem(t, resp.StatusCode, resp.Header, got, http.StatusForbidden, msg+" (wrong provider)")
			default:
				require.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, resp.StatusCode, "%s: %s", msg, got)
			}
		}
	}
}

// Revoked and expired keys stop working at once; both are 401.
func TestRevokedAndExpiredKeys(t *testing.T) {
	t.Parallel()
	pool := testdb.Pool(t)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	srv := api.New(api.Deps{Pool: pool, Store: store.New(pool, clock), Clock: clock})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	key := insertKey(t, pool, "soon-gone", api.RoleViewer, "")
	id := strings.Split(key, "_")[1]
	get := func() (int, http.Header, []byte) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, hs.URL+"/v1/parties", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header, b
	}
	code, _, _ := get()
	require.Equal(t, http.StatusOK, code)

	_, err := pool.Exec(t.Context(), `UPDATE api_keys SET expires_at = $2 WHERE id = $1`, id, now)
	require.NoError(t, err)
	code, hdr, body := get()
	requireProblem(t, code, hdr, body, http.StatusUnauthorized, "expired")
	require.Contains(t, string(body), "expired")

	_, err = pool.Exec(t.Context(), `UPDATE api_keys SET expires_at = NULL, revoked_at = $2 WHERE id = $1`, id, now)
	require.NoError(t, err)
	code, hdr, body = get()
	requireProblem(t, code, hdr, body, http.StatusUnauthorized, "revoked")
	require.Contains(t, string(body), "revoked")
}
