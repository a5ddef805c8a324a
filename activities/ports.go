package activities

import (
	"context"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/settlement"
)

// The small interfaces below are what the cycle's activities need from the
// store. store.Store implements all of them; tests may fake them.

// CloseRequest asks the store to close a contract's period for a cycle.
type CloseRequest struct {
	CycleID    string
	ContractID string
	// PeriodEnd is exclusive: every not-yet-settled transaction of the
	// contract with occurred_at < PeriodEnd belongs to the cycle, plus late
	// rows released from earlier periods.
	PeriodEnd time.Time
}

// CycleSnapshot is what a closed period holds: the contract as it was at the
// period end and the aggregates of the cycle's transactions. It is stored
// with the cycle, so a retried close returns the same snapshot.
type CycleSnapshot struct {
	CycleID      string
	ContractID   string
	OperatorID   string
	ProviderID   string
	Currency     tollgate.Currency
	Terms        tollgate.Terms // the version effective at PeriodEnd
	Approval     tollgate.ApprovalPolicy
	Payout       tollgate.PayoutConfig
	Totals       []tollgate.Totals
	Transactions int64
	Late         int64  // transactions from earlier periods
	CarryIn      string // previous completed cycle's carry_out (<= 0), settlement currency
	PeriodEnd    time.Time
	ClosedAt     time.Time
}

// CycleStore closes, releases and completes periods.
type CycleStore interface {
	// CloseCycle closes the period for the cycle. Idempotent on CycleID.
	CloseCycle(ctx context.Context, req CloseRequest) (CycleSnapshot, error)
	// ReleaseCycle hands the cycle's transactions back so the next cycle
	// settles them (rejection, cancellation before posting). Idempotent.
	ReleaseCycle(ctx context.Context, cycleID, contractID string) error
	// CompleteCycle marks the cycle's transactions settled and records its
	// carry_out as the contract's carry for the next cycle. Idempotent.
	CompleteCycle(ctx context.Context, cycleID string, carryOut string) error
	// RatesAt returns, for each currency, the latest rate into quote with
	// as_of <= at. Missing currencies are simply absent.
	RatesAt(ctx context.Context, quote tollgate.Currency, bases []tollgate.Currency, at time.Time) (map[tollgate.Currency]settlement.Rate, error)
}

// CycleRecord is the read model of a cycle that the API lists and shows.
// The workflow upserts it at every status change (idempotent: a replayed
// upsert writes the same row).
type CycleRecord struct {
	CycleID     string
	ContractID  string
	PeriodEnd   time.Time
	Status      string
	InitiatedBy string
	Statement   *tollgate.Statement
	Approvals   []Approval
	Anomalies   []string
	LedgerEntry []int64
	Payout      PayoutState
	Timeline    []TimelineEvent
	Error       string
	UpdatedAt   time.Time
}

// Approval is one approver's decision.
type Approval struct {
	Approver string    `json:"approver"`
	Decision string    `json:"decision"` // approve | reject
	Comment  string    `json:"comment"`
	At       time.Time `json:"at"`
}

// PayoutState is the payout as the cycle knows it.
type PayoutState struct {
	Status    string `json:"status"`
	Reference string `json:"reference"`
}

// TimelineEvent is one step of a cycle's history.
type TimelineEvent struct {
	At     time.Time `json:"at"`
	Event  string    `json:"event"`
	Detail string    `json:"detail"`
}

// CycleRecorder persists the cycle read model.
type CycleRecorder interface {
	RecordCycle(ctx context.Context, rec CycleRecord) error
}

// Party is what notifications need of a party.
type Party struct {
	ID            string
	WebhookURL    string
	SigningSecret string
}

// PartyStore reads parties for notifications.
type PartyStore interface {
	GetPartyForNotify(ctx context.Context, id string) (Party, error)
}
