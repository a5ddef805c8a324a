package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tollgate/tollgate"
)

// Problem is an RFC 9457 problem document. Type is a stable URI per error
// code so clients can branch on it.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

const problemTypeBase = "https://tollgate.dev/problems/"

// statusOf is the one place that maps application error codes to HTTP.
func statusOf(code tollgate.Code) int {
	switch code {
	case tollgate.CodeInvalid:
		return http.StatusUnprocessableEntity
	case tollgate.CodeNotFound:
		return http.StatusNotFound
	case tollgate.CodeConflict:
		return http.StatusConflict
	case tollgate.CodeUnauthorized:
		return http.StatusUnauthorized
	case tollgate.CodeForbidden:
		return http.StatusForbidden
	case tollgate.CodeUnavailable:
		return http.StatusServiceUnavailable
	case tollgate.CodeRateLimited:
		return http.StatusTooManyRequests
	case tollgate.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusInternalServerError
	}
}

// codeOfStatus maps framework errors (404 route, 405, 413 ...) back to codes.
func codeOfStatus(status int) tollgate.Code {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusUnsupportedMediaType:
		return tollgate.CodeInvalid
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return tollgate.CodeNotFound
	case http.StatusUnauthorized:
		return tollgate.CodeUnauthorized
	case http.StatusForbidden:
		return tollgate.CodeForbidden
	case http.StatusRequestEntityTooLarge:
		return tollgate.CodeTooLarge
	case http.StatusTooManyRequests:
		return tollgate.CodeRateLimited
	case http.StatusServiceUnavailable:
		return tollgate.CodeUnavailable
	}
	return tollgate.CodeInternal
}

func errorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := Problem{Instance: c.Request().URL.Path, RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
		var he *echo.HTTPError
		var ae *tollgate.Error
		switch {
		case errors.As(err, &ae):
			p.Status = statusOf(ae.Code)
			p.Type = problemTypeBase + string(ae.Code)
			p.Detail = ae.Message
			if ae.Code == tollgate.CodeInternal {
				p.Detail = "internal error"
			}
		case errors.As(err, &he):
			p.Status = he.Code
			code := codeOfStatus(he.Code)
			p.Type = problemTypeBase + string(code)
			if msg, ok := he.Message.(string); ok {
				p.Detail = msg
			}
			if he.Code == http.StatusMethodNotAllowed {
				p.Type = problemTypeBase + "method_not_allowed"
			}
		default:
			p.Status = http.StatusInternalServerError
			p.Type = problemTypeBase + string(tollgate.CodeInternal)
			p.Detail = "internal error"
		}
		p.Title = http.StatusText(p.Status)
		if p.Status >= 500 && p.Status != http.StatusServiceUnavailable {
			logger.Error("request failed", "method", c.Request().Method, "path", c.Path(),
				"request_id", p.RequestID, "error", err)
		}
		if rl, ok := err.(interface{ RetryAfter() string }); ok {
			c.Response().Header().Set("Retry-After", rl.RetryAfter())
		}
		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
		c.Response().WriteHeader(p.Status)
		if c.Request().Method == http.MethodHead {
			return
		}
		_ = json.NewEncoder(c.Response()).Encode(p)
	}
}
