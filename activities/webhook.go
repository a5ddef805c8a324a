package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/tollgate/tollgate"
)

// Webhook event types sent to parties. Receivers switch on them; never
// rename one.
const (
	EventStatementReady = "cycle.statement_ready"
	EventCyclePaid      = "cycle.paid"
	EventCycleSettled   = "cycle.settled" // completed with nothing to pay out
)

// Webhook headers.
const (
	HeaderSignature = tollgate.SignatureHeader
	HeaderEventID   = "Tollgate-Event-Id"
	HeaderEvent     = "Tollgate-Event"
)

// WebhookEvent is the body a party receives.
type WebhookEvent struct {
	Type       string                `json:"type"`
	CycleID    string                `json:"cycle_id"`
	ContractID string                `json:"contract_id"`
	PeriodEnd  time.Time             `json:"period_end"`
	Status     string                `json:"status"`
	Statement  *tollgate.Statement   `json:"statement,omitempty"`
	Payout     *tollgate.PayoutState `json:"payout,omitempty"`
}

// WebhookRequest is the input of SendWebhook.
type WebhookRequest struct {
	PartyID string
	// EventID lets the receiver drop duplicates: a retried delivery keeps
	// the same ID.
	EventID string
	Event   WebhookEvent
}

// WebhookResult says what happened to the delivery.
type WebhookResult struct {
	Delivered bool
	Status    int
	// Skipped explains why nothing was sent (no URL, no secret).
	Skipped string
}

// SendWebhook delivers one signed event to one party. A party without a URL
// or secret is skipped, not failed: unsigned money data is never sent.
func (a *Activities) SendWebhook(ctx context.Context, req WebhookRequest) (WebhookResult, error) {
	p, err := a.Parties.GetPartyForNotify(ctx, req.PartyID)
	if err != nil {
		return WebhookResult{}, classify(err)
	}
	switch {
	case p.WebhookURL == "":
		return WebhookResult{Skipped: "party " + req.PartyID + " has no webhook URL"}, nil
	case p.SigningSecret == "":
		return WebhookResult{Skipped: "party " + req.PartyID + " has no signing secret"}, nil
	}
	body, err := json.Marshal(req.Event)
	if err != nil {
		return WebhookResult{}, classify(tollgate.Wrap(tollgate.CodeInternal, err, "encode webhook"))
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, p.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return WebhookResult{}, classify(tollgate.Wrap(tollgate.CodeInvalid, err, "party %s webhook URL", req.PartyID))
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set(HeaderSignature, tollgate.Sign(p.SigningSecret, a.now(), body))
	hr.Header.Set(HeaderEventID, req.EventID)
	hr.Header.Set(HeaderEvent, req.Event.Type)
	resp, err := a.httpClient().Do(hr)
	if err != nil {
		return WebhookResult{}, classify(tollgate.Wrap(tollgate.CodeUnavailable, err, "webhook to party %s", req.PartyID))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return WebhookResult{Delivered: true, Status: resp.StatusCode}, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		return WebhookResult{}, classify(tollgate.Errorf(tollgate.CodeUnavailable, "webhook to party %s answered %d", req.PartyID, resp.StatusCode))
	default:
		return WebhookResult{}, classify(tollgate.Errorf(tollgate.CodeInvalid, "webhook to party %s answered %d", req.PartyID, resp.StatusCode))
	}
}
