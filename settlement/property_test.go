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

// TestPropertyStatementMatchesModel compares every figure of the statement
// with the oracle's, for every draw.
func TestPropertyStatementMatchesModel(t *testing.T) {
	t.Parallel()
	var cov coverage
	rapid.Check(t, func(t *rapid.T) {
		sc := genScenario(t)
		want := model(sc)
		st, err := settlement.Compute(sc.input())
		require.NoError(t, err)
		agree(t, sc, want, st)
		cov.add(sc, want)

		b, err := json.Marshal(st)
		require.NoError(t, err)
		var back tollgate.Statement
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, st, back)
	})
	t.Logf("coverage: %s", &cov)
}

// TestPropertyGeneratorCoverage keeps the generator honest: a test over
// draws that never reach a tier bound or a positive revenue share cannot
// fail where statements go wrong.
func TestPropertyGeneratorCoverage(t *testing.T) {
	t.Parallel()
	var cov coverage
	rapid.Check(t, func(t *rapid.T) {
		for range 20 {
			sc := genScenario(t)
			cov.add(sc, model(sc))
		}
	})
	t.Logf("coverage: %s", &cov)
	atLeast := func(what string, n, percent int) {
		t.Helper()
		require.GreaterOrEqual(t, n*100, percent*cov.draws, "%s in at least %d%% of draws (%s)", what, percent, &cov)
	}
	atLeast("positive revenue share", cov.positiveShare, 40)
	atLeast("NR_eff on or within one minor unit of a tier bound", cov.nearBound, 10)
	atLeast("NR_eff exactly on a tier bound", cov.onBound, 3)
	atLeast("NR_eff zero or negative", cov.notPositive, 10)
	for _, e := range []int{0, 2, 3} {
		atLeast("exponent "+strconv.Itoa(e), cov.exponent[e], 5)
	}
	atLeast("foreign exchange", cov.fx, 30)
	atLeast("amounts at the API's limits", cov.large, 5)
	atLeast("exact halves rounded", cov.ties, 5)
	atLeast("fees beyond the minor unit", cov.fineFees, 15)
	atLeast("top-up", cov.topup, 5)
	atLeast("cap reduction", cov.capped, 5)
	atLeast("negative carry_out", cov.carryOut, 5)
	require.Equal(t, 40, cov.longest, "some terms amount is as long as ParseDecimal accepts")
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
	e := tot.Currency.Exponent()
	part := func(label string, d decimal.Decimal, signed bool) decimal.Decimal {
		// Sums may be far beyond int64 minor units; a part need not be.
		units := d.Shift(e).BigInt()
		lo, hi := int64(0), int64(0)
		if units.IsInt64() {
			lo, hi = min(0, units.Int64()), max(0, units.Int64())
		} else if units.Sign() > 0 {
			hi = 1 << 62
		} else {
			lo = -1 << 62
		}
		if signed {
			lo, hi = -1_000_000, 1_000_000
		}
		return decimal.New(rapid.Int64Range(lo, hi).Draw(t, label), -e)
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
		var withRows []int
		for i, tot := range in.Totals {
			if tot.Count > 0 {
				withRows = append(withRows, i)
			}
		}
		if len(withRows) == 0 {
			in.Totals = append(in.Totals, tollgate.Totals{Currency: in.Currency, Count: 1})
			withRows = []int{len(in.Totals) - 1}
		}
		i := rapid.SampledFrom(withRows).Draw(t, "split_index")
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
			if tot.Currency != in.Currency && !tot.IsZero() {
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
