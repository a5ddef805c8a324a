package api

import (
	"embed"
	"net/http"
	"path"

	"github.com/labstack/echo/v4"

	"github.com/tollgate/tollgate"
)

// The dashboard is a static page for operators and approvers that calls the
// JSON API with the user's own key. The page and its assets hold no data, so
// they are public; everything they show comes from routes with their usual
// role rules. The files sit flat in one folder, so one path parameter names
// any of them and the OpenAPI document can describe them as ordinary routes.
//
//go:embed dashboard
var dashboardFiles embed.FS

// dashboardCSP replaces the API's deny-all policy on the dashboard's files:
// the page may load its own script, style sheet and icon and call its own
// origin, and nothing else (no inline code, no other origins, no framing,
// no form posts).
const dashboardCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// dashboardTypes are the content types of the files the page is made of,
// fixed here rather than taken from the host's MIME tables, which may map
// .js to something a browser refuses under nosniff.
var dashboardTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

func (s *Server) dashboardRoutes() {
	s.route(http.MethodGet, "/dashboard", RolePublic, redirectToDashboard)
	s.route(http.MethodGet, "/dashboard/", RolePublic, serveDashboardFile)
	s.route(http.MethodGet, "/dashboard/:file", RolePublic, serveDashboardFile)
}

func redirectToDashboard(c echo.Context) error {
	return c.Redirect(http.StatusMovedPermanently, "/dashboard/")
}

func serveDashboardFile(c echo.Context) error {
	name := c.Param("file")
	if name == "" {
		name = "index.html"
	}
	ctype, known := dashboardTypes[path.Ext(name)]
	body, err := dashboardFiles.ReadFile("dashboard/" + name)
	if !known || err != nil {
		return tollgate.Errorf(tollgate.CodeNotFound, "no dashboard file %q", name)
	}
	c.Response().Header().Set("Content-Security-Policy", dashboardCSP)
	return c.Blob(http.StatusOK, ctype, body)
}
