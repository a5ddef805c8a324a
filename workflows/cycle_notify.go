package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate/tollgate/activities"
)

// notify sends a signed webhook about the cycle to both parties. It runs
// beside the main flow so a slow receiver never holds up a settlement, and a
// delivery that fails all retries is recorded, never fatal: the parties can
// always read the cycle through the API.
func (c *cycle) notify(ctx workflow.Context, eventType string) {
	ev := activities.WebhookEvent{
		Type: eventType, CycleID: c.id, ContractID: c.in.ContractID, PeriodEnd: c.in.PeriodEnd,
		Status: c.rec.Status, Statement: c.rec.Statement,
	}
	if eventType != activities.EventStatementReady {
		p := c.rec.Payout
		ev.Payout = &p
		ev.Status = StatusCompleted
	}
	for _, party := range []string{c.snap.OperatorID, c.snap.ProviderID} {
		c.notifying++
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer func() { c.notifying-- }()
			req := activities.WebhookRequest{PartyID: party, EventID: c.id + "/" + eventType + "/" + party, Event: ev}
			var res activities.WebhookResult
			err := workflow.ExecuteActivity(withOptions(ctx, webhookOptions), ActivitySendWebhook, req).Get(ctx, &res)
			switch {
			case err != nil:
				c.event(ctx, "webhook_failed", eventType+" to "+party+": "+errorMessage(err))
			case res.Skipped != "":
				c.event(ctx, "webhook_skipped", eventType+": "+res.Skipped)
			default:
				c.event(ctx, "webhook_sent", eventType+" to "+party)
			}
		})
	}
}
