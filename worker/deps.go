package worker

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tollgate/tollgate/activities"
	"github.com/tollgate/tollgate/ledger"
	"github.com/tollgate/tollgate/payouts"
	"github.com/tollgate/tollgate/store"
)

// PayoutConfig selects how payouts leave the system.
type PayoutConfig struct {
	// Simulated configures the simulated bank (dev stack, tests, demos).
	Simulated payouts.SimulatedOptions
	// HTTP configures the generic HTTP adapter; empty InitiateURL leaves it
	// out, and contracts naming it then park in needs_attention.
	HTTP payouts.HTTPOptions
}

// NewActivities builds the activities' dependencies once: the store, the
// ledger and the payout adapters, all on one pool.
func NewActivities(pool *pgxpool.Pool, pc PayoutConfig) *activities.Activities {
	st := store.New(pool, time.Now)
	reg := payouts.Registry{payouts.SimulatedName: payouts.NewSimulated(pc.Simulated)}
	if pc.HTTP.InitiateURL != "" {
		reg[payouts.HTTPName] = payouts.NewHTTP(pc.HTTP)
	}
	return &activities.Activities{
		Pool:     pool,
		Cycles:   st,
		Recorder: st,
		Parties:  st,
		Ledger:   ledger.New(pool),
		Payouts:  reg,
	}
}
