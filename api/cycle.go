package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/workflows"
)

// cycleRoutes registers settlement cycles and contract schedules.
func (s *Server) cycleRoutes() {
	s.route(http.MethodPost, "/v1/cycles", RoleOperator, s.startCycle)
	s.route(http.MethodGet, "/v1/cycles", RoleViewer, s.listCycles)
	s.route(http.MethodGet, "/v1/cycles/:id", RoleViewer, s.getCycle)
	s.route(http.MethodPost, "/v1/cycles/:id/approve", RoleApprover, s.decideCycle(workflows.ActionApprove))
	s.route(http.MethodPost, "/v1/cycles/:id/reject", RoleApprover, s.decideCycle(workflows.ActionReject))
	s.route(http.MethodPost, "/v1/cycles/:id/retry", RoleOperator, s.actOnCycle(workflows.ActionRetry))
	s.route(http.MethodPost, "/v1/cycles/:id/skip", RoleOperator, s.actOnCycle(workflows.ActionSkip))
	s.route(http.MethodPost, "/v1/cycles/:id/cancel", RoleOperator, s.actOnCycle(workflows.ActionCancel))
	s.route(http.MethodPut, "/v1/contracts/:id/schedule", RoleOperator, s.putSchedule)
	s.route(http.MethodGet, "/v1/contracts/:id/schedule", RoleViewer, s.getSchedule)
	s.route(http.MethodPost, "/v1/contracts/:id/schedule/trigger", RoleOperator, s.triggerSchedule)
}

type startCycleRequest struct {
	ContractID string     `json:"contract_id"`
	PeriodEnd  *time.Time `json:"period_end"`
}

type startCycleResponse struct {
	CycleID string `json:"cycle_id"`
	Status  string `json:"status"`
}

// startCycle starts the cycle for (contract, period end). The workflow ID is
// derived from both, so starting it again returns the same cycle.
func (s *Server) startCycle(c echo.Context) error {
	var req startCycleRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if req.ContractID == "" {
		return tollgate.Errorf(tollgate.CodeInvalid, "contract_id is required")
	}
	end := s.Clock().UTC().Truncate(time.Minute)
	if req.PeriodEnd != nil {
		end = req.PeriodEnd.UTC()
		if !end.Equal(end.Truncate(time.Minute)) {
			return tollgate.Errorf(tollgate.CodeInvalid, "period_end %s must be on a whole minute", req.PeriodEnd.Format(time.RFC3339Nano))
		}
		if end.Year() < 2000 {
			return tollgate.Errorf(tollgate.CodeInvalid, "period_end %s is before the year 2000", end.Format(time.RFC3339))
		}
		if end.After(s.Clock().Add(time.Minute)) {
			return tollgate.Errorf(tollgate.CodeInvalid, "period_end %s is in the future; a cycle settles a period that has ended", end.Format(time.RFC3339))
		}
	}
	tc, err := s.temporal()
	if err != nil {
		return err
	}
	status, err := startCycleWorkflow(ctx, tc, s.Store, req.ContractID, end, actor(ctx))
	if err != nil {
		return err
	}
	out := startCycleResponse{CycleID: workflows.CycleID(req.ContractID, end), Status: status}
	s.auditf(c, "cycle.start", "cycle", out.CycleID, nil, map[string]any{"contract_id": req.ContractID, "period_end": end, "status": status})
	return c.JSON(http.StatusAccepted, out)
}

// startCycleWorkflow starts (or finds) the cycle and returns its status.
func startCycleWorkflow(ctx context.Context, tc client.Client, st *store.Store, contractID string, end time.Time, by string) (string, error) {
	id := workflows.CycleID(contractID, end)
	if existing, err := st.GetCycle(ctx, id); err == nil {
		return existing.Status, nil
	}
	contract, err := st.GetContract(ctx, contractID)
	if err != nil {
		return "", err
	}
	if contract.ClosedThrough != nil && end.Before(*contract.ClosedThrough) {
		return "", tollgate.Errorf(tollgate.CodeConflict, "contract %q is already closed through %s; start a cycle with a later period_end",
			contractID, contract.ClosedThrough.Format(time.RFC3339))
	}
	_, err = tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrContractID).ValueSet(contractID),
			temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrCycleStatus).ValueSet(workflows.StatusCollecting),
		),
	}, workflows.SettlementCycleWorkflowName, workflows.CycleInput{
		ContractID: contractID, PeriodEnd: end, InitiatedBy: by, GracePeriod: contract.GracePeriod.Std(),
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		// A closed workflow under this ID (the reuse policy refused a
		// second run): its own read model row is the truth; never write a
		// first row for it.
		return workflows.StatusCollecting, nil
	} else if err != nil {
		return "", tollgate.Wrap(tollgate.CodeUnavailable, err, "cannot start the cycle workflow")
	}
	// Read your writes: the workflow records its read model row only once
	// its first task has run, so a GET right after this answer would find
	// nothing. The API therefore writes the cycle's first row itself, in
	// this request, with the workflow's own first status (collecting, what
	// this answer says too). It is written after the start succeeded, so no
	// row exists for a cycle that never started, and with INSERT … ON
	// CONFLICT DO NOTHING, so it never replaces a newer row the workflow
	// already wrote; the workflow's RecordCycle upsert replaces it. (The
	// alternative, falling back to the status Query in GET when the row is
	// missing, would still answer 404 until the first workflow task
	// completes, and would make every list and dashboard miss the cycle.)
	// When the POST joined a cycle someone else started a moment before,
	// initiated_by may name this caller until the workflow records its own
	// row; GET answers from the live workflow while it runs.
	rec := tollgate.CycleRecord{CycleID: id, ContractID: contractID, PeriodEnd: end, Status: workflows.StatusCollecting,
		InitiatedBy: by, Approvals: []tollgate.Approval{}, Anomalies: []string{}, LedgerEntry: []int64{}, Timeline: []tollgate.TimelineEvent{}}
	if err := st.RecordCycleStart(ctx, rec); err != nil {
		return "", err
	}
	return workflows.StatusCollecting, nil
}

// cycleView is GET /v1/cycles/{id}.
type cycleView struct {
	ID            string                   `json:"id"`
	ContractID    string                   `json:"contract_id"`
	PeriodEnd     time.Time                `json:"period_end"`
	Status        string                   `json:"status"`
	InitiatedBy   string                   `json:"initiated_by"`
	Statement     *tollgate.Statement      `json:"statement"`
	Approvals     []tollgate.Approval      `json:"approvals"`
	Anomalies     []string                 `json:"anomalies"`
	LedgerEntries []int64                  `json:"ledger_entries"`
	Payout        tollgate.PayoutState     `json:"payout"`
	Timeline      []tollgate.TimelineEvent `json:"timeline"`
	Error         string                   `json:"error,omitempty"`
	Transactions  int64                    `json:"transactions"`
	UpdatedAt     time.Time                `json:"updated_at"`
}

func toView(row store.CycleRow, rec tollgate.CycleRecord) cycleView {
	v := cycleView{ID: row.ID, ContractID: row.ContractID, PeriodEnd: row.PeriodEnd, Status: row.Status,
		InitiatedBy: rec.InitiatedBy, Statement: rec.Statement, Approvals: rec.Approvals, Anomalies: rec.Anomalies,
		LedgerEntries: rec.LedgerEntry, Payout: rec.Payout, Timeline: rec.Timeline, Error: rec.Error, UpdatedAt: row.UpdatedAt}
	if rec.Status != "" {
		v.Status = rec.Status
	}
	if row.Snapshot != nil {
		v.Transactions = row.Snapshot.Transactions
	}
	if v.Approvals == nil {
		v.Approvals = []tollgate.Approval{}
	}
	if v.Anomalies == nil {
		v.Anomalies = []string{}
	}
	if v.LedgerEntries == nil {
		v.LedgerEntries = []int64{}
	}
	if v.Timeline == nil {
		v.Timeline = []tollgate.TimelineEvent{}
	}
	return v
}

func isTerminal(status string) bool {
	switch status {
	case workflows.StatusCompleted, workflows.StatusRejected, workflows.StatusCancelled:
		return true
	}
	return false
}

// getCycle answers from the workflow itself while it runs (the freshest
// timeline) and from the read model otherwise.
func (s *Server) getCycle(c echo.Context) error {
	ctx := c.Request().Context()
	row, err := s.Store.GetCycle(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	rec := s.liveRecord(ctx, &row)
	return c.JSON(http.StatusOK, toView(row, rec))
}

// liveRecord is the cycle as the workflow itself sees it while it runs (the
// read model is written a moment later), or the read model's record when
// the cycle has ended or the workflow does not answer; row.Status follows.
func (s *Server) liveRecord(ctx context.Context, row *store.CycleRow) tollgate.CycleRecord {
	rec := row.Record
	if !isTerminal(row.Status) && s.Temporal != nil {
		qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if v, err := s.Temporal.QueryWorkflow(qctx, row.ID, "", workflows.QueryStatus); err == nil {
			var live tollgate.CycleRecord
			if v.Get(&live) == nil && live.Status != "" {
				rec, row.Status = live, live.Status
			}
		}
	}
	return rec
}

func (s *Server) listCycles(c echo.Context) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	rows, next, err := s.Store.ListCycles(c.Request().Context(), c.QueryParam("contract_id"), c.QueryParam("status"), pg)
	if err != nil {
		return err
	}
	out := make([]cycleView, len(rows))
	for i, r := range rows {
		out[i] = toView(r, r.Record)
	}
	return listOf(c, out, next)
}

type decisionRequest struct {
	Comment string `json:"comment"`
	Reason  string `json:"reason"`
}

// decideCycle sends approve/reject as a Temporal Update, so the caller gets
// the workflow's validation error (self-approval, duplicate approver, cycle
// not awaiting approval) back as a 4xx.
func (s *Server) decideCycle(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req decisionRequest
		if err := decodeOptionalJSON(c, &req); err != nil {
			return err
		}
		comment := req.Comment
		if action == workflows.ActionReject {
			if req.Reason == "" {
				return tollgate.Errorf(tollgate.CodeInvalid, "reason is required to reject a cycle")
			}
			comment = req.Reason
		}
		ctx := c.Request().Context()
		return s.updateCycle(c, action, workflows.Decision{Approver: actor(ctx), Comment: comment})
	}
}

type actionRequest struct {
	Comment string `json:"comment"`
}

func (s *Server) actOnCycle(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req actionRequest
		if err := decodeOptionalJSON(c, &req); err != nil {
			return err
		}
		ctx := c.Request().Context()
		return s.updateCycle(c, action, workflows.OperatorAction{Actor: actor(ctx), Comment: req.Comment})
	}
}

// idempotencyHeader lets a client retry an action and get the first answer
// back: its value becomes the Temporal Update ID, which the workflow
// deduplicates.
const idempotencyHeader = "Idempotency-Key"

// updateID is the Update ID for the request's Idempotency-Key, or "" (the
// SDK picks a random one) when there is none. The key is namespaced by the
// action and the caller's credential, so two actions or two callers using
// the same key never receive each other's answer; the credential ID is
// length-prefixed because an OIDC one ("oidc:<subject>") contains colons.
func updateID(c echo.Context, action string) (string, error) {
	vals := c.Request().Header.Values(idempotencyHeader)
	if len(vals) == 0 {
		return "", nil
	}
	if len(vals) > 1 {
		return "", tollgate.Errorf(tollgate.CodeInvalid, "%s must be sent once", idempotencyHeader)
	}
	key := vals[0]
	if len(key) < 1 || len(key) > 128 {
		return "", tollgate.Errorf(tollgate.CodeInvalid, "%s must be 1 to 128 characters long, got %d", idempotencyHeader, len(key))
	}
	for i := range len(key) {
		if key[i] < 0x20 || key[i] > 0x7e {
			return "", tollgate.Errorf(tollgate.CodeInvalid, "%s must be printable ASCII; byte %d is 0x%02x", idempotencyHeader, i, key[i])
		}
	}
	var keyID string
	if p, ok := PrincipalFrom(c.Request().Context()); ok {
		keyID = p.KeyID
	}
	return "api:" + action + ":" + strconv.Itoa(len(keyID)) + ":" + keyID + ":" + key, nil
}

// updateCycle sends the action as an Update and audits it. With an
// Idempotency-Key, a retry is the same Update: Temporal answers it with
// the first outcome (while the workflow runs; once the cycle has finished
// it refuses every action, retries included, with 409), and the audit row
// is written once, for the first answer. Two retries racing each other may
// both be audited; each row carries the same update_id.
func (s *Server) updateCycle(c echo.Context, name string, arg any) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	uid, err := updateID(c, name)
	if err != nil {
		return err
	}
	before, err := s.Store.GetCycle(ctx, id)
	if err != nil {
		return err
	}
	// The audit's before-state is the workflow's own status, not the read
	// model's, which may not have caught up yet.
	s.liveRecord(ctx, &before)
	uctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	tc, err := s.temporal()
	if err != nil {
		return err
	}
	h, err := tc.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateID: uid, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res workflows.ActionResult
	if err == nil {
		err = h.Get(uctx, &res)
	}
	if err != nil {
		return updateError(id, err)
	}
	after := map[string]any{"request": arg, "result": res}
	if uid == "" {
		s.auditf(c, "cycle."+name, "cycle", id, map[string]string{"status": before.Status}, after)
		return c.JSON(http.StatusOK, res)
	}
	after["update_id"] = uid
	// When the lookup fails the action has still taken effect: answer it,
	// and audit it rather twice than never.
	if replayed, err := s.Store.AuditHasUpdate(ctx, "cycle."+name, "cycle", id, uid); err == nil && replayed {
		c.Set(auditedFlag, true) // the first request's row records it
	} else {
		s.auditf(c, "cycle."+name, "cycle", id, map[string]string{"status": before.Status}, after)
	}
	return c.JSON(http.StatusOK, res)
}

// updateError maps the workflow's refusal types to application codes.
func updateError(id string, err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch appErr.Type() {
		case tollgate.ErrTypeInvalid:
			return tollgate.Errorf(tollgate.CodeInvalid, "%s", appErr.Message())
		case tollgate.ErrTypeConflict:
			return tollgate.Errorf(tollgate.CodeConflict, "%s", appErr.Message())
		}
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return tollgate.Errorf(tollgate.CodeConflict, "cycle %s has finished; it takes no more actions", id)
	}
	return tollgate.Wrap(tollgate.CodeUnavailable, err, "cycle %s did not answer", id)
}
