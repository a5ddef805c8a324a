package tollgate

import (
	"slices"
	"time"
)

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
	Currency     Currency
	Terms        Terms // the version effective at PeriodEnd
	Approval     ApprovalPolicy
	Payout       PayoutConfig
	Totals       []Totals
	Transactions int64
	Late         int64  // transactions from earlier periods
	CarryIn      string // previous completed cycle's carry_out (<= 0), settlement currency
	PeriodEnd    time.Time
	ClosedAt     time.Time
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
	Statement   *Statement
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

// Period is what a statement is computed from: the settlement currency, the
// terms in force, the aggregates of the period's transactions and the carry
// from the previous cycle. A cycle's closed snapshot and the live position
// both reduce to a Period, so they are valued by one path.
type Period struct {
	Currency Currency
	Terms    Terms
	Totals   []Totals
	CarryIn  string // decimal <= 0 in the settlement currency; "" is 0
}

// Period returns what the snapshot's statement is computed from.
func (s CycleSnapshot) Period() Period {
	return Period{Currency: s.Currency, Terms: s.Terms, Totals: s.Totals, CarryIn: s.CarryIn}
}

// RateBases lists, sorted, the currencies other than the settlement
// currency that the period's totals hold: the rates the statement needs.
func (p Period) RateBases() []Currency {
	var bases []Currency
	for _, t := range p.Totals {
		if t.Currency != p.Currency && !slices.Contains(bases, t.Currency) {
			bases = append(bases, t.Currency)
		}
	}
	slices.Sort(bases)
	return bases
}
