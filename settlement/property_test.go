package settlement_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/settlement"
)

var currencies = []tollgate.Currency{"EUR", "USD", "JPY", "KWD", "GBP"}

// minor draws an amount in [lo, hi] whole units with the currency's minor
// units, built from an integer so it never passes through a float.
func minor(t *rapid.T, label string, cur tollgate.Currency, lo, hi int64) decimal.Decimal {
	scale := int64(1)
	for range cur.Exponent() {
		scale *= 10
	}
	return tollgate.FromMinorUnits(rapid.Int64Range(lo*scale, hi*scale).Draw(t, label), cur)
}

// fraction draws a decimal in [0, 1] with up to `decimals` places.
func fraction(t *rapid.T, label string, decimals int32) decimal.Decimal {
	scale := decimal.New(1, decimals).IntPart()
	return decimal.New(rapid.Int64Range(0, scale).Draw(t, label), -decimals)
}

func genTerms(t *rapid.T, cur tollgate.Currency) tollgate.Terms {
	terms := tollgate.Terms{
		EffectiveFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		CarryNegative: rapid.Bool().Draw(t, "carry_negative"),
	}
	bound := decimal.Zero
	n := rapid.IntRange(1, 4).Draw(t, "tiers")
	for i := range n {
		tier := tollgate.Tier{Rate: fraction(t, "rate", 4).String()}
		if i < n-1 {
			bound = bound.Add(minor(t, "width", cur, 1, 1_000_000))
			s := tollgate.FormatAmount(bound, cur)
			tier.UpTo = &s
		}
		terms.RevenueShare = append(terms.RevenueShare, tier)
	}
	terms.FeePerCharge = fraction(t, "fee", 6).String()
	mg := minor(t, "minimum_guarantee", cur, 0, 100_000)
	if rapid.Bool().Draw(t, "has_minimum_guarantee") {
		terms.MinimumGuarantee = tollgate.FormatAmount(mg, cur)
	}
	if rapid.Bool().Draw(t, "has_cap") {
		c := tollgate.FormatAmount(mg.Add(minor(t, "cap_headroom", cur, 0, 1_000_000)), cur)
		terms.Cap = &c
	}
	return terms
}

func genTotals(t *rapid.T, cur tollgate.Currency) tollgate.Totals {
	charges := rapid.Int64Range(0, 1_000_000).Draw(t, "charges")
	return tollgate.Totals{
		Currency:      cur,
		Charges:       charges,
		Count:         charges + rapid.Int64Range(1, 1000).Draw(t, "other_rows"),
		ChargeSum:     minor(t, "charge_sum", cur, 0, 10_000_000),
		PayoutSum:     minor(t, "payout_sum", cur, 0, 10_000_000),
		AdjustmentSum: minor(t, "adjustment_sum", cur, -1_000_000, 1_000_000),
	}
}

// genInput draws a valid input: every transaction currency has a rate.
func genInput(t *rapid.T) settlement.Input {
	cur := rapid.SampledFrom(currencies).Draw(t, "settlement_currency")
	in := settlement.Input{
		Currency: cur,
		Terms:    genTerms(t, cur),
		Rates:    map[tollgate.Currency]tollgate.Rate{},
		CarryIn:  minor(t, "carry_in", cur, -1_000_000, 0),
		Cutoff:   time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
	}
	for _, c := range rapid.SliceOfNDistinct(rapid.SampledFrom(currencies), 0, len(currencies), rapid.ID).Draw(t, "currencies") {
		in.Totals = append(in.Totals, genTotals(t, c))
		if c != cur {
			rate := decimal.New(rapid.Int64Range(1, 2_000_000).Draw(t, "rate"), -4)
			in.Rates[c] = tollgate.Rate{Rate: rate, AsOf: in.Cutoff.Add(-time.Hour), Source: "test"}
		}
	}
	return in
}

func amount(t *rapid.T, s string, cur tollgate.Currency) decimal.Decimal {
	d, err := tollgate.ParseAmount(s, cur)
	require.NoError(t, err)
	require.Equal(t, s, tollgate.FormatAmount(d, cur), "money carries exactly the currency's minor units")
	return d
}

func TestPropertyTotalIsSumOfLinesAndWithinBounds(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		in := genInput(t)
		st, err := settlement.Compute(in)
		require.NoError(t, err)
		cur := in.Currency
		terms, err := in.Terms.Parse(cur)
		require.NoError(t, err)

		require.Len(t, st.Lines, len(tollgate.LineTypes))
		lines := map[tollgate.LineType]decimal.Decimal{}
		sum := decimal.Zero
		for i, l := range st.Lines {
			require.Equal(t, tollgate.LineTypes[i], l.Type)
			lines[l.Type] = amount(t, l.Amount, cur)
			sum = sum.Add(lines[l.Type])
		}
		total := amount(t, st.Total, cur)
		require.True(t, total.Equal(sum), "total %s = sum of lines %s", total, sum)
		amount(t, st.NetRevenue, cur)
		amount(t, st.CarryIn, cur)

		rs, fees := lines[tollgate.LineRevenueShare], lines[tollgate.LineChargeFees]
		topup, capped := lines[tollgate.LineMinimumGuaranteeTopup], lines[tollgate.LineCapReduction]
		nrEff := amount(t, st.Lines[0].Basis, cur)
		require.False(t, rs.IsNegative())
		require.True(t, rs.LessThanOrEqual(decimal.Max(nrEff, decimal.Zero)), "revenue share %s within net revenue %s", rs, nrEff)
		require.False(t, fees.IsNegative())
		require.False(t, topup.IsNegative())
		require.True(t, topup.LessThanOrEqual(terms.MinimumGuarantee))
		require.False(t, capped.IsPositive())

		want := decimal.Max(rs.Add(fees), terms.MinimumGuarantee)
		if terms.HasCap {
			want = decimal.Min(want, terms.Cap)
		}
		require.True(t, total.Equal(want), "total %s = min(max(share+fees, guarantee), cap) = %s", total, want)

		carryOut := amount(t, st.CarryOut, cur)
		require.False(t, carryOut.IsPositive())
		if !terms.CarryNegative {
			require.True(t, carryOut.IsZero())
		}
		var count int64
		for _, tot := range in.Totals {
			count += tot.Count
		}
		require.Equal(t, count, st.Transactions)

		b, err := json.Marshal(st)
		require.NoError(t, err)
		var back tollgate.Statement
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, st, back)
	})
}

func TestPropertyOrderDoesNotMatter(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		in := genInput(t)
		want, err := settlement.Compute(in)
		require.NoError(t, err)
		in.Totals = rapid.Permutation(in.Totals).Draw(t, "permuted")
		got, err := settlement.Compute(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
	})
}

// split divides totals with at least two rows into two valid parts that add
// up to the original.
func split(t *rapid.T, tot tollgate.Totals) (tollgate.Totals, tollgate.Totals) {
	a := tollgate.Totals{Currency: tot.Currency}
	a.Count = rapid.Int64Range(1, tot.Count-1).Draw(t, "part_count")
	a.Charges = rapid.Int64Range(max(0, tot.Charges-tot.Count+a.Count), min(tot.Charges, a.Count)).Draw(t, "part_charges")
	part := func(label string, d decimal.Decimal, signed bool) decimal.Decimal {
		units, err := tollgate.MinorUnits(d, tot.Currency)
		require.NoError(t, err)
		lo, hi := min(0, units), max(0, units)
		if signed {
			lo, hi = -1_000_000, 1_000_000
		}
		return tollgate.FromMinorUnits(rapid.Int64Range(lo, hi).Draw(t, label), tot.Currency)
	}
	a.ChargeSum = part("part_charge_sum", tot.ChargeSum, false)
	a.PayoutSum = part("part_payout_sum", tot.PayoutSum, false)
	a.AdjustmentSum = part("part_adjustment_sum", tot.AdjustmentSum, true)
	b := tollgate.Totals{
		Currency:      tot.Currency,
		Count:         tot.Count - a.Count,
		Charges:       tot.Charges - a.Charges,
		ChargeSum:     tot.ChargeSum.Sub(a.ChargeSum),
		PayoutSum:     tot.PayoutSum.Sub(a.PayoutSum),
		AdjustmentSum: tot.AdjustmentSum.Sub(a.AdjustmentSum),
	}
	return a, b
}

func TestPropertySplittingTotalsDoesNotMatter(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		in := genInput(t)
		if len(in.Totals) == 0 {
			in.Totals = []tollgate.Totals{genTotals(t, in.Currency)}
		}
		i := rapid.IntRange(0, len(in.Totals)-1).Draw(t, "split_index")
		in.Totals[i].Count++ // at least two rows so both parts are non-empty
		want, err := settlement.Compute(in)
		require.NoError(t, err)

		a, b := split(t, in.Totals[i])
		require.NoError(t, a.Validate())
		require.NoError(t, b.Validate())
		parts := append([]tollgate.Totals{a, b}, in.Totals[:i]...)
		parts = append(parts, in.Totals[i+1:]...)
		in.Totals = rapid.Permutation(parts).Draw(t, "parts")
		got, err := settlement.Compute(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
	})
}

func TestPropertyMissingRateNeverGuesses(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		in := genInput(t)
		var foreign []tollgate.Currency
		for _, tot := range in.Totals {
			if tot.Currency != in.Currency {
				foreign = append(foreign, tot.Currency)
			}
		}
		if len(foreign) == 0 {
			t.Skip("all transactions are in the settlement currency")
		}
		drop := rapid.SampledFrom(foreign).Draw(t, "dropped")
		delete(in.Rates, drop)
		_, err := settlement.Compute(in)
		require.ErrorIs(t, err, settlement.ErrMissingRate)
		require.Equal(t, tollgate.CodeInvalid, tollgate.ErrorCode(err))
		require.ErrorContains(t, err, string(drop))
	})
}

// Arbitrary, mostly invalid input must come back as an error, never a panic.
func TestPropertyNeverPanics(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		str := rapid.StringMatching(`-?[0-9]{0,3}(\.[0-9]{0,7})?`)
		tiers := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) tollgate.Tier {
			tier := tollgate.Tier{Rate: str.Draw(t, "rate")}
			if rapid.Bool().Draw(t, "bounded") {
				s := str.Draw(t, "up_to")
				tier.UpTo = &s
			}
			return tier
		}), 0, 4).Draw(t, "tiers")
		in := settlement.Input{
			Currency: tollgate.Currency(rapid.SampledFrom([]string{"EUR", "JPY", "KWD", "", "eur", "XXX", "ZZZ"}).Draw(t, "currency")),
			Terms: tollgate.Terms{
				EffectiveFrom: time.Unix(rapid.Int64Range(0, 1<<32).Draw(t, "effective"), 0), RevenueShare: tiers,
				FeePerCharge: str.Draw(t, "fee"), MinimumGuarantee: str.Draw(t, "mg"), CarryNegative: rapid.Bool().Draw(t, "carry"),
			},
			CarryIn: decimal.New(rapid.Int64().Draw(t, "carry_in"), -rapid.Int32Range(0, 4).Draw(t, "carry_exp")),
		}
		for i := range rapid.IntRange(0, 3).Draw(t, "totals") {
			in.Totals = append(in.Totals, tollgate.Totals{
				Currency:  tollgate.Currency(rapid.SampledFrom([]string{"EUR", "USD", "", "QQQ"}).Draw(t, "cur"+strconv.Itoa(i))),
				Charges:   rapid.Int64().Draw(t, "charges"),
				Count:     rapid.Int64().Draw(t, "count"),
				ChargeSum: decimal.New(rapid.Int64().Draw(t, "sum"), -2),
			})
		}
		st, err := settlement.Compute(in)
		if err != nil {
			require.Equal(t, tollgate.CodeInvalid, tollgate.ErrorCode(err))
			return
		}
		require.Len(t, st.Lines, 4)
	})
}
