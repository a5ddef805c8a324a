package workflows

import (
	"slices"
	"strconv"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate/tollgate"
)

// registerHandlers installs the status query, the operator updates and the
// signals of the same names.
func (c *cycle) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (tollgate.CycleRecord, error) {
		return c.rec, nil
	}); err != nil {
		return err
	}
	decisions := []struct {
		name     string
		validate func(Decision) error
		apply    func(workflow.Context, Decision)
	}{
		{ActionApprove, c.validateApprove, c.applyApprove},
		{ActionReject, c.validateReject, c.applyReject},
	}
	for _, d := range decisions {
		err := workflow.SetUpdateHandlerWithOptions(ctx, d.name,
			func(ctx workflow.Context, in Decision) (ActionResult, error) {
				d.apply(ctx, in)
				return c.result(), nil
			},
			workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, in Decision) error { return d.validate(in) }})
		if err != nil {
			return err
		}
		workflow.Go(ctx, func(ctx workflow.Context) {
			ch := workflow.GetSignalChannel(ctx, d.name)
			for {
				var in Decision
				ch.Receive(ctx, &in)
				if err := d.validate(in); err != nil {
					c.event(ctx, "signal_ignored", d.name+" from "+quoted(in.Approver)+": "+err.Error())
					continue
				}
				d.apply(ctx, in)
			}
		})
	}
	for _, name := range []string{ActionRetry, ActionSkip, ActionCancel} {
		err := workflow.SetUpdateHandlerWithOptions(ctx, name,
			func(ctx workflow.Context, in OperatorAction) (ActionResult, error) {
				c.applyAction(name, in)
				return c.result(), nil
			},
			workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, in OperatorAction) error {
				if err := c.refuseCancelOfApproved(name); err != nil {
					return err
				}
				return c.validateAction(name, in)
			}})
		if err != nil {
			return err
		}
		workflow.Go(ctx, func(ctx workflow.Context) {
			ch := workflow.GetSignalChannel(ctx, name)
			for {
				var in OperatorAction
				ch.Receive(ctx, &in)
				if err := c.validateAction(name, in); err != nil {
					c.event(ctx, "signal_ignored", name+" from "+quoted(in.Actor)+": "+err.Error())
					continue
				}
				c.applyAction(name, in)
			}
		})
	}
	return nil
}

func (c *cycle) result() ActionResult {
	return ActionResult{Status: c.rec.Status, Approvals: c.approved, Required: c.required}
}

// refuse builds the error an update caller gets back. The type lets the API
// map it to a 409 or 422 without parsing messages.
func refuse(errType string, msg string) error {
	return temporal.NewApplicationError(msg, errType)
}

func (c *cycle) notAwaiting() error {
	return refuse(tollgate.ErrTypeConflict, "cycle "+c.id+" is "+c.rec.Status+", not awaiting approval")
}

func (c *cycle) validateApprove(in Decision) error {
	switch {
	case c.rec.Status != StatusAwaitingApproval:
		return c.notAwaiting()
	case in.Approver == "":
		return refuse(tollgate.ErrTypeInvalid, "approver is required")
	case in.Approver == c.in.InitiatedBy:
		return refuse(tollgate.ErrTypeInvalid, "approver "+quoted(in.Approver)+" initiated this cycle and cannot also approve it")
	case slices.ContainsFunc(c.rec.Approvals, func(a tollgate.Approval) bool { return a.Approver == in.Approver }):
		return refuse(tollgate.ErrTypeConflict, "approver "+quoted(in.Approver)+" has already approved this cycle; approvals must come from distinct people")
	}
	return nil
}

func (c *cycle) validateReject(in Decision) error {
	switch {
	case c.rec.Status != StatusAwaitingApproval:
		return c.notAwaiting()
	case in.Approver == "":
		return refuse(tollgate.ErrTypeInvalid, "approver is required")
	}
	return nil
}

func (c *cycle) applyApprove(ctx workflow.Context, in Decision) {
	c.rec.Approvals = append(c.rec.Approvals, tollgate.Approval{Approver: in.Approver, Decision: ActionApprove, Comment: in.Comment, At: workflow.Now(ctx)})
	c.approved++
	c.event(ctx, "approved", approvalDetail(in.Approver, c.approved, c.required))
}

func (c *cycle) applyReject(ctx workflow.Context, in Decision) {
	c.rec.Approvals = append(c.rec.Approvals, tollgate.Approval{Approver: in.Approver, Decision: ActionReject, Comment: in.Comment, At: workflow.Now(ctx)})
	c.rejected = true
	c.event(ctx, "rejected", "by "+in.Approver+": "+in.Comment)
}

func (c *cycle) validateAction(name string, in OperatorAction) error {
	if in.Actor == "" {
		return refuse(tollgate.ErrTypeInvalid, "actor is required")
	}
	if c.action != "" {
		return refuse(tollgate.ErrTypeConflict, c.action+" by "+c.actor+" is already being applied")
	}
	switch name {
	case ActionRetry:
		if !c.parked {
			return refuse(tollgate.ErrTypeConflict, "cycle "+c.id+" is "+c.rec.Status+"; only a cycle in needs_attention or payout_failed can be retried")
		}
	case ActionSkip:
		if !c.parked || !c.skippable {
			return refuse(tollgate.ErrTypeConflict, "cycle "+c.id+" is "+c.rec.Status+"; only a failed step that is safe to skip (the anomaly check) can be skipped")
		}
	case ActionCancel:
		if c.booked {
			return refuse(tollgate.ErrTypeConflict, "cycle "+c.id+" has its statement posted to the ledger; it can no longer be cancelled")
		}
		if c.final && c.rec.Status != StatusPayoutFailed {
			return refuse(tollgate.ErrTypeConflict, "cycle "+c.id+" is approved; it can no longer be cancelled (only from payout_failed, after its posting was reversed)")
		}
		if !c.parked && c.rec.Status != StatusAwaitingApproval {
			return refuse(tollgate.ErrTypeConflict, "cycle "+c.id+" is "+c.rec.Status+"; it can be cancelled only while awaiting approval, in needs_attention or in payout_failed")
		}
	}
	return nil
}

// refuseCancelOfApproved refuses a cancel Update that arrives together with
// the approval that completed the count: the approver was told the cycle is
// approved. Validators do not run on replay, so this needs no version; the
// signal path keeps its recorded behaviour.
func (c *cycle) refuseCancelOfApproved(name string) error {
	if name == ActionCancel && c.rec.Status == StatusAwaitingApproval && c.required > 0 && c.approved >= c.required {
		return refuse(tollgate.ErrTypeConflict, "cycle "+c.id+" has all its approvals; it can no longer be cancelled")
	}
	return nil
}

func (c *cycle) applyAction(name string, in OperatorAction) {
	c.action, c.actor = name, in.Actor
	if in.Comment != "" {
		c.actor += " (" + in.Comment + ")"
	}
}

func approvalDetail(approver string, n, required int) string {
	return "by " + approver + " (" + strconv.Itoa(n) + " of " + strconv.Itoa(required) + ")"
}

func quoted(s string) string { return strconv.Quote(s) }
