package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/activities"
)

// CycleInput starts one settlement cycle. Start it with workflow ID
// CycleID(ContractID, PeriodEnd).
type CycleInput struct {
	ContractID string
	// PeriodEnd is exclusive: the cycle settles what occurred before it.
	PeriodEnd time.Time
	// InitiatedBy is the person (or "schedule") who started the cycle; they
	// may not approve it.
	InitiatedBy string
	// GracePeriod delays the close to PeriodEnd+GracePeriod so late data
	// can still arrive; the same instant locks the FX rates.
	GracePeriod time.Duration
}

// CycleResult is how the cycle ended. A cycle ends normally in completed,
// rejected or cancelled; those are results, not workflow errors.
type CycleResult struct {
	CycleID       string
	Status        string
	Statement     *tollgate.Statement
	TotalMinor    int64
	LedgerEntries []int64
	Payout        tollgate.PayoutState
}

// Decision is the payload of the approve and reject updates and signals.
type Decision struct {
	Approver string `json:"approver"`
	Comment  string `json:"comment"`
}

// OperatorAction is the payload of the retry, skip and cancel updates and
// signals.
type OperatorAction struct {
	Actor   string `json:"actor"`
	Comment string `json:"comment"`
}

// ActionResult answers an update: the cycle's status right after the action
// was applied and, for approvals, how many are in and how many are needed.
type ActionResult struct {
	Status    string `json:"status"`
	Approvals int    `json:"approvals"`
	Required  int    `json:"required"`
}

// Step names, used on the timeline and in needs_attention errors.
const (
	stepClose      = "close"
	stepCompute    = "compute"
	stepCheck      = "check"
	stepPost       = "post"
	stepPayout     = "payout"
	stepCompensate = "compensate"
	stepRelease    = "release"
	stepComplete   = "complete"
)

// SettlementCycle settles one contract for one period (docs/architecture.md §4): close,
// collect, compute, check, approve, post, pay out, notify, complete.
func SettlementCycle(ctx workflow.Context, in CycleInput) (CycleResult, error) {
	c := newCycle(ctx, in)
	if err := c.registerHandlers(ctx); err != nil {
		return CycleResult{}, err
	}
	c.startRecorder(ctx)
	c.event(ctx, "started", "initiated by "+in.InitiatedBy)
	c.setStatus(ctx, StatusCollecting)

	if end := c.run(ctx); end != "" {
		return c.finish(ctx, end)
	}
	return c.finish(ctx, StatusCompleted)
}

// run walks the steps and returns a final status when the cycle ends early
// (rejected, cancelled), or "" when it reached the end.
func (c *cycle) run(ctx workflow.Context) string {
	// 1. Close, once late data had its grace period.
	if wait := c.cutoff().Sub(workflow.Now(ctx)); wait > 0 {
		c.event(ctx, "waiting_for_cutoff", "closing at "+c.cutoff().Format(time.RFC3339)+" after the grace period")
		if err := workflow.Sleep(ctx, wait); err != nil {
			return c.cancel(ctx, "workflow cancelled")
		}
	}
	if c.step(ctx, stepClose, false, func(ctx workflow.Context) error {
		req := tollgate.CloseRequest{CycleID: c.id, ContractID: c.in.ContractID, PeriodEnd: c.in.PeriodEnd}
		return workflow.ExecuteActivity(withOptions(ctx, defaultOptions), ActivityCloseCycle, req).Get(ctx, &c.snap)
	}) == cancelled {
		return c.cancel(ctx, c.actor)
	}
	c.event(ctx, "closed", fmt.Sprintf("%d transactions (%d late from earlier periods)", c.snap.Transactions, c.snap.Late))

	// 2. Collect: every provider pushes today, so nothing is fetched.
	c.event(ctx, "collected", "no pull-based provider on this contract; nothing to fetch before the cutoff")

	// 3. Compute with the rates locked at the cutoff.
	c.setStatus(ctx, StatusComputing)
	if c.step(ctx, stepCompute, false, func(ctx workflow.Context) error {
		req := activities.ComputeRequest{Snapshot: c.snap, Cutoff: c.cutoff()}
		return workflow.ExecuteActivity(withOptions(ctx, computeOptions), ActivityComputeStatement, req).Get(ctx, &c.computed)
	}) == cancelled {
		return c.cancel(ctx, c.actor)
	}
	c.rec.Statement = &c.computed.Statement
	c.upsertAmount(ctx)
	c.event(ctx, "computed", "total "+c.computed.Statement.Total+" "+string(c.computed.Statement.Currency))

	// 4. Check: a failed check may be skipped, but then a person approves.
	var check activities.CheckResult
	switch c.step(ctx, stepCheck, true, func(ctx workflow.Context) error {
		req := activities.CheckRequest{CycleID: c.id, Currency: c.snap.Currency, TotalMinor: c.computed.TotalMinor, Statement: c.computed.Statement}
		return workflow.ExecuteActivity(withOptions(ctx, defaultOptions), ActivityCheckAnomalies, req).Get(ctx, &check)
	}) {
	case cancelled:
		return c.cancel(ctx, c.actor)
	case skipped:
		check.Flags = []string{"check_skipped: the anomaly check was skipped by " + c.actor}
	}
	c.rec.Anomalies = append([]string{}, check.Flags...)
	for _, f := range check.Flags {
		c.event(ctx, "anomaly", f)
	}
	c.notify(ctx, activities.EventStatementReady)

	// 5. Approve.
	switch c.approve(ctx, len(check.Flags) > 0) {
	case rejected:
		return c.release(ctx, StatusRejected)
	case cancelled:
		return c.cancel(ctx, c.actor)
	}

	if workflow.GetVersion(ctx, versionApprovedIsFinal, workflow.DefaultVersion, 1) == 1 {
		c.final = true
		if c.computed.TotalMinor == 0 {
			c.setStatus(ctx, StatusPosting)
		}
	}

	// 6 and 7. Post and pay out; a declined payout is compensated and may be
	// retried from the posting on. From here on money moves, so a workflow
	// cancellation must not cut a step in half: the steps run on a
	// disconnected context and only an operator's cancel (allowed while
	// nothing is posted) stops them.
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	for {
		if c.post(ctx) == cancelled {
			return c.cancel(ctx, c.actor)
		}
		switch c.payOut(ctx) {
		case declined:
			if c.compensate(ctx) == cancelled {
				return c.cancel(ctx, c.actor)
			}
			c.attempt++
			continue
		}
		break
	}

	// 8. Notify and complete.
	if c.computed.TotalMinor > 0 {
		c.notify(ctx, activities.EventCyclePaid)
	} else {
		c.notify(ctx, activities.EventCycleSettled)
	}
	c.step(ctx, stepComplete, false, func(ctx workflow.Context) error {
		req := activities.CompleteRequest{CycleID: c.id, CarryOut: c.computed.Statement.CarryOut}
		return workflow.ExecuteActivity(withOptions(ctx, defaultOptions), ActivityCompleteCycle, req).Get(ctx, nil)
	})
	return ""
}

// cutoff is when the period closes and the FX rates are locked.
func (c *cycle) cutoff() time.Time {
	return c.in.PeriodEnd.Add(c.in.GracePeriod)
}

// release hands the transactions back to the next cycle and ends with
// status (rejected or cancelled). A cycle ending this way has nothing
// posted, so releasing is always safe.
func (c *cycle) release(ctx workflow.Context, status string) string {
	// The release must happen even when the workflow itself is being
	// cancelled, or the transactions would stay locked in this cycle.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	c.step(dctx, stepRelease, false, func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(withOptions(ctx, defaultOptions), ActivityReleaseCycle, activities.ReleaseRequest{CycleID: c.id, ContractID: c.in.ContractID}).Get(ctx, nil)
	})
	c.event(dctx, "released", "transactions handed to the next cycle")
	return status
}

// cancel ends the cycle on an operator's cancel.
func (c *cycle) cancel(ctx workflow.Context, by string) string {
	c.event(ctx, "cancelled", "by "+by)
	return c.release(ctx, StatusCancelled)
}

// finish records the final status, waits for notifications and the read
// model, and returns the result.
func (c *cycle) finish(ctx workflow.Context, status string) (CycleResult, error) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	c.rec.Error = ""
	c.setStatus(dctx, status)
	_ = workflow.Await(dctx, func() bool { return c.notifying == 0 })
	c.flush(dctx)
	return CycleResult{
		CycleID: c.id, Status: status, Statement: c.rec.Statement, TotalMinor: c.computed.TotalMinor,
		LedgerEntries: c.rec.LedgerEntry, Payout: c.rec.Payout,
	}, nil
}
