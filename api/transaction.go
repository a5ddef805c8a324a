package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store"
)

// transactionBatch is the body of POST /v1/transactions and of a provider
// push. Rows stay raw so one malformed row is rejected on its own.
type transactionBatch struct {
	Transactions []json.RawMessage `json:"transactions"`
}

func decodeBatch(body io.Reader) ([]json.RawMessage, error) {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var b transactionBatch
	if err := dec.Decode(&b); err != nil {
		return nil, jsonError(err)
	}
	if dec.More() {
		return nil, tollgate.Errorf(tollgate.CodeInvalid, "request body has data after the JSON value")
	}
	if b.Transactions == nil {
		return nil, tollgate.Errorf(tollgate.CodeInvalid, `body must be {"transactions":[...]} with at least one row`)
	}
	if len(b.Transactions) > tollgate.MaxBatch {
		return nil, tollgate.Errorf(tollgate.CodeTooLarge, "a batch holds at most %d transactions, got %d; split it", tollgate.MaxBatch, len(b.Transactions))
	}
	return b.Transactions, nil
}

// postTransactions ingests a batch. Ingest keys may only send their own
// provider's rows; operators and above may send any provider's.
func (s *Server) postTransactions(c echo.Context) error {
	if err := requireJSON(c); err != nil {
		return err
	}
	rows, err := decodeBatch(c.Request().Body)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	only := ""
	if p, ok := PrincipalFrom(ctx); ok && p.Role == RoleIngest {
		only = p.ProviderID
		if err := requireOwnRows(rows, only); err != nil {
			return err
		}
	}
	res, err := s.Store.Ingest(ctx, rows, "api", only)
	if err != nil {
		return err
	}
	s.auditf(c, "transactions.ingest", "transactions", only, nil, ingestSummary(len(rows), res))
	return c.JSON(http.StatusOK, res)
}

// providerPush accepts a provider's signed push:
// Tollgate-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">.
// The raw body is archived before ingest so any batch can be re-processed.
func (s *Server) providerPush(c echo.Context) error {
	ctx := c.Request().Context()
	providerID := c.Param("id")
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return jsonError(err)
	}
	party, err := s.Store.GetParty(ctx, providerID)
	if err != nil || party.Kind != "provider" {
		return tollgate.Errorf(tollgate.CodeUnauthorized, "unknown provider or bad signature")
	}
	secrets, err := s.Store.ValidSecrets(ctx, providerID)
	if err != nil {
		return err
	}
	sig, err := tollgate.VerifySignature(c.Request().Header.Get(tollgate.SignatureHeader), body, secrets, s.Clock())
	if err != nil {
		return err
	}
	rows, err := decodeBatch(bytes.NewReader(body))
	if err != nil {
		return err
	}
	archiveID, err := s.Store.ArchivePush(ctx, providerID, sig, body)
	if err != nil {
		return err
	}
	res, err := s.Store.Ingest(ctx, rows, "push:"+strconv.FormatInt(archiveID, 10), providerID)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Tollgate-Archive-Id", strconv.FormatInt(archiveID, 10))
	e := s.auditEvent(c, "transactions.push", "provider", providerID)
	e.Actor = "provider:" + providerID // authenticated by its signature
	e.After = redactJSON(map[string]any{"archive_id": archiveID, "result": ingestSummary(len(rows), res)})
	s.appendAudit(c, e)
	return c.JSON(http.StatusOK, res)
}

func (s *Server) listTransactions(c echo.Context) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	from, to, err := timeRange(c)
	if err != nil {
		return err
	}
	items, next, err := s.Store.ListTransactions(c.Request().Context(), store.TransactionFilter{
		ProviderID: c.QueryParam("provider_id"), OperatorID: c.QueryParam("operator_id"),
		ContractID: c.QueryParam("contract_id"), CycleID: c.QueryParam("cycle_id"), From: from, To: to, Page: pg,
	})
	if err != nil {
		return err
	}
	return listOf(c, items, next)
}

func (s *Server) addRate(c echo.Context) error {
	var r tollgate.FXRate
	if err := decodeJSON(c, &r); err != nil {
		return err
	}
	var out tollgate.FXRate
	err := s.audited(c, func(st *store.Store) (_ *auditEntry, err error) {
		out, err = st.AddRate(c.Request().Context(), r)
		return &auditEntry{"fx_rate.add", "fx_rate", out.Base + "/" + out.Quote, nil, out}, err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) listRates(c echo.Context) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	items, next, err := s.Store.ListRates(c.Request().Context(), c.QueryParam("base"), c.QueryParam("quote"), pg)
	if err != nil {
		return err
	}
	return listOf(c, items, next)
}

func (s *Server) listDeadLetters(c echo.Context) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	items, next, err := s.Store.ListDeadLetters(c.Request().Context(), store.DeadLetterFilter{
		ProviderID: c.QueryParam("provider_id"), Status: c.QueryParam("status"), Reason: c.QueryParam("reason"), Page: pg})
	if err != nil {
		return err
	}
	return listOf(c, items, next)
}

func (s *Server) getDeadLetter(c echo.Context) error {
	id, err := int64Param(c, "id")
	if err != nil {
		return err
	}
	d, err := s.Store.GetDeadLetter(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

type replayRequest struct {
	Transaction json.RawMessage `json:"transaction"`
}

func (s *Server) replayDeadLetter(c echo.Context) error {
	var req replayRequest
	return s.deadLetterAction(c, "dead_letter.replay", &req, func(ctx context.Context, id int64, by string) (any, error) {
		return s.Store.ReplayDeadLetter(ctx, id, req.Transaction, by)
	})
}

type discardRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) discardDeadLetter(c echo.Context) error {
	var req discardRequest
	return s.deadLetterAction(c, "dead_letter.discard", &req, func(ctx context.Context, id int64, by string) (any, error) {
		return s.Store.DiscardDeadLetter(ctx, id, by, req.Reason)
	})
}

// deadLetterAction reads the dead letter's ID and optional body, applies
// the action and records it on the audit trail with before and after.
func (s *Server) deadLetterAction(c echo.Context, action string, req any, apply func(context.Context, int64, string) (any, error)) error {
	id, err := int64Param(c, "id")
	if err != nil {
		return err
	}
	if err := decodeOptionalJSON(c, req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	before, err := s.Store.GetDeadLetter(ctx, id)
	if err != nil {
		return err
	}
	after, err := apply(ctx, id, actor(ctx))
	if err != nil {
		return err
	}
	s.auditf(c, action, "dead_letter", strconv.FormatInt(id, 10), before, after)
	return c.JSON(http.StatusOK, after)
}

// reprocessPush ingests an archived push body again. Ingest is idempotent,
// so rows already stored count as duplicates and only rows that failed
// before (for example for want of a contract) can be accepted now.
func (s *Server) reprocessPush(c echo.Context) error {
	id, err := int64Param(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	providerID, body, err := s.Store.ArchivedPush(ctx, id)
	if err != nil {
		return err
	}
	rows, err := decodeBatch(bytes.NewReader(body))
	if err != nil {
		return err
	}
	res, err := s.Store.Ingest(ctx, rows, "reprocess:"+strconv.FormatInt(id, 10), providerID)
	if err != nil {
		return err
	}
	s.auditf(c, "transactions.reprocess", "push_archive", strconv.FormatInt(id, 10), nil, ingestSummary(len(rows), res))
	return c.JSON(http.StatusOK, res)
}

// ingestSummary is what the audit trail keeps of an ingest: counts, not
// the rows (they are in transactions and dead_letters already).
func ingestSummary(rows int, res tollgate.IngestResult) map[string]int {
	return map[string]int{"rows": rows, "accepted": res.Accepted, "duplicates": res.Duplicates, "rejected": len(res.Rejected)}
}

// requireOwnRows refuses, as a whole, an ingest key's batch in which every
// row names another provider: that is a client configured with the wrong
// key, not bad data, and answering 403 makes it loud instead of filling the
// response with per-row rejections. A batch mixing own and foreign rows is
// still answered row by row (foreign rows rejected as wrong_provider), so a
// single stray row does not block the provider's feed. The scan stops at the
// first row that is not foreign, normally the first.
func requireOwnRows(rows []json.RawMessage, provider string) error {
	for _, raw := range rows {
		var r struct {
			ProviderID string `json:"provider_id"`
		}
		if json.Unmarshal(raw, &r) != nil || r.ProviderID == "" || r.ProviderID == provider {
			return nil
		}
	}
	return tollgate.Errorf(tollgate.CodeForbidden, "this key may only send transactions of provider %q; every row names another provider", provider)
}
