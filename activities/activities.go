// Package activities holds Tollgate's Temporal activities: thin wrappers
// that take one request struct, make one call into the store, ledger or an
// adapter, and map errors (see errors.go).
package activities

import (
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/payouts"
)

// Activities carries the dependencies built once by the worker.
type Activities struct {
	Pool *pgxpool.Pool

	// Settlement cycle dependencies (see ports.go for the store's part).
	Cycles   CycleStore
	Recorder CycleRecorder
	Parties  PartyStore
	Ledger   Ledger
	Payouts  payouts.Registry
	// HTTP delivers webhooks; nil means a client with a short timeout.
	HTTP *http.Client
	// Clock stamps webhook signatures; nil means time.Now.
	Clock func() time.Time
	// AnomalyLimits flags a statement whose total is above the limit for
	// its currency (a decimal string); currencies not listed are not
	// checked against a limit.
	AnomalyLimits map[tollgate.Currency]string
}

func (a *Activities) now() time.Time {
	if a.Clock != nil {
		return a.Clock()
	}
	return time.Now()
}

// defaultWebhookClient bounds a webhook delivery so a slow receiver cannot
// hold an activity slot for long.
var defaultWebhookClient = &http.Client{Timeout: 10 * time.Second}

func (a *Activities) httpClient() *http.Client {
	if a.HTTP != nil {
		return a.HTTP
	}
	return defaultWebhookClient
}
