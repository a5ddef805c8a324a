package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate/api"
)

// routesOf lists the server's routes as "METHOD /path" in Echo's form,
// leaving out the router's own not-found entries.
func routesOf(srv *api.Server) []*echo.Route {
	var out []*echo.Route
	for _, r := range srv.Echo().Routes() {
		if r.Method == echo.RouteNotFound || strings.HasPrefix(r.Method, "echo_") {
			continue
		}
		out = append(out, r)
	}
	return out
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	doc, err := api.OpenAPI()
	require.NoError(t, err)
	require.NoError(t, doc.Validate(t.Context()))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."), doc.OpenAPI)
}

// The document and the router must list the same operations, and each
// operation's x-tollgate-role must be the route's rule. A route added
// without documenting it (or documented and never added) fails here.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	doc, err := api.OpenAPI()
	require.NoError(t, err)
	srv := api.New(api.Deps{})

	documented := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			documented[method+" "+api.EchoPath(path)] = op
		}
	}
	var missing []string
	routed := map[string]bool{}
	for _, r := range routesOf(srv) {
		key := r.Method + " " + r.Path
		routed[key] = true
		op, ok := documented[key]
		if !ok {
			missing = append(missing, key)
			continue
		}
		min, ok := srv.Rule(r.Method, r.Path)
		require.True(t, ok, "%s has no role rule", key)
		want := string(min)
		if min == api.RolePublic {
			want = "public"
		}
		require.Equal(t, want, op.Extensions["x-tollgate-role"], "%s: x-tollgate-role", key)
		if min == api.RolePublic {
			require.NotNil(t, op.Security, "%s is public: the document must say security: []", key)
			require.Empty(t, *op.Security, key)
		} else {
			require.Contains(t, op.Responses.Map(), "401", "%s", key)
			require.Contains(t, op.Responses.Map(), "403", "%s", key)
		}
		require.NotNil(t, op.Responses.Default(), "%s has no problem+json default response", key)
		require.Contains(t, op.Responses.Default().Value.Content, "application/problem+json", key)
	}
	var extra []string
	for key := range documented {
		if !routed[key] {
			extra = append(extra, key)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	require.Empty(t, missing, "routes missing from api/openapi.yaml")
	require.Empty(t, extra, "api/openapi.yaml documents operations that are not routes")
}

func TestOpenAPIServedPublicly(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(api.New(api.Deps{}).Handler())
	t.Cleanup(hs.Close)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, hs.URL+"/openapi.json", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "application/json")
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m))
	doc, err := openapi3.NewLoader().LoadFromData(body)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(t.Context()))
	require.NotNil(t, doc.Paths.Find("/v1/api-keys"))
}

// Requests are checked against the document before the handler runs: the
// answer names the field in the document's terms and is problem+json.
func TestRequestsValidatedAgainstDocument(t *testing.T) {
	t.Parallel()
	f := newIngestFixture(t)
	code, body, hdr := f.do(t, "POST", "/v1/parties", f.admin, "application/json", []byte(`{"id":"x","kind":"alien","name":"X","currency":"EUR"}`), nil)
	require.Equal(t, 422, code, "%s", body)
	require.Equal(t, "application/problem+json", hdr.Get("Content-Type"))
	require.Contains(t, string(body), `request body: field \"kind\"`)
	code, body, _ = f.do(t, "POST", "/v1/fx-rates", f.admin, "application/json", []byte(`{"base":"USD","quote":"EUR","rate":0.9,"as_of":"2026-01-01T00:00:00Z","source":"x"}`), nil)
	require.Equal(t, 422, code, "%s", body)
	require.Contains(t, string(body), `field \"rate\"`)
	// Content type and body limit keep their own answers.
	code, _, _ = f.do(t, "POST", "/v1/parties", f.admin, "text/plain", []byte(`id=x`), nil)
	require.Equal(t, 415, code)
	// Optional bodies stay optional.
	code, body, _ = f.do(t, "POST", "/v1/dead-letters/999/discard", f.admin, "", nil, nil)
	require.Equal(t, 404, code, "%s", body)
}
