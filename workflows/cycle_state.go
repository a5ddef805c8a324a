package workflows

import (
	"errors"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/activities"
)

// cycle is the workflow's state. Handlers and the main coroutine share it;
// Temporal runs them one at a time, so no locking is needed.
type cycle struct {
	in       CycleInput
	id       string
	rec      tollgate.CycleRecord
	snap     tollgate.CycleSnapshot
	computed activities.ComputeResult

	// Approval.
	required int
	approved int
	rejected bool

	// Operator action awaited while parked (retry, skip, cancel).
	parked    bool
	skippable bool
	action    string
	actor     string

	// Money state: booked is true from the moment a posting is attempted
	// until it is reversed (a posting whose activity failed may still have
	// committed, so the cycle can no longer simply be cancelled); entryID is
	// the live posting; attempt counts post/pay rounds and keys the ledger
	// and the payout.
	booked bool
	// final is set once the cycle is approved (versionApprovedIsFinal).
	final   bool
	entryID int64
	attempt int

	// Read-model recording and notifications run beside the main flow.
	// statuses holds a copy of the record at each status change not yet
	// written, so the read model sees every status, in order.
	statuses  []tollgate.CycleRecord
	dirty     bool
	recording bool
	outboxes  []*outbox
	notifying int
}

func newCycle(ctx workflow.Context, in CycleInput) *cycle {
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	return &cycle{
		in: in, id: id, attempt: 1,
		rec: tollgate.CycleRecord{
			CycleID: id, ContractID: in.ContractID, PeriodEnd: in.PeriodEnd, InitiatedBy: in.InitiatedBy,
			Approvals: []tollgate.Approval{}, Anomalies: []string{}, LedgerEntry: []int64{}, Timeline: []tollgate.TimelineEvent{},
		},
	}
}

// Activity options. Retries are bounded so that a failing dependency parks
// the cycle in needs_attention within about a minute instead of retrying
// silently for ever.
var (
	defaultRetry = &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, MaximumAttempts: 5}

	defaultOptions = workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second, RetryPolicy: defaultRetry}
	computeOptions = workflow.ActivityOptions{StartToCloseTimeout: 2 * time.Minute, RetryPolicy: defaultRetry}
	recordOptions  = workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 10}}
	webhookOptions  = workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second, RetryPolicy: defaultRetry}
	initiateOptions = workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 8}}
	// Confirmation is polled by retrying AwaitPayout while the payout is
	// pending: quickly at first (the simulated bank confirms at once), then
	// once a minute, for up to a day before a person is asked to look.
	awaitPayoutOptions = workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Minute}}
)

func withOptions(ctx workflow.Context, o workflow.ActivityOptions) workflow.Context {
	return workflow.WithActivityOptions(ctx, o)
}

var (
	saContractID = temporal.NewSearchAttributeKeyKeyword(SearchAttrContractID)
	saStatus     = temporal.NewSearchAttributeKeyKeyword(SearchAttrCycleStatus)
	saAmount     = temporal.NewSearchAttributeKeyInt64(SearchAttrSettlementAmount)
)

// setStatus moves the cycle to status and lets the read model and the
// search attributes follow.
func (c *cycle) setStatus(ctx workflow.Context, status string) {
	c.rec.Status = status
	c.statuses = append(c.statuses, c.snapshot())
	c.dirty = false
	err := workflow.UpsertTypedSearchAttributes(ctx, saContractID.ValueSet(c.in.ContractID), saStatus.ValueSet(status))
	if err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not updated", "error", err)
	}
}

// snapshot copies the record so later appends cannot change what is queued.
func (c *cycle) snapshot() tollgate.CycleRecord {
	r := c.rec
	r.Approvals = slices.Clone(r.Approvals)
	r.Anomalies = slices.Clone(r.Anomalies)
	r.LedgerEntry = slices.Clone(r.LedgerEntry)
	r.Timeline = slices.Clone(r.Timeline)
	return r
}

func (c *cycle) upsertAmount(ctx workflow.Context) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, saAmount.ValueSet(c.computed.TotalMinor)); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not updated", "error", err)
	}
	c.touch()
}

// event appends to the timeline.
func (c *cycle) event(ctx workflow.Context, name, detail string) {
	c.rec.Timeline = append(c.rec.Timeline, tollgate.TimelineEvent{At: workflow.Now(ctx), Event: name, Detail: detail})
	c.touch()
}

func (c *cycle) touch() { c.dirty = true }

// startRecorder writes the read model whenever the state changed, one write
// at a time so an older snapshot can never overwrite a newer one. Every
// status is written; other changes made while a write is in flight are
// coalesced into the next write.
func (c *cycle) startRecorder(ctx workflow.Context) {
	workflow.Go(ctx, func(ctx workflow.Context) {
		// The last writes happen while the cycle finishes, possibly after a
		// cancellation, so the recorder does not stop with ctx.
		ctx, _ = workflow.NewDisconnectedContext(ctx)
		actx := withOptions(ctx, recordOptions)
		for {
			_ = workflow.Await(ctx, func() bool { return c.dirty || len(c.statuses) > 0 })
			var rec tollgate.CycleRecord
			if len(c.statuses) > 0 {
				rec, c.statuses = c.statuses[0], c.statuses[1:]
			} else {
				rec, c.dirty = c.rec, false
			}
			c.recording = true
			rec.UpdatedAt = workflow.Now(ctx)
			err := workflow.ExecuteActivity(actx, ActivityRecordCycle, activities.RecordRequest{Record: rec}).Get(ctx, nil)
			c.recording = false
			if err != nil {
				// The next change writes the whole record again; the
				// workflow itself stays the source of truth (query status).
				workflow.GetLogger(ctx).Warn("cycle read model not recorded", "error", err)
			}
		}
	})
}

// flush waits until the read model holds the latest state.
func (c *cycle) flush(ctx workflow.Context) {
	_ = workflow.Await(ctx, func() bool { return !c.dirty && len(c.statuses) == 0 && !c.recording })
}

// outcome of a step that may park.
type outcome int

const (
	done outcome = iota
	skipped
	cancelled
	rejected
	declined
)

// step runs fn. When it fails (an activity exhausted its retries or failed
// for good) the cycle parks in needs_attention with the error and waits for
// retry (run fn again), skip (only if skippable) or cancel.
func (c *cycle) step(ctx workflow.Context, name string, skippable bool, fn func(workflow.Context) error) outcome {
	for {
		err := fn(ctx)
		if err == nil {
			return done
		}
		prev := c.rec.Status
		c.rec.Error = name + ": " + errorMessage(err)
		c.event(ctx, "needs_attention", c.rec.Error)
		c.setStatus(ctx, StatusNeedsAttention)
		action, actor := c.awaitAction(ctx, skippable)
		c.rec.Error = ""
		c.event(ctx, action, name+" by "+actor)
		if action == ActionCancel {
			return cancelled
		}
		c.setStatus(ctx, prev)
		if action == ActionSkip {
			return skipped
		}
	}
}

// awaitAction parks until an operator acts. The handlers validate what is
// allowed, so only retry, skip (when skippable) and cancel (when nothing is
// posted) arrive here. A workflow cancellation counts as a cancel.
func (c *cycle) awaitAction(ctx workflow.Context, skippable bool) (string, string) {
	c.parked, c.skippable, c.action, c.actor = true, skippable, "", ""
	if err := workflow.Await(ctx, func() bool { return c.action != "" }); err != nil {
		c.action, c.actor = ActionCancel, "workflow cancellation"
	}
	c.parked, c.skippable = false, false
	action := c.action
	c.action = ""
	return action, c.actor
}

// errorMessage keeps the message an operator needs, without the SDK's
// wrapping details.
func errorMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Error()
	}
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) {
		return "timed out (" + timeout.TimeoutType().String() + ")"
	}
	return err.Error()
}

// isType reports whether err carries an application error of type t.
func isType(err error, t string) (*temporal.ApplicationError, bool) {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == t {
		return app, true
	}
	return nil, false
}
