package api

import (
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/tollgate/tollgate"
)

// textGuard refuses path and query values PostgreSQL cannot store or compare
// (invalid UTF-8, NUL), so they are a clear 422 here instead of a database
// error deeper down.
func textGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		for i, v := range c.ParamValues() {
			if err := checkText(v); err != nil {
				name := "path parameter"
				if names := c.ParamNames(); i < len(names) {
					name = names[i]
				}
				return tollgate.Errorf(tollgate.CodeInvalid, "%s: %s", name, err)
			}
		}
		for name, vs := range c.QueryParams() {
			if err := checkText(name); err != nil {
				return tollgate.Errorf(tollgate.CodeInvalid, "query parameter name: %s", err)
			}
			for _, v := range vs {
				if err := checkText(v); err != nil {
					return tollgate.Errorf(tollgate.CodeInvalid, "query parameter %s: %s", name, err)
				}
			}
		}
		return next(c)
	}
}

type textError string

func (e textError) Error() string { return string(e) }

func checkText(s string) error {
	switch {
	case !utf8.ValidString(s):
		return textError("is not valid UTF-8")
	case strings.ContainsRune(s, 0):
		return textError("contains a NUL character")
	case len(s) > 1024:
		return textError("is longer than 1024 bytes")
	}
	return nil
}
