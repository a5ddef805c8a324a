package api

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/tollgate/tollgate"
)

// The OpenAPI document is the API's contract. It is written by hand next to
// the handlers; tests keep the two in step (every route is in the document
// and every operation is a route) and requests are validated against it
// before they reach a handler.
//
// The handlers stay the last word on input: the document's schemas are
// never stricter than the handlers' own checks, so validation only turns
// away what a handler would refuse anyway, earlier and with the document's
// field names. Query and path parameters are typed as strings for the same
// reason: the handlers' messages for a bad limit or ID are part of the API.

//go:embed openapi.yaml
var openapiYAML []byte

// OpenAPI returns the embedded document, parsed.
func OpenAPI() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapiYAML)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return doc, nil
}

// apiContract is the parsed document and its operations by Echo route.
type apiContract struct {
	doc  *openapi3.T
	json []byte
	ops  map[routeKey]*routers.Route
}

// loadContract parses the embedded document once; servers share it (it is
// only read after loading). It is built into the binary
// and checked by the tests, so a document that does not load is a build
// defect: fail at start-up rather than serve without validation.
var loadContract = sync.OnceValue(func() *apiContract {
	doc, err := OpenAPI()
	if err != nil {
		panic(err)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Errorf("openapi.yaml: %w", err))
	}
	c := &apiContract{doc: doc, json: raw, ops: map[routeKey]*routers.Route{}}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			c.ops[routeKey{method, EchoPath(path)}] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
		}
	}
	return c
})

var templateParam = regexp.MustCompile(`\{([^}]+)\}`)

// EchoPath turns an OpenAPI path template into Echo's form:
// /v1/parties/{id} -> /v1/parties/:id.
func EchoPath(openapiPath string) string {
	return templateParam.ReplaceAllString(openapiPath, ":$1")
}

func (s *Server) serveOpenAPI(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, s.openapi.json)
}

// rawBodyRoutes take bodies the handler reads itself: ingest batches are
// validated row by row (a bad row is rejected, not the batch) and can be 16
// MiB, which a second full parse would only slow down.
var rawBodyRoutes = map[routeKey]bool{
	{http.MethodPost, "/v1/transactions"}:         true,
	{http.MethodPost, "/v1/providers/:id/events"}: true,
}

var validationOptions = &openapi3filter.Options{
	AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
	SkipSettingDefaults: true,
}

// validate checks a request's parameters and body against the route's
// operation. A route missing from the document passes unchecked here; the
// contract test is what fails for it.
func (a *apiContract) validate(method, path string) echo.MiddlewareFunc {
	route := a.ops[routeKey{method, path}]
	raw := rawBodyRoutes[routeKey{method, path}]
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if route == nil {
			return next
		}
		return func(c echo.Context) error {
			req := c.Request()
			in := &openapi3filter.RequestValidationInput{Request: req, Route: route, Options: validationOptions,
				PathParams: map[string]string{}}
			for i, n := range c.ParamNames() {
				in.PathParams[n] = c.ParamValues()[i]
			}
			if raw || route.Operation.RequestBody == nil {
				opts := *validationOptions
				opts.ExcludeRequestBody = true
				in.Options = &opts
			} else {
				body, err := readBody(c)
				if err != nil {
					return err
				}
				// The body goes to the validator on a copy of the request,
				// so the handler reads it (and its declared content type) as
				// sent.
				vreq := req.Clone(req.Context())
				vreq.Body = io.NopCloser(bytes.NewReader(body))
				if len(body) > 0 && vreq.Header.Get(echo.HeaderContentType) == "" {
					vreq.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
				}
				in.Request = vreq
				req.Body = io.NopCloser(bytes.NewReader(body))
				if len(body) == 0 && !route.Operation.RequestBody.Value.Required {
					opts := *validationOptions
					opts.ExcludeRequestBody = true
					in.Options = &opts
				}
			}
			if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
				return validationProblem(err)
			}
			return next(c)
		}
	}
}

// readBody reads the whole body under the body limit, refusing a declared
// non-JSON content type first (415, as the handlers do).
func readBody(c echo.Context) ([]byte, error) {
	req := c.Request()
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, jsonError(err)
	}
	if len(body) > 0 {
		if err := requireJSON(c); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// validationProblem turns a validator error into a short invalid-input
// problem naming the parameter or field, without echoing schemas.
func validationProblem(err error) error {
	var re *openapi3filter.RequestError
	if !errors.As(err, &re) {
		return tollgate.Errorf(tollgate.CodeInvalid, "request does not match the API document: %s", firstLine(err.Error()))
	}
	where := "request body"
	if re.Parameter != nil {
		where = fmt.Sprintf("%s parameter %q", re.Parameter.In, re.Parameter.Name)
	}
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) {
		field := strings.Join(se.JSONPointer(), ".")
		if field != "" {
			return tollgate.Errorf(tollgate.CodeInvalid, "%s: field %q: %s", where, field, se.Reason)
		}
		return tollgate.Errorf(tollgate.CodeInvalid, "%s: %s", where, se.Reason)
	}
	reason := re.Reason
	if reason == "" && re.Err != nil {
		reason = firstLine(re.Err.Error())
	}
	return tollgate.Errorf(tollgate.CodeInvalid, "%s: %s", where, reason)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
