package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store"
)

// Audit: every successful state-changing request leaves one row in the
// hash-chained audit_log. Handlers that know the object's before/after
// state record it with s.auditf; the auditBaseline middleware records the
// rest (action "<METHOD> <route>", the request body as after), so a new
// route is audited even before its author thinks of it. API keys are audited
// in the same transaction as the change; the other stores own their
// transactions, so their rows follow the change in a transaction of their
// own (moving them inside needs the store functions to take a pgx.Tx).

func (s *Server) auditRoutes() {
	s.route(http.MethodGet, "/v1/audit", RoleAdmin, s.listAudit)
	s.route(http.MethodGet, "/v1/audit/verify", RoleAdmin, s.verifyAudit)
}

const auditedFlag = "tollgate.audited"

// auditEvent is the request's who and request ID.
func (s *Server) auditEvent(c echo.Context, action, objectType, objectID string) store.AuditEvent {
	e := store.AuditEvent{At: s.Clock(), Action: action, ObjectType: objectType, ObjectID: objectID,
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
	if p, ok := PrincipalFrom(c.Request().Context()); ok {
		e.Actor, e.ActorKey = p.Name, p.KeyID
	}
	c.Set(auditedFlag, true)
	return e
}

// auditf appends one audit row for a change this request made. before and
// after are marshalled to JSON with secrets redacted; nil means none. Cycle
// and other handlers call it after their change succeeded.
func (s *Server) auditf(c echo.Context, action, objectType, objectID string, before, after any) {
	e := s.auditEvent(c, action, objectType, objectID)
	e.Before, e.After = redactJSON(before), redactJSON(after)
	s.appendAudit(c, e)
}

// auditEntry is what a change records: the action, its object, and the
// object before and after.
type auditEntry struct {
	action, objectType, objectID string
	before, after                any
}

// audited runs a change and appends its audit row in one database
// transaction, so the change and its record commit together or not at all.
// change returns the entry to record, or nil when it changed nothing.
func (s *Server) audited(c echo.Context, change func(st *store.Store) (*auditEntry, error)) error {
	ctx := c.Request().Context()
	return s.Store.Tx(ctx, func(st *store.Store) error {
		a, err := change(st)
		if err != nil {
			return err
		}
		if a == nil {
			c.Set(auditedFlag, true)
			return nil
		}
		e := s.auditEvent(c, a.action, a.objectType, a.objectID)
		e.Before, e.After = redactJSON(a.before), redactJSON(a.after)
		return st.Audit(ctx, e)
	})
}

// appendAudit writes the row. The change has already committed, so a
// failure cannot undo it; it is logged as an error for operators to act
// on, and the request still reports the change that happened.
func (s *Server) appendAudit(c echo.Context, e store.AuditEvent) {
	if s.Store == nil {
		return
	}
	if err := s.Store.Audit(c.Request().Context(), e); err != nil {
		s.Logger.Error("audit append failed", "action", e.Action, "object_type", e.ObjectType,
			"object_id", e.ObjectID, "request_id", e.RequestID, "error", err)
	}
}

// maxAuditBody is the largest request body the baseline copies into a row;
// larger bodies are recorded by size only.
const maxAuditBody = 64 << 10

// auditBaseline records successful non-GET requests whose handler did not
// call auditf.
func (s *Server) auditBaseline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Method == http.MethodGet || req.Method == http.MethodHead || req.Method == http.MethodOptions {
			return next(c)
		}
		capture := &boundedBuffer{max: maxAuditBody}
		if req.Body != nil && req.Body != http.NoBody {
			req.Body = struct {
				io.Reader
				io.Closer
			}{io.TeeReader(req.Body, capture), req.Body}
		}
		err := next(c)
		if err != nil || c.Get(auditedFlag) != nil || c.Response().Status >= 400 {
			return err
		}
		objectType, objectID := auditObject(c)
		e := s.auditEvent(c, req.Method+" "+c.Path(), objectType, objectID)
		switch {
		case capture.overflow:
			e.After, _ = json.Marshal(map[string]any{"body_bytes": capture.n})
		case capture.buf.Len() > 0 && json.Valid(capture.buf.Bytes()):
			var v any
			_ = json.Unmarshal(capture.buf.Bytes(), &v)
			e.After = redactJSON(v)
		}
		s.appendAudit(c, e)
		return nil
	}
}

// auditObject derives the object from the route: the first path segment
// after /v1/ names its type, :id its ID.
func auditObject(c echo.Context) (string, string) {
	parts := strings.Split(strings.TrimPrefix(c.Path(), "/v1/"), "/")
	return parts[0], c.Param("id")
}

type boundedBuffer struct {
	buf      bytes.Buffer
	max, n   int
	overflow bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.n += len(p)
	if !b.overflow && b.buf.Len()+len(p) <= b.max {
		b.buf.Write(p)
	} else {
		b.overflow = true
		b.buf.Reset()
	}
	return len(p), nil
}

// secretField names fields whose values never enter the audit trail.
func secretField(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"secret", "key", "token", "password", "signature", "authorization"} {
		if strings.Contains(n, s) && n != "idempotency_key" && n != "api_key_id" {
			return true
		}
	}
	return false
}

// redactJSON marshals v with every secret-looking field replaced.
func redactJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return nil
	}
	out, _ := json.Marshal(redactTree(tree))
	return out
}

func redactTree(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if secretField(k) {
				if e != nil && e != "" {
					x[k] = "[redacted]"
				}
				continue
			}
			x[k] = redactTree(e)
		}
	case []any:
		for i, e := range x {
			x[i] = redactTree(e)
		}
	}
	return v
}

type auditPage struct {
	Items      []store.AuditRecord `json:"items"`
	NextCursor string              `json:"next_cursor"`
}

func (s *Server) listAudit(c echo.Context) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	from, to, err := timeRange(c)
	if err != nil {
		return err
	}
	f := store.AuditFilter{Actor: c.QueryParam("actor"), Action: c.QueryParam("action"),
		ObjectType: c.QueryParam("object_type"), ObjectID: c.QueryParam("object_id"), From: from, To: to, Page: pg}
	// object=<type>/<id> is shorthand for the two filters.
	if o := c.QueryParam("object"); o != "" {
		f.ObjectType, f.ObjectID, _ = strings.Cut(o, "/")
	}
	if f.ObjectID != "" && f.ObjectType == "" {
		return tollgate.Errorf(tollgate.CodeInvalid, "object_id needs object_type (or use object=<type>/<id>)")
	}
	items, next, err := s.Store.ListAudit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []store.AuditRecord{}
	}
	return c.JSON(http.StatusOK, auditPage{Items: items, NextCursor: next})
}

// verifyAudit answers 200 with ok=false and the first break when the chain
// is broken: a found break is the check's result, not a failed request.
func (s *Server) verifyAudit(c echo.Context) error {
	r, err := s.Store.VerifyAudit(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}
