package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate/tollgate/activities"
)

// outbox delivers one party's webhooks one after another, so a party never
// hears "paid" before "statement ready".
type outbox struct {
	party  string
	events []activities.WebhookEvent
}

// notify queues a signed webhook about the cycle for both parties. Delivery
// runs beside the main flow so a slow receiver never holds up a settlement,
// and a delivery that fails all retries is recorded, never fatal: the
// parties can always read the cycle through the API.
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
		c.outboxFor(ctx, party).events = append(c.outboxFor(ctx, party).events, ev)
		c.notifying++
	}
}

// outboxFor returns the party's outbox, starting its sender on first use.
func (c *cycle) outboxFor(ctx workflow.Context, party string) *outbox {
	for _, o := range c.outboxes {
		if o.party == party {
			return o
		}
	}
	o := &outbox{party: party}
	c.outboxes = append(c.outboxes, o)
	workflow.Go(ctx, func(ctx workflow.Context) {
		// Deliveries outlive a workflow cancellation: the cycle waits for
		// its outboxes to drain before it ends.
		ctx, _ = workflow.NewDisconnectedContext(ctx)
		for {
			_ = workflow.Await(ctx, func() bool { return len(o.events) > 0 })
			c.deliver(ctx, party, o.events[0])
			o.events = o.events[1:]
			c.notifying--
		}
	})
	return o
}

func (c *cycle) deliver(ctx workflow.Context, party string, ev activities.WebhookEvent) {
	req := activities.WebhookRequest{PartyID: party, EventID: c.id + "/" + ev.Type + "/" + party, Event: ev}
	var res activities.WebhookResult
	err := workflow.ExecuteActivity(withOptions(ctx, webhookOptions), ActivitySendWebhook, req).Get(ctx, &res)
	switch {
	case err != nil:
		c.event(ctx, "webhook_failed", ev.Type+" to "+party+": "+errorMessage(err))
	case res.Skipped != "":
		c.event(ctx, "webhook_skipped", ev.Type+": "+res.Skipped)
	default:
		c.event(ctx, "webhook_sent", ev.Type+" to "+party)
	}
}
