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

// matrixCallers are the callers TestAuthorisationMatrix tries on every
// route. "ingest" is an ingest key of the provider the request's rows name;
// "ingest-other" is another provider's ingest key.
var matrixCallers = []string{"anonymous", "viewer", "operator", "approver", "admin", "ingest", "ingest-other"}

// anyone, in allowedCallers, stands for every one of matrixCallers,
// credentials or none.
const anyone = "anyone"

// allowedCallers is who may call each route, written out by hand from the
// README's Security section (viewer < operator < approver < admin; ingest
// keys may only POST /v1/transactions, and only their own provider's rows;
// keys and contracts are an admin's) and each operation's x-tollgate-role
// in api/openapi.yaml. It is deliberately not computed from the server's
// rules: a rule that changes must change this table too, and a route added
// or removed must be added here or removed (TestAuthorisationMatrix fails
// otherwise).
//
// POST /v1/transactions names ingest as its least role, outside the order;
// the README and the operation's description say operators and above may
// also send transactions, and viewers may not.
var allowedCallers = map[string]string{
	"GET /healthz":                  anyone,
	"GET /readyz":                   anyone,
	"GET /openapi.json":             anyone,
	"GET /dashboard":                anyone,
	"GET /dashboard/":               anyone,
	"GET /dashboard/:file":          anyone,
	"POST /v1/providers/:id/events": anyone, // authenticated by its signature, not a key

	"POST /v1/diagnostics/roundtrip": "operator approver admin",

	"POST /v1/parties":                   "operator approver admin",
	"GET /v1/parties":                    "viewer operator approver admin",
	"GET /v1/parties/:id":                "viewer operator approver admin",
	"POST /v1/parties/:id/rotate-secret": "admin",

	"POST /v1/contracts":                            "admin",
	"GET /v1/contracts":                             "viewer operator approver admin",
	"GET /v1/contracts/:id":                         "viewer operator approver admin",
	"POST /v1/contracts/:id/terms":                  "operator approver admin",
	"POST /v1/contracts/:id/terms/:version/approve": "approver admin",
	"GET /v1/contracts/:id/position":                "viewer operator approver admin",
	"PUT /v1/contracts/:id/schedule":                "operator approver admin",
	"GET /v1/contracts/:id/schedule":                "viewer operator approver admin",
	"POST /v1/contracts/:id/schedule/trigger":       "operator approver admin",

	"POST /v1/transactions":               "ingest operator approver admin",
	"GET /v1/transactions":                "viewer operator approver admin",
	"POST /v1/push-archive/:id/reprocess": "operator approver admin",
	"GET /v1/kpis":                        "viewer operator approver admin",
	"POST /v1/fx-rates":                   "operator approver admin",
	"GET /v1/fx-rates":                    "viewer operator approver admin",

	"GET /v1/dead-letters":              "viewer operator approver admin",
	"GET /v1/dead-letters/:id":          "viewer operator approver admin",
	"POST /v1/dead-letters/:id/replay":  "operator approver admin",
	"POST /v1/dead-letters/:id/discard": "operator approver admin",

	"POST /v1/cycles":             "operator approver admin",
	"GET /v1/cycles":              "viewer operator approver admin",
	"GET /v1/cycles/:id":          "viewer operator approver admin",
	"POST /v1/cycles/:id/approve": "approver admin",
	"POST /v1/cycles/:id/reject":  "approver admin",
	"POST /v1/cycles/:id/retry":   "operator approver admin",
	"POST /v1/cycles/:id/skip":    "operator approver admin",
	"POST /v1/cycles/:id/cancel":  "operator approver admin",

	"GET /v1/accounts":       "viewer operator approver admin",
	"GET /v1/accounts/:id":   "viewer operator approver admin",
	"GET /v1/ledger/entries": "viewer operator approver admin",
	"GET /v1/ledger/verify":  "operator approver admin",

	"POST /v1/api-keys":       "admin",
	"GET /v1/api-keys":        "admin",
	"DELETE /v1/api-keys/:id": "admin",
	"GET /v1/audit":           "admin",
	"GET /v1/audit/verify":    "admin",
}

// TestAuthorisationMatrix calls every registered route as every kind of
// caller and checks the answer against allowedCallers: a caller the table
// lists gets past authorisation (whatever the handler then makes of the
// placeholder input), anyone else is refused, 401 with a Bearer challenge
// without credentials and 403 with them.
func TestAuthorisationMatrix(t *testing.T) {
	t.Parallel()
	pool := testdb.Pool(t)
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := store.New(pool, clock)
	secrets := map[string]string{}
	for _, id := range []string{"pv-a", "pv-b"} {
		p, err := st.CreateParty(t.Context(), tollgate.Party{ID: id, Kind: "provider", Name: id, Currency: "EUR"})
		require.NoError(t, err)
		secrets[id] = p.SigningSecret
	}
	srv := api.New(api.Deps{Pool: pool, Store: st, Clock: clock})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)

	keys := map[string]string{"anonymous": ""}
	for _, r := range []api.Role{api.RoleViewer, api.RoleOperator, api.RoleApprover, api.RoleAdmin} {
		keys[string(r)] = insertKey(t, pool, "matrix-"+string(r), r, "")
	}
	// Every provider-scoped body names pv-a: the ingest key may send it,
	// the other provider's may not.
	keys["ingest"] = insertKey(t, pool, "matrix-ingest-a", api.RoleIngest, "pv-a")
	keys["ingest-other"] = insertKey(t, pool, "matrix-ingest-b", api.RoleIngest, "pv-b")
	batch := func(ext string) []byte {
		return []byte(`{"transactions":[{"provider_id":"pv-a","operator_id":"op-x","external_id":"` + ext +
			`","kind":"charge","amount":"1.00","currency":"EUR","occurred_at":"2026-01-01T00:00:00Z"}]}`)
	}

	registered := map[string]bool{}
	for _, r := range routesOf(srv) {
		registered[r.Method+" "+r.Path] = true
	}
	require.Greater(t, len(registered), 30, "the router lists the API's routes")
	for route := range allowedCallers {
		require.True(t, registered[route], "allowedCallers names %s, which is not a route", route)
	}
	for route := range registered {
		_, listed := allowedCallers[route]
		require.True(t, listed, "%s is a route that allowedCallers does not list: say who may call it", route)
	}

	for route, who := range allowedCallers {
		allowed := map[string]bool{}
		for _, c := range strings.Fields(who) {
			if c == anyone {
				for _, c := range matrixCallers {
					allowed[c] = true
				}
				continue
			}
			require.Contains(t, matrixCallers, c, "%s: allowedCallers names an unknown caller", route)
			allowed[c] = true
		}
		method, tmpl, _ := strings.Cut(route, " ")
		path := routeParam.ReplaceAllStringFunc(tmpl, func(p string) string {
			switch {
			case p == ":version":
				return "1"
			case tmpl == "/v1/providers/:id/events":
				return "pv-a"
			}
			return "matrix-x"
		})
		for _, c := range matrixCallers {
			msg := c + " " + route
			var body []byte
			hdr := map[string]string{}
			switch {
			case tmpl == "/v1/transactions" || tmpl == "/v1/providers/:id/events":
				// A body of its own per caller, so no push is a replay.
				body = batch("m-" + c)
				hdr["Tollgate-Signature"] = tollgate.Sign(secrets["pv-a"], now, body)
			case method == http.MethodPost || method == http.MethodPut:
				body = []byte(`{}`)
			}
			if body != nil {
				hdr["Content-Type"] = "application/json"
			}
			if keys[c] != "" {
				hdr["Authorization"] = "Bearer " + keys[c]
			}
			req, err := http.NewRequestWithContext(t.Context(), method, hs.URL+path, bytes.NewReader(body))
			require.NoError(t, err)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)

			switch {
			case allowed[c]:
				require.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, resp.StatusCode, "%s: %s", msg, got)
				if c == "anonymous" {
					require.Empty(t, resp.Header.Get("WWW-Authenticate"), "%s: a public route must not ask for a key", msg)
				}
			case c == "anonymous":
				requireProblem(t, resp.StatusCode, resp.Header, got, http.StatusUnauthorized, msg)
				require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer", msg)
			default:
				requireProblem(t, resp.StatusCode, resp.Header, got, http.StatusForbidden, msg)
			}
		}
	}
}

// TestRoleAllows pins the role check itself: which caller role satisfies
// which route requirement. Written out cell by cell, not derived from the
// ordering the code keeps.
func TestRoleAllows(t *testing.T) {
	t.Parallel()
	mins := []api.Role{api.RolePublic, api.RoleViewer, api.RoleOperator, api.RoleApprover, api.RoleAdmin, api.RoleIngest}
	const T, F = true, false
	for _, tc := range []struct {
		caller api.Role
		// public, viewer, operator, approver, admin, ingest
		allows [6]bool
	}{
		{api.RoleViewer, [6]bool{T, T, F, F, F, F}},
		{api.RoleOperator, [6]bool{T, T, T, F, F, T}},
		{api.RoleApprover, [6]bool{T, T, T, T, F, T}},
		{api.RoleAdmin, [6]bool{T, T, T, T, T, T}},
		{api.RoleIngest, [6]bool{T, F, F, F, F, T}},
		// No role, or one the code does not know, reaches public routes only.
		{"", [6]bool{T, F, F, F, F, F}},
		{"root", [6]bool{T, F, F, F, F, F}},
		{"Admin", [6]bool{T, F, F, F, F, F}},
		{"admin ", [6]bool{T, F, F, F, F, F}},
	} {
		for i, min := range mins {
			require.Equal(t, tc.allows[i], tc.caller.Allows(min), "role %q calling a route that needs %q", tc.caller, min)
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
