package workflows

import (
	"strconv"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/activities"
)

// approve decides whether the statement may be paid: on its own when the
// total is within the contract's auto-approval limit and nothing is flagged,
// otherwise by ApprovalsRequired distinct people other than the initiator.
// Reminders, then escalations, fire each time the approval timeout passes;
// the interval doubles up to a day so a forgotten cycle does not grow its
// history without bound.
func (c *cycle) approve(ctx workflow.Context, flagged bool) outcome {
	c.required = max(c.snap.Approval.ApprovalsRequired, 1)
	if !flagged && c.computed.TotalMinor <= c.computed.AutoApproveLimitMinor {
		c.event(ctx, "auto_approved", "total "+c.computed.Statement.Total+" is within the contract's auto-approval limit and nothing is flagged")
		return done
	}
	c.setStatus(ctx, StatusAwaitingApproval)
	decided := func() bool { return c.approved >= c.required || c.rejected || c.action == ActionCancel }
	timeout := c.snap.Approval.ApprovalTimeout.Std()
	for n := 1; ; n++ {
		var err error
		ok := true
		if timeout > 0 {
			ok, err = workflow.AwaitWithTimeout(ctx, timeout, decided)
		} else {
			err = workflow.Await(ctx, decided)
		}
		if err != nil {
			c.action, c.actor = ActionCancel, "workflow cancellation"
		}
		if ok || err != nil {
			break
		}
		level, event := "escalation", "approval_escalated"
		if n == 1 {
			level, event = "reminder", "approval_reminder"
		}
		c.event(ctx, event, "no decision after "+c.snap.Approval.ApprovalTimeout.String()+" (overdue notice "+strconv.Itoa(n)+"); "+
			strconv.Itoa(c.approved)+" of "+strconv.Itoa(c.required)+" approvals")
		workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"level": level}).Counter(MetricApprovalOverdue).Inc(1)
		timeout = min(timeout*2, 24*time.Hour)
	}
	switch {
	case c.action == ActionCancel:
		c.action = ""
		return cancelled
	case c.rejected:
		return rejected
	}
	return done
}

// post books the statement, idempotent on the cycle and attempt. A zero
// total books nothing.
func (c *cycle) post(ctx workflow.Context) outcome {
	if c.computed.TotalMinor == 0 {
		c.event(ctx, "post_skipped", "the total is zero; nothing to post or pay")
		return done
	}
	c.setStatus(ctx, StatusPosting)
	c.booked = true
	var res activities.PostResult
	out := c.step(ctx, stepPost, false, func(ctx workflow.Context) error {
		req := activities.PostRequest{
			CycleID: c.id, IdempotencyKey: c.key("post"), OperatorID: c.snap.OperatorID, ProviderID: c.snap.ProviderID,
			Currency: c.snap.Currency, TotalMinor: c.computed.TotalMinor, Description: "settlement " + c.id,
		}
		return workflow.ExecuteActivity(withOptions(ctx, defaultOptions), ActivityPostStatement, req).Get(ctx, &res)
	})
	if out == cancelled {
		return cancelled
	}
	c.entryID = res.EntryID
	c.rec.LedgerEntry = append(c.rec.LedgerEntry, res.EntryID)
	c.event(ctx, "posted", "ledger entry "+strconv.FormatInt(res.EntryID, 10))
	return done
}

// payOut pays the provider through the contract's adapter and waits for
// confirmation. It returns declined when the adapter refused for good; the
// caller compensates.
func (c *cycle) payOut(ctx workflow.Context) outcome {
	if c.computed.TotalMinor <= 0 {
		if c.computed.TotalMinor < 0 {
			c.event(ctx, "payout_skipped", "the provider owes the operator "+c.computed.Statement.Total+"; the amount is booked, not paid out")
		}
		return done
	}
	c.setStatus(ctx, StatusPaying)
	key := c.key("payout")
	c.rec.Payout = tollgate.PayoutState{Status: "initiating"}
	var reason string
	var initiated activities.PayoutInitiated
	if c.step(ctx, stepPayout, false, func(ctx workflow.Context) error {
		req := activities.PayoutRequest{
			Adapter: c.snap.Payout.Adapter, IdempotencyKey: key, PayeeID: c.snap.ProviderID,
			AmountMinor: c.computed.TotalMinor, Currency: c.snap.Currency, Options: c.snap.Payout.Options,
		}
		err := workflow.ExecuteActivity(withOptions(ctx, initiateOptions), ActivityInitiatePayout, req).Get(ctx, &initiated)
		if app, ok := isType(err, tollgate.ErrTypePayoutDeclined); ok {
			reason = app.Error()
			return nil
		}
		return err
	}) == cancelled {
		return cancelled
	}
	if reason == "" {
		c.rec.Payout = tollgate.PayoutState{Status: "pending", Reference: initiated.Reference}
		c.event(ctx, "payout_initiated", "reference "+initiated.Reference+", key "+key)
		if c.step(ctx, stepPayout, false, func(ctx workflow.Context) error {
			req := activities.PayoutStatusRequest{Adapter: c.snap.Payout.Adapter, Reference: initiated.Reference}
			err := workflow.ExecuteActivity(withOptions(ctx, awaitPayoutOptions), ActivityAwaitPayout, req).Get(ctx, nil)
			if app, ok := isType(err, tollgate.ErrTypePayoutDeclined); ok {
				reason = app.Error()
				return nil
			}
			return err
		}) == cancelled {
			return cancelled
		}
	}
	if reason != "" {
		c.rec.Payout.Status = "failed"
		c.rec.Error = "payout: " + reason
		c.event(ctx, "payout_failed", reason)
		return declined
	}
	c.rec.Payout.Status = "confirmed"
	c.event(ctx, "paid", "reference "+initiated.Reference)
	return done
}

// compensate reverses the posting after a declined payout, then waits in
// payout_failed for an operator to retry (post and pay again under new
// keys) or cancel (release the transactions).
func (c *cycle) compensate(ctx workflow.Context) outcome {
	reason := c.rec.Error
	// The reversal's reason is fixed once, here: a retried reversal must be
	// byte-identical, or the ledger refuses its reused key as a conflict.
	// Before this version the reason was rebuilt from the current error on
	// each attempt, which a parked step clears before an operator's retry.
	fixed := workflow.GetVersion(ctx, versionFixedReversalReason, workflow.DefaultVersion, 1) == 1
	var res activities.ReverseResult
	c.step(ctx, stepCompensate, false, func(ctx workflow.Context) error {
		why := "payout failed: " + c.rec.Error
		if fixed {
			why = "payout failed: " + reason
		}
		req := activities.ReverseRequest{EntryID: c.entryID, IdempotencyKey: c.key("reverse"), Reason: why}
		return workflow.ExecuteActivity(withOptions(ctx, defaultOptions), ActivityReversePosting, req).Get(ctx, &res)
	})
	c.booked, c.entryID = false, 0
	c.rec.LedgerEntry = append(c.rec.LedgerEntry, res.EntryID)
	c.event(ctx, "reversed", "ledger entry "+strconv.FormatInt(res.EntryID, 10)+" undoes the posting")
	c.rec.Error = reason
	c.setStatus(ctx, StatusPayoutFailed)
	action, actor := c.awaitAction(ctx, false)
	c.rec.Error = ""
	c.event(ctx, action, stepPayout+" by "+actor+" after: "+reason)
	if action == ActionCancel {
		return cancelled
	}
	return done
}

// key derives the idempotency key of a money step. The first attempt uses
// the cycle ID itself for the payout, as adapters and banks see it; an
// attempt after a declined payout gets fresh keys, because the failed
// payout and the reversed posting must not be replayed.
func (c *cycle) key(step string) string {
	if step == "payout" {
		if c.attempt == 1 {
			return c.id
		}
		return c.id + "-" + strconv.Itoa(c.attempt)
	}
	return c.id + "/" + step + "/" + strconv.Itoa(c.attempt)
}
