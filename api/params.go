package api

import (
	"context"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store"
)

// page reads ?cursor= and ?limit=.
func page(c echo.Context) (store.Page, error) {
	p := store.Page{Cursor: c.QueryParam("cursor")}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return p, tollgate.Errorf(tollgate.CodeInvalid, "limit: %q must be an integer from 1 to 1000", l)
		}
		p.Limit = n
	}
	return p, nil
}

// int64Param reads a positive integer path parameter.
func int64Param(c echo.Context, name string) (int64, error) {
	v := c.Param(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, tollgate.Errorf(tollgate.CodeInvalid, "%s: %q must be a positive integer", name, v)
	}
	return n, nil
}

// timeQuery reads an optional RFC 3339 query parameter.
func timeQuery(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, tollgate.Errorf(tollgate.CodeInvalid, "%s: %q is not an RFC 3339 time such as 2026-01-31T00:00:00Z", name, v)
	}
	if t.Year() < 1900 || t.Year() > 9999 {
		return time.Time{}, tollgate.Errorf(tollgate.CodeInvalid, "%s: %q is outside the years 1900 to 9999", name, v)
	}
	return t, nil
}

// actor names the caller for audit fields and maker-checker comparisons.
func actor(ctx context.Context) string {
	if p, ok := PrincipalFrom(ctx); ok {
		return p.Name
	}
	return ""
}

// timeRange reads the optional ?from= (inclusive) and ?to= (exclusive).
func timeRange(c echo.Context) (from, to time.Time, err error) {
	if from, err = timeQuery(c, "from"); err != nil {
		return
	}
	if to, err = timeQuery(c, "to"); err != nil {
		return
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		err = tollgate.Errorf(tollgate.CodeInvalid, "from must be before to")
	}
	return
}
