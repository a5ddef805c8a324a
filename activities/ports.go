package activities

import (
	"context"
	"time"

	"github.com/tollgate/tollgate"
)

// The small interfaces below are what the cycle's activities need from the
// store. store.Store implements all of them; tests may fake them.

// CycleStore closes, releases and completes periods.
type CycleStore interface {
	// CloseCycle closes the period for the cycle. Idempotent on CycleID.
	CloseCycle(ctx context.Context, req tollgate.CloseRequest) (tollgate.CycleSnapshot, error)
	// ReleaseCycle hands the cycle's transactions back so the next cycle
	// settles them (rejection, cancellation before posting). Idempotent.
	ReleaseCycle(ctx context.Context, cycleID, contractID string) error
	// CompleteCycle marks the cycle's transactions settled and records its
	// carry_out as the contract's carry for the next cycle. Idempotent.
	CompleteCycle(ctx context.Context, cycleID string, carryOut string) error
	// RatesAt returns, for each currency, the latest rate into quote with
	// as_of <= at. Missing currencies are simply absent.
	RatesAt(ctx context.Context, quote tollgate.Currency, bases []tollgate.Currency, at time.Time) (map[tollgate.Currency]tollgate.Rate, error)
}

// CycleRecorder persists the cycle read model.
type CycleRecorder interface {
	RecordCycle(ctx context.Context, rec tollgate.CycleRecord) error
}

// PartyStore reads parties for notifications.
type PartyStore interface {
	GetPartyForNotify(ctx context.Context, id string) (tollgate.Party, error)
}
