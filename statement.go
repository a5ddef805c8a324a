package tollgate

import (
	"time"

	"github.com/shopspring/decimal"
)

// Statement is what one settlement cycle owes, line by line, in the contract's
// settlement currency (docs/architecture.md §5). Every amount is a decimal string with
// exactly the currency's minor units: the statement travels in Temporal
// payloads and is shown to both parties, so it must serialise identically
// every time and read the same to a person as to the ledger.
type Statement struct {
	Currency Currency `json:"currency"`
	// NetRevenue is Σ NR_C × rate before carryover, rounded for display.
	NetRevenue string `json:"net_revenue"`
	// CarryIn is the previous negative balance actually applied (zero when
	// the terms do not carry negatives).
	CarryIn string `json:"carry_in"`
	// CarryOut is the negative balance handed to the next cycle, rounded to
	// minor units so the figure both parties see is exactly what the next
	// cycle applies.
	CarryOut     string   `json:"carry_out"`
	Transactions int64    `json:"transactions"`
	Lines        []Line   `json:"lines"`
	Total        string   `json:"total"` // positive: the operator pays the provider
	FX           []FXUsed `json:"fx"`
}

// LineType names a statement line. The values are wire names.
type LineType string

const (
	LineRevenueShare          LineType = "revenue_share"
	LineChargeFees            LineType = "charge_fees"
	LineMinimumGuaranteeTopup LineType = "minimum_guarantee_topup"
	LineCapReduction          LineType = "cap_reduction"
)

// LineTypes lists the line types in the order they appear on a statement.
var LineTypes = []LineType{LineRevenueShare, LineChargeFees, LineMinimumGuaranteeTopup, LineCapReduction}

// Line is one rounded component of the total, with what it was computed on
// so an operator can check it by hand.
type Line struct {
	Type   LineType `json:"type"`
	Amount string   `json:"amount"`
	// Basis is the figure the line was computed on: an amount, or a count
	// for charge fees.
	Basis string `json:"basis"`
	// Rate is the single multiplier that turns Basis into Amount, or empty
	// when no single rate applies.
	Rate        string `json:"rate"`
	Explanation string `json:"explanation"`
}

// FXUsed records a rate that converted a transaction currency into the
// settlement currency: 1 Currency = Rate settlement currency.
type FXUsed struct {
	Currency Currency  `json:"currency"`
	Rate     string    `json:"rate"`
	AsOf     time.Time `json:"as_of"`
	Source   string    `json:"source"`
}

// TotalAmount parses Total.
func (s Statement) TotalAmount() (decimal.Decimal, error) {
	return s.amount("total", s.Total)
}

// TotalMinorUnits is Total in integer minor units, the form the ledger and
// search attributes use.
func (s Statement) TotalMinorUnits() (int64, error) {
	d, err := s.TotalAmount()
	if err != nil {
		return 0, err
	}
	return MinorUnits(d, s.Currency)
}

// CarryOutAmount parses CarryOut; the next cycle passes it back as carry-in.
func (s Statement) CarryOutAmount() (decimal.Decimal, error) {
	return s.amount("carry_out", s.CarryOut)
}

// Line returns the line of the given type.
func (s Statement) Line(t LineType) (Line, bool) {
	for _, l := range s.Lines {
		if l.Type == t {
			return l, true
		}
	}
	return Line{}, false
}

func (s Statement) amount(field, v string) (decimal.Decimal, error) {
	if _, err := ParseCurrency(string(s.Currency)); err != nil {
		return decimal.Decimal{}, Errorf(CodeInvalid, "statement.currency: %s", err.Error())
	}
	d, err := ParseAmount(v, s.Currency)
	if err != nil {
		return d, Errorf(CodeInvalid, "statement.%s: %s", field, err.Error())
	}
	return d, nil
}
