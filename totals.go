package tollgate

import (
	"github.com/shopspring/decimal"
)

// Transaction kinds. A charge is money collected from end users, a payout is
// money returned or paid to end users, an adjustment is a signed correction.
const (
	KindCharge     = "charge"
	KindPayout     = "payout"
	KindAdjustment = "adjustment"
)

// Totals aggregates a set of transactions in one currency. Ingest maintains
// one per (bucket, currency) so that settling a period never rereads its
// rows; the calculator needs nothing else from the transactions.
type Totals struct {
	Currency      Currency        `json:"currency"`
	Charges       int64           `json:"charges"` // number of charge rows
	ChargeSum     decimal.Decimal `json:"charge_sum"`
	PayoutSum     decimal.Decimal `json:"payout_sum"`
	AdjustmentSum decimal.Decimal `json:"adjustment_sum"`
	Count         int64           `json:"count"` // number of rows of every kind
}

// NetRevenue is charges − payouts + adjustments (docs/architecture.md §5 step 1).
func (t Totals) NetRevenue() decimal.Decimal {
	return t.ChargeSum.Sub(t.PayoutSum).Add(t.AdjustmentSum)
}

// IsZero reports whether the totals hold no transactions and no money.
func (t Totals) IsZero() bool {
	return t.Count == 0 && t.Charges == 0 && t.ChargeSum.IsZero() && t.PayoutSum.IsZero() && t.AdjustmentSum.IsZero()
}

// Merge adds two totals of the same currency. Merging is associative and
// commutative, which is what lets ingest fold rows in any order.
func (t Totals) Merge(o Totals) (Totals, error) {
	if t.Currency != o.Currency {
		return t, Errorf(CodeInvalid, "cannot merge %s totals into %s totals", o.Currency, t.Currency)
	}
	return Totals{
		Currency:      t.Currency,
		Charges:       t.Charges + o.Charges,
		ChargeSum:     t.ChargeSum.Add(o.ChargeSum),
		PayoutSum:     t.PayoutSum.Add(o.PayoutSum),
		AdjustmentSum: t.AdjustmentSum.Add(o.AdjustmentSum),
		Count:         t.Count + o.Count,
	}, nil
}

// Add folds one transaction into the totals. The amount must already be
// validated for the kind and currency.
func (t *Totals) Add(kind string, amount decimal.Decimal) error {
	switch kind {
	case KindCharge:
		t.Charges++
		t.ChargeSum = t.ChargeSum.Add(amount)
	case KindPayout:
		t.PayoutSum = t.PayoutSum.Add(amount)
	case KindAdjustment:
		t.AdjustmentSum = t.AdjustmentSum.Add(amount)
	default:
		return Errorf(CodeInvalid, "kind %q must be one of %q, %q or %q", kind, KindCharge, KindPayout, KindAdjustment)
	}
	t.Count++
	return nil
}

// Validate checks what must hold for totals built from valid transactions:
// a known currency, counts that are not negative with charges among all rows,
// and charge and payout sums that are not negative.
func (t Totals) Validate() error {
	if _, err := ParseCurrency(string(t.Currency)); err != nil {
		return Errorf(CodeInvalid, "totals.currency: %s", err.Error())
	}
	switch {
	case t.Charges < 0 || t.Count < 0:
		return Errorf(CodeInvalid, "totals for %s: counts must not be negative (charges %d, count %d)", t.Currency, t.Charges, t.Count)
	case t.Charges > t.Count:
		return Errorf(CodeInvalid, "totals for %s: %d charges exceed the %d rows counted", t.Currency, t.Charges, t.Count)
	case t.ChargeSum.IsNegative() || t.PayoutSum.IsNegative():
		return Errorf(CodeInvalid, "totals for %s: charge_sum %s and payout_sum %s must not be negative", t.Currency, t.ChargeSum, t.PayoutSum)
	case t.Count == 0 && !t.IsZero():
		return Errorf(CodeInvalid, "totals for %s: sums are not zero but no rows are counted", t.Currency)
	}
	return nil
}
