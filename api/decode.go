package api

import (
	"bytes"
	"encoding/json"
	"errors"

	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tollgate/tollgate"
)

// decodeJSON reads a JSON body strictly: content type checked, unknown
// fields refused, one value only. Errors name the problem for the caller.
func decodeJSON(c echo.Context, v any) error {
	req := c.Request()
	if req.ContentLength == 0 && req.Body == http.NoBody {
		return tollgate.Errorf(tollgate.CodeInvalid, "request body is empty; send a JSON object")
	}
	if err := requireJSON(c); err != nil {
		return err
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return jsonError(err)
	}
	// PostgreSQL text and jsonb cannot hold NUL; refuse it here, clearly.
	if tollgate.ContainsNULEscape(body) {
		return tollgate.Errorf(tollgate.CodeInvalid, "request body contains a NUL character (\\u0000), which no field accepts")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return tollgate.Errorf(tollgate.CodeInvalid, "request body has data after the JSON value")
	}
	return nil
}

// decodeOptionalJSON is decodeJSON for bodies that may be left out.
func decodeOptionalJSON(c echo.Context, v any) error {
	if c.Request().ContentLength == 0 {
		return nil
	}
	return decodeJSON(c, v)
}

// requireJSON refuses a declared content type other than JSON.
func requireJSON(c echo.Context) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return echo.NewHTTPError(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		}
	}
	return nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &mbe):
		return tollgate.Errorf(tollgate.CodeTooLarge, "request body is larger than %d bytes", mbe.Limit)
	case errors.As(err, &se):
		return tollgate.Errorf(tollgate.CodeInvalid, "malformed JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		return tollgate.Errorf(tollgate.CodeInvalid, "field %q: expected %s, got JSON %s", te.Field, te.Type, te.Value)
	case errors.Is(err, io.EOF):
		return tollgate.Errorf(tollgate.CodeInvalid, "request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return tollgate.Errorf(tollgate.CodeInvalid, "request body ends in the middle of a JSON value")
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return tollgate.Errorf(tollgate.CodeInvalid, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return tollgate.Errorf(tollgate.CodeInvalid, "invalid JSON: %v", err)
}
