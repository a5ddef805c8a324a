package settlement_test

import (
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/settlement"
)

// This file is the oracle the property tests hold settlement.Compute to: a
// second, independent reading of docs/architecture.md §5 and of the
// refinements in docs/design-notes.md. It works on the generator's own
// integers and exact rationals (math/big), rounds with its own half away
// from zero, and formats with its own code. The model calls neither decimal
// nor a tollgate money helper; only input, which hands the scenario to
// Compute, parses its own strings with decimal as the API would. A mistake
// shared by the code and the model would have to be made twice.

// exponents is the model's own table of ISO 4217 minor units.
// TestModelExponents checks that the currency table the code uses agrees.
var exponents = map[tollgate.Currency]int{"JPY": 0, "EUR": 2, "USD": 2, "GBP": 2, "KWD": 3, "BHD": 3}

// modelTier covers net revenue from the previous tier's bound to upTo.
type modelTier struct {
	upTo *big.Int // minor units of the settlement currency; nil for the unbounded last tier
	rate *big.Rat
	text string // the rate as the terms spell it
}

// modelTotals is one totals entry; the sums are in minor units of cur.
type modelTotals struct {
	cur                          tollgate.Currency
	charges, count               int64
	chargeSum, payoutSum, adjSum *big.Int
}

type modelRate struct {
	rate *big.Rat
	text string
}

// scenario is one statement's inputs as the generator drew them.
type scenario struct {
	cur           tollgate.Currency
	carryNegative bool
	tiers         []modelTier
	fee           *big.Rat
	feeText       string
	mg            *big.Int // minor units
	mgText        string
	cap           *big.Int // minor units; nil: no cap
	carryIn       *big.Int // minor units, <= 0
	totals        []modelTotals
	rates         map[tollgate.Currency]modelRate

	// What the draw aimed at, for the coverage figures.
	target string
	large  bool
}

// outcome is what the model says the statement must show. Amounts are in
// minor units of the settlement currency.
type outcome struct {
	netRevenue, carryIn, carryOut *big.Int
	nrEff                         *big.Rat // exact
	lines                         [4]*big.Int
	total                         *big.Int
	rsBasis, earned, subtotal     *big.Int
	charges, transactions         int64
	tiersUsed                     int
	rsRate                        string
	ties                          int // roundings that met an exact half
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// ratMinor is n minor units of a currency with exponent e.
func ratMinor(n *big.Int, e int) *big.Rat { return new(big.Rat).SetFrac(n, pow10(e)) }

// roundHalfAway rounds x to minor units of exponent e, halves away from
// zero, and reports whether x was exactly a half.
func roundHalfAway(x *big.Rat, e int) (*big.Int, bool) {
	scaled := new(big.Rat).Mul(x, new(big.Rat).SetInt(pow10(e)))
	den := scaled.Denom()
	q, r := new(big.Int).QuoRem(new(big.Int).Abs(scaled.Num()), den, new(big.Int))
	c := new(big.Int).Lsh(r, 1).Cmp(den)
	if c >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if scaled.Sign() < 0 {
		q.Neg(q)
	}
	return q, c == 0
}

// decimalText renders n × 10^-places with exactly that many decimals, which
// is how a statement shows money and how the generator spells its inputs.
func decimalText(n *big.Int, places int) string {
	digits := new(big.Int).Abs(n).String()
	if places > 0 {
		if len(digits) <= places {
			digits = strings.Repeat("0", places-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-places] + "." + digits[len(digits)-places:]
	}
	if n.Sign() < 0 {
		digits = "-" + digits
	}
	return digits
}

func bigMin(a, b *big.Int) *big.Int {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}

func bigMax(a, b *big.Int) *big.Int {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}

// model computes the statement of a scenario, step by step as §5 numbers them.
func model(sc scenario) outcome {
	e := exponents[sc.cur]
	var o outcome
	round := func(x *big.Rat) *big.Int {
		n, tie := roundHalfAway(x, e)
		if tie {
			o.ties++
		}
		return n
	}

	// Steps 1 and 2: net revenue per currency, converted at full precision.
	// A rate for the settlement currency itself is never used.
	nr := new(big.Rat)
	for _, tot := range sc.totals {
		o.transactions += tot.count
		o.charges += tot.charges
		nrC := new(big.Int).Sub(tot.chargeSum, tot.payoutSum)
		nrC.Add(nrC, tot.adjSum)
		if nrC.Sign() == 0 {
			continue
		}
		x := ratMinor(nrC, exponents[tot.cur])
		if tot.cur != sc.cur {
			x.Mul(x, sc.rates[tot.cur].rate)
		}
		nr.Add(nr, x)
	}
	o.netRevenue = round(nr)

	// Step 3: the carry, kept at the minor unit; none without carry_negative
	// (design notes: a held carry is then written off).
	o.carryIn, o.carryOut, o.nrEff = new(big.Int), new(big.Int), nr
	if sc.carryNegative {
		o.carryIn = sc.carryIn
		o.nrEff = new(big.Rat).Add(nr, ratMinor(sc.carryIn, e))
		if o.nrEff.Sign() < 0 {
			o.carryOut = round(o.nrEff)
		}
	}
	o.rsBasis = round(o.nrEff)

	// Step 4: marginal tiers; each takes the part of NR_eff between its
	// lower and upper bound.
	share := new(big.Rat)
	if o.nrEff.Sign() > 0 {
		lower := new(big.Rat)
		for _, tier := range sc.tiers {
			upper := o.nrEff
			if tier.upTo != nil {
				b := ratMinor(tier.upTo, e)
				if b.Cmp(upper) < 0 {
					upper = b
				}
			}
			if portion := new(big.Rat).Sub(upper, lower); portion.Sign() > 0 {
				o.tiersUsed++
				share.Add(share, portion.Mul(portion, tier.rate))
			}
			if tier.upTo != nil {
				lower = ratMinor(tier.upTo, e)
			}
		}
	}
	if o.tiersUsed == 1 {
		o.rsRate = sc.tiers[0].text
	}
	rs := round(share)

	// Step 5: fee per charge × charges.
	fees := round(new(big.Rat).Mul(sc.fee, new(big.Rat).SetInt64(o.charges)))

	// Step 6: the top-up lifts the rounded lines to the guarantee.
	o.earned = new(big.Int).Add(rs, fees)
	topup := round(ratMinor(bigMax(new(big.Int), new(big.Int).Sub(sc.mg, o.earned)), e))

	// Step 7: the cap brings the sum down.
	o.subtotal = new(big.Int).Add(o.earned, topup)
	capped := new(big.Int)
	if sc.cap != nil {
		capped = round(ratMinor(bigMin(new(big.Int), new(big.Int).Sub(sc.cap, o.subtotal)), e))
	}

	// Step 8: the total is the sum of the rounded lines.
	o.lines = [4]*big.Int{rs, fees, topup, capped}
	o.total = new(big.Int)
	for _, l := range o.lines {
		o.total.Add(o.total, l)
	}
	return o
}

// input renders the scenario as Compute takes it. Amounts go through the
// model's own formatting and decimal's parser, never through a tollgate
// money helper.
func (sc scenario) input() settlement.Input {
	e := exponents[sc.cur]
	terms := tollgate.Terms{
		EffectiveFrom:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		CarryNegative:    sc.carryNegative,
		FeePerCharge:     sc.feeText,
		MinimumGuarantee: sc.mgText,
	}
	for _, mt := range sc.tiers {
		tier := tollgate.Tier{Rate: mt.text}
		if mt.upTo != nil {
			s := decimalText(mt.upTo, e)
			tier.UpTo = &s
		}
		terms.RevenueShare = append(terms.RevenueShare, tier)
	}
	if sc.cap != nil {
		s := decimalText(sc.cap, e)
		terms.Cap = &s
	}
	in := settlement.Input{
		Currency: sc.cur,
		Terms:    terms,
		Rates:    map[tollgate.Currency]tollgate.Rate{},
		CarryIn:  decimal.RequireFromString(decimalText(sc.carryIn, e)),
		Cutoff:   cutoff,
	}
	for _, mt := range sc.totals {
		ec := exponents[mt.cur]
		in.Totals = append(in.Totals, tollgate.Totals{
			Currency:      mt.cur,
			Charges:       mt.charges,
			Count:         mt.count,
			ChargeSum:     decimal.RequireFromString(decimalText(mt.chargeSum, ec)),
			PayoutSum:     decimal.RequireFromString(decimalText(mt.payoutSum, ec)),
			AdjustmentSum: decimal.RequireFromString(decimalText(mt.adjSum, ec)),
		})
	}
	for c, r := range sc.rates {
		in.Rates[c] = tollgate.Rate{Rate: decimal.RequireFromString(r.text), AsOf: cutoff.Add(-time.Hour), Source: "test"}
	}
	return in
}

// agree fails t unless the statement shows what the model computed: every
// line amount and basis, the total, the net revenue, the carry in and out,
// the revenue-share rate and how many tiers its explanation names, the fee
// rate and the transaction count.
func agree(t interface {
	Helper()
	Fatalf(string, ...any)
}, sc scenario, want outcome, st tollgate.Statement,
) {
	t.Helper()
	e := exponents[sc.cur]
	check := func(what, want, got string) {
		t.Helper()
		if want != got {
			t.Fatalf("%s: model %s, Compute %s", what, want, got)
		}
	}
	if len(st.Lines) != len(tollgate.LineTypes) {
		t.Fatalf("%d lines, want %d", len(st.Lines), len(tollgate.LineTypes))
	}
	for i, l := range st.Lines {
		check("line "+strconv.Itoa(i)+" type", string(tollgate.LineTypes[i]), string(l.Type))
		check(string(l.Type)+" amount", decimalText(want.lines[i], e), l.Amount)
	}
	check("total", decimalText(want.total, e), st.Total)
	check("net revenue", decimalText(want.netRevenue, e), st.NetRevenue)
	check("carry_in", decimalText(want.carryIn, e), st.CarryIn)
	check("carry_out", decimalText(want.carryOut, e), st.CarryOut)
	check("transactions", strconv.FormatInt(want.transactions, 10), strconv.FormatInt(st.Transactions, 10))

	rs, fees, topup, capped := st.Lines[0], st.Lines[1], st.Lines[2], st.Lines[3]
	check("revenue share basis (NR_eff)", decimalText(want.rsBasis, e), rs.Basis)
	check("revenue share rate", want.rsRate, rs.Rate)
	if want.tiersUsed == 0 {
		check("revenue share explanation", "no revenue share", rs.Explanation[:min(len(rs.Explanation), len("no revenue share"))])
	} else {
		check("tiers named in "+strconv.Quote(rs.Explanation), strconv.Itoa(want.tiersUsed), strconv.Itoa(strings.Count(rs.Explanation, " + ")+1))
	}
	check("charge fees basis", strconv.FormatInt(want.charges, 10), fees.Basis)
	if fee, ok := new(big.Rat).SetString(fees.Rate); !ok || fee.Cmp(sc.fee) != 0 {
		t.Fatalf("charge fees rate: model %s, Compute %q", sc.fee.FloatString(6), fees.Rate)
	}
	check("top-up basis", decimalText(want.earned, e), topup.Basis)
	check("cap basis", decimalText(want.subtotal, e), capped.Basis)
}

// The model's table of minor units must agree with the currency table the
// code reads.
func TestModelExponents(t *testing.T) {
	t.Parallel()
	for _, c := range currencies {
		require.Equal(t, int32(exponents[c]), c.Exponent(), c)
	}
}

// The model on its own, on figures worked by hand, so a mistake in it shows
// here rather than as a disagreement nobody can place.
func TestModelRounding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		x    string
		e    int
		want string
		tie  bool
	}{
		{"2.5", 0, "3", true}, {"-2.5", 0, "-3", true}, {"3.5", 0, "4", true}, {"0.125", 2, "0.13", true},
		{"-0.125", 2, "-0.13", true}, {"1.0005", 3, "1.001", true}, {"0.1249999", 2, "0.12", false},
		{"-0.004", 2, "0.00", false}, {"7", 3, "7.000", false},
	} {
		x, ok := new(big.Rat).SetString(tc.x)
		require.True(t, ok)
		got, tie := roundHalfAway(x, tc.e)
		require.Equal(t, tc.want, decimalText(got, tc.e), tc.x)
		require.Equal(t, tc.tie, tie, tc.x)
	}
}
