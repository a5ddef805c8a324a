// Package settlement turns a contract's terms and the aggregates of a
// period's transactions into a statement, exactly as docs/architecture.md §5 fixes it.
//
// It is pure: no I/O, no clock, no floating point. The same input always
// yields the same statement, which is what lets a Temporal workflow, the live
// position endpoint and a person with a calculator agree to the minor unit.
package settlement

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tollgate/tollgate"
)

// ErrMissingRate is wrapped by the error Compute returns when a transaction
// currency has no rate into the settlement currency. The cycle must then park
// for an operator instead of guessing; test for it with errors.Is.
var ErrMissingRate = errors.New("fx rate missing")

// Input is everything one statement depends on.
type Input struct {
	// Currency is the settlement currency S.
	Currency tollgate.Currency
	Terms    tollgate.Terms
	// Totals holds the period's aggregates; several entries for the same
	// currency are merged, and their order does not matter.
	Totals []tollgate.Totals
	// Rates maps a transaction currency C to rate(C→S). A rate for S itself
	// is ignored: it is always 1.
	Rates map[tollgate.Currency]tollgate.Rate
	// CarryIn is the previous cycle's carry_out (<= 0, in minor units).
	CarryIn decimal.Decimal
	// Cutoff, when set, refuses rates dated after it, so a cycle can never
	// settle on a rate that did not exist when its period closed.
	Cutoff time.Time
}

// Compute applies docs/architecture.md §5 and returns the statement. Errors carry
// tollgate.CodeInvalid; a missing rate also wraps ErrMissingRate.
//
// Every figure is kept at full precision until a line is rounded. Displayed
// figures (net revenue, bases) are rounded copies; carry_out is rounded too,
// from the full-precision NR_eff, because the carry is a balance both parties
// sign off on and the next cycle must apply exactly the figure they saw.
func Compute(in Input) (tollgate.Statement, error) {
	cur, err := tollgate.ParseCurrency(string(in.Currency))
	if err != nil {
		return tollgate.Statement{}, tollgate.Errorf(tollgate.CodeInvalid, "settlement currency: %s", err.Error())
	}
	terms, err := in.Terms.Parse(cur)
	if err != nil {
		return tollgate.Statement{}, err
	}
	if in.CarryIn.IsPositive() {
		return tollgate.Statement{}, tollgate.Errorf(tollgate.CodeInvalid, "carry_in %s must not be positive: only negative balances are carried", in.CarryIn)
	}
	if !tollgate.RoundMoney(in.CarryIn, cur).Equal(in.CarryIn) {
		return tollgate.Statement{}, tollgate.Errorf(tollgate.CodeInvalid, "carry_in %s has more decimals than %s allows; carry_out is always rounded to minor units", in.CarryIn, cur)
	}

	nr, count, fx, err := netRevenue(cur, in)
	if err != nil {
		return tollgate.Statement{}, err
	}

	// Step 3: carryover.
	carryIn, nrEff, carryOut := decimal.Zero, nr, decimal.Zero
	if terms.CarryNegative {
		carryIn = in.CarryIn
		nrEff = nr.Add(carryIn)
		carryOut = tollgate.RoundMoney(decimal.Min(nrEff, decimal.Zero), cur)
	}

	c := calc{cur: cur, terms: terms, nrEff: nrEff, carryIn: carryIn}
	rs := c.revenueShare()
	fees := c.chargeFees(chargeCount(in.Totals))
	topup := c.topup(rs.amount, fees.amount)
	capLine := c.capReduction(rs.amount.Add(fees.amount).Add(topup.amount))

	st := tollgate.Statement{
		Currency:     cur,
		NetRevenue:   c.money(nr),
		CarryIn:      c.money(carryIn),
		CarryOut:     c.money(carryOut),
		Transactions: count,
		FX:           fx,
	}
	total := decimal.Zero
	for _, l := range []line{rs, fees, topup, capLine} {
		total = total.Add(l.amount)
		st.Lines = append(st.Lines, tollgate.Line{
			Type: l.typ, Amount: c.money(l.amount), Basis: l.basis, Rate: l.rate, Explanation: l.explanation,
		})
	}
	st.Total = c.money(total)
	return st, nil
}

// netRevenue applies steps 1 and 2: per-currency NR_C, converted into the
// settlement currency at full precision. It reports every missing rate at
// once so an operator can fix them in one go.
func netRevenue(cur tollgate.Currency, in Input) (decimal.Decimal, int64, []tollgate.FXUsed, error) {
	merged := map[tollgate.Currency]tollgate.Totals{}
	var count int64
	for i, t := range in.Totals {
		if err := t.Validate(); err != nil {
			return decimal.Zero, 0, nil, tollgate.Wrap(tollgate.CodeInvalid, err, "totals[%d]", i)
		}
		acc, ok := merged[t.Currency]
		if !ok {
			acc = tollgate.Totals{Currency: t.Currency}
		}
		acc, _ = acc.Merge(t) // same currency by construction
		merged[t.Currency] = acc
		count += t.Count
	}
	currencies := make([]tollgate.Currency, 0, len(merged))
	for c, t := range merged {
		// A currency with no rows and no money contributes nothing and
		// should not park a cycle for want of a rate.
		if !t.IsZero() {
			currencies = append(currencies, c)
		}
	}
	slices.Sort(currencies)

	nr := decimal.Zero
	fx := []tollgate.FXUsed{}
	var missing []string
	for _, c := range currencies {
		nrC := merged[c].NetRevenue()
		if c == cur {
			nr = nr.Add(nrC)
			continue
		}
		r, ok := in.Rates[c]
		if !ok {
			missing = append(missing, string(c))
			continue
		}
		if !r.Rate.IsPositive() {
			return decimal.Zero, 0, nil, tollgate.Errorf(tollgate.CodeInvalid, "fx rate %s→%s is %s; a rate must be positive", c, cur, r.Rate)
		}
		if !in.Cutoff.IsZero() && r.AsOf.After(in.Cutoff) {
			return decimal.Zero, 0, nil, tollgate.Errorf(tollgate.CodeInvalid, "fx rate %s→%s is as of %s, after the cutoff %s", c, cur, r.AsOf.Format(time.RFC3339), in.Cutoff.Format(time.RFC3339))
		}
		nr = nr.Add(nrC.Mul(r.Rate))
		fx = append(fx, tollgate.FXUsed{Currency: c, Rate: r.Rate.String(), AsOf: r.AsOf, Source: r.Source})
	}
	if len(missing) > 0 {
		return decimal.Zero, 0, nil, tollgate.Wrap(tollgate.CodeInvalid, ErrMissingRate,
			"no fx rate into %s for %s at the cutoff; record one (POST /v1/fx-rates) and retry", cur, strings.Join(missing, ", "))
	}
	return nr, count, fx, nil
}

func chargeCount(totals []tollgate.Totals) int64 {
	var n int64
	for _, t := range totals {
		n += t.Charges
	}
	return n
}

// ComputePeriod values a period: the one builder of Compute's input that
// both a cycle's compute step and the live position use, so the two cannot
// disagree. rates are those in force at cutoff for p.RateBases(). A carry
// that does not parse is an error, never zero.
func ComputePeriod(p tollgate.Period, rates map[tollgate.Currency]tollgate.Rate, cutoff time.Time) (tollgate.Statement, error) {
	carry := p.CarryIn
	if carry == "" {
		carry = "0"
	}
	// Compute checks the carry's sign and minor units; a stored carry may
	// carry trailing zeros ("-1.500"), which are the same amount.
	carryIn, err := decimal.NewFromString(carry)
	if err != nil {
		return tollgate.Statement{}, tollgate.Wrap(tollgate.CodeInvalid, err, "carry_in %q is not a decimal", carry)
	}
	return Compute(Input{Currency: p.Currency, Terms: p.Terms, Totals: p.Totals, Rates: rates, CarryIn: carryIn, Cutoff: cutoff})
}
