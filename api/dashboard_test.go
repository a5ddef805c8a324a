package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate/api"
)

// The dashboard's files are served publicly with their own content types and
// a policy that admits the page's own script and style sheet only; every
// other response keeps the deny-all policy. The browser test in
// internal/devstack drives the page itself.
func TestDashboardFiles(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(api.New(api.Deps{}).Handler())
	t.Cleanup(hs.Close)
	get := func(path string) (*http.Response, string) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, hs.URL+path, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}

	resp, page := get("/dashboard") // redirected to /dashboard/
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "/dashboard/", resp.Request.URL.Path)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		require.Contains(t, csp, want)
	}
	require.NotContains(t, csp, "unsafe")
	require.NotContains(t, csp, "*")
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
	require.NotContains(t, page, "<script>", "no inline script: the policy would block it")
	require.NotContains(t, page, "<style", "no inline style")
	require.NotContains(t, page, "http", "no other origin")

	// Every file the page names is served with a type a browser accepts
	// under nosniff.
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	refs := regexp.MustCompile(`(?:src|href)="([a-z-]+\.(?:js|css|svg))"`).FindAllStringSubmatch(page, -1)
	require.Len(t, refs, 4, "app.js, style.css and the icon (twice)")
	for _, ref := range refs {
		resp, body := get("/dashboard/" + ref[1])
		require.Equal(t, http.StatusOK, resp.StatusCode, ref[1])
		require.Equal(t, types[ref[1][strings.LastIndex(ref[1], "."):]], resp.Header.Get("Content-Type"), ref[1])
		require.Equal(t, csp, resp.Header.Get("Content-Security-Policy"), ref[1])
		require.NotEmpty(t, body)
	}

	for _, path := range []string{"/dashboard/nope.js", "/dashboard/index.go", "/dashboard/..%2fdashboard.go"} {
		resp, _ := get(path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), path)
	}

	// The API itself keeps the deny-all policy.
	resp, _ = get("/healthz")
	require.Equal(t, "default-src 'none'; frame-ancestors 'none'", resp.Header.Get("Content-Security-Policy"))
}

// The page never parses money: amounts go from the JSON answer to the page
// as the strings the API sent.
func TestDashboardKeepsMoneyAsStrings(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(api.New(api.Deps{}).Handler())
	t.Cleanup(hs.Close)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, hs.URL+"/dashboard/app.js", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	js, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, banned := range []string{"parseFloat", "Number(", "toFixed", "innerHTML", "localStorage", "console."} {
		require.NotContains(t, string(js), banned)
	}
}
