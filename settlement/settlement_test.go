package settlement_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/settlement"
)

var (
	d      = decimal.RequireFromString
	asOf   = time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC)
	cutoff = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
)

func ptr(s string) *string { return &s }

// terms is the example contract's terms: 10% up to 100000, 8% above, a fee
// of 0.01 per charge, a guarantee of 500 and negative carryover.
func terms() tollgate.Terms {
	return tollgate.Terms{
		EffectiveFrom:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		RevenueShare:     []tollgate.Tier{{UpTo: ptr("100000.00"), Rate: "0.10"}, {Rate: "0.08"}},
		FeePerCharge:     "0.01",
		MinimumGuarantee: "500.00",
		CarryNegative:    true,
	}
}

// bare has one plain rate and nothing else, so single rules show alone.
func bare(rate string) tollgate.Terms {
	return tollgate.Terms{
		EffectiveFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		RevenueShare:  []tollgate.Tier{{Rate: rate}},
	}
}

func totals(cur tollgate.Currency, charges int64, chargeSum, payoutSum, adjustmentSum string) tollgate.Totals {
	return tollgate.Totals{
		Currency: cur, Charges: charges, Count: charges + 1,
		ChargeSum: d(chargeSum), PayoutSum: d(payoutSum), AdjustmentSum: d(adjustmentSum),
	}
}

// amounts returns the line amounts in statement order followed by the total.
func amounts(st tollgate.Statement) []string {
	var out []string
	for _, l := range st.Lines {
		out = append(out, l.Amount)
	}
	return append(out, st.Total)
}

func TestCompute(t *testing.T) {
	t.Parallel()
	threeTiers := bare("0")
	threeTiers.RevenueShare = []tollgate.Tier{{UpTo: ptr("100"), Rate: "0.1"}, {UpTo: ptr("200"), Rate: "0.2"}, {Rate: "0.3"}}
	withCap := terms()
	withCap.Cap = ptr("1000.00")
	noCarry := terms()
	noCarry.CarryNegative = false
	jpy := bare("0.1")
	jpy.FeePerCharge = "0.5"
	kwd := bare("0.1")
	kwd.FeePerCharge = "0.0005"
	halfFee := bare("0")
	halfFee.FeePerCharge = "0.005"

	for _, tc := range []struct {
		name    string
		in      settlement.Input
		lines   []string // revenue_share, charge_fees, topup, cap_reduction, total
		nr      string
		carryIn string
		out     string
		rsRate  string
	}{
		{
			name:  "inside the first tier",
			in:    settlement.Input{Currency: "EUR", Terms: terms(), Totals: []tollgate.Totals{totals("EUR", 1000, "60000.00", "1000.00", "-500.00")}},
			lines: []string{"5850.00", "10.00", "0.00", "0.00", "5860.00"}, nr: "58500.00", carryIn: "0.00", out: "0.00", rsRate: "0.10",
		},
		{
			name:  "exactly on the tier bound",
			in:    settlement.Input{Currency: "EUR", Terms: terms(), Totals: []tollgate.Totals{totals("EUR", 0, "100000.00", "0", "0")}},
			lines: []string{"10000.00", "0.00", "0.00", "0.00", "10000.00"}, nr: "100000.00", carryIn: "0.00", out: "0.00", rsRate: "0.10",
		},
		{
			name:  "one cent above the bound is marginal",
			in:    settlement.Input{Currency: "EUR", Terms: terms(), Totals: []tollgate.Totals{totals("EUR", 0, "100000.01", "0", "0")}},
			lines: []string{"10000.00", "0.00", "0.00", "0.00", "10000.00"}, nr: "100000.01", carryIn: "0.00", out: "0.00",
		},
		{
			name:  "both tiers",
			in:    settlement.Input{Currency: "EUR", Terms: terms(), Totals: []tollgate.Totals{totals("EUR", 0, "123456.78", "0", "0")}},
			lines: []string{"11876.54", "0.00", "0.00", "0.00", "11876.54"}, nr: "123456.78", carryIn: "0.00", out: "0.00",
		},
		{
			name:  "three tiers: within the middle one",
			in:    settlement.Input{Currency: "EUR", Terms: threeTiers, Totals: []tollgate.Totals{totals("EUR", 0, "150", "0", "0")}},
			lines: []string{"20.00", "0.00", "0.00", "0.00", "20.00"}, nr: "150.00", carryIn: "0.00", out: "0.00",
		},
		{
			name:  "three tiers: on the second bound",
			in:    settlement.Input{Currency: "EUR", Terms: threeTiers, Totals: []tollgate.Totals{totals("EUR", 0, "200", "0", "0")}},
			lines: []string{"30.00", "0.00", "0.00", "0.00", "30.00"}, nr: "200.00", carryIn: "0.00", out: "0.00",
		},
		{
			name:  "three tiers: into the unbounded one",
			in:    settlement.Input{Currency: "EUR", Terms: threeTiers, Totals: []tollgate.Totals{totals("EUR", 0, "300", "0", "0")}},
			lines: []string{"60.00", "0.00", "0.00", "0.00", "60.00"}, nr: "300.00", carryIn: "0.00", out: "0.00",
		},
		{
			name:  "zero revenue",
			in:    settlement.Input{Currency: "EUR", Terms: bare("0.1")},
			lines: []string{"0.00", "0.00", "0.00", "0.00", "0.00"}, nr: "0.00", carryIn: "0.00", out: "0.00",
		},
		{
			name:  "negative revenue carries out; fees and guarantee still apply",
			in:    settlement.Input{Currency: "EUR", Terms: terms(), Totals: []tollgate.Totals{totals("EUR", 100, "100.00", "300.00", "0")}},
			lines: []string{"0.00", "1.00", "499.00", "0.00", "500.00"}, nr: "-200.00", carryIn: "0.00", out: "-200.00",
		},
		{
			name:  "carry-in reduces positive revenue",
			in:    settlement.Input{Currency: "EUR", Terms: terms(), CarryIn: d("-50000.00"), Totals: []tollgate.Totals{totals("EUR", 0, "60000.00", "0", "0")}},
			lines: []string{"1000.00", "0.00", "0.00", "0.00", "1000.00"}, nr: "60000.00", carryIn: "-50000.00", out: "0.00", rsRate: "0.10",
		},
		{
			name:  "carry-in larger than revenue carries the rest",
			in:    settlement.Input{Currency: "EUR", Terms: terms(), CarryIn: d("-700.00"), Totals: []tollgate.Totals{totals("EUR", 0, "200.00", "0", "0")}},
			lines: []string{"0.00", "0.00", "500.00", "0.00", "500.00"}, nr: "200.00", carryIn: "-700.00", out: "-500.00",
		},
		{
			name:  "without carry_negative a carry-in is not applied",
			in:    settlement.Input{Currency: "EUR", Terms: noCarry, CarryIn: d("-50000.00"), Totals: []tollgate.Totals{totals("EUR", 0, "60000.00", "0", "0")}},
			lines: []string{"6000.00", "0.00", "0.00", "0.00", "6000.00"}, nr: "60000.00", carryIn: "0.00", out: "0.00", rsRate: "0.10",
		},
		{
			name:  "without carry_negative a loss is not carried",
			in:    settlement.Input{Currency: "EUR", Terms: noCarry, Totals: []tollgate.Totals{totals("EUR", 0, "0", "300.00", "0")}},
			lines: []string{"0.00", "0.00", "500.00", "0.00", "500.00"}, nr: "-300.00", carryIn: "0.00", out: "0.00",
		},
		{
			name: "top-up uses the rounded lines",
			in:   settlement.Input{Currency: "EUR", Terms: terms(), Totals: []tollgate.Totals{totals("EUR", 3, "3000.05", "0", "0")}},
			// 300.005 -> 300.01; fees 0.03; top-up 500 - 300.04
			lines: []string{"300.01", "0.03", "199.96", "0.00", "500.00"}, nr: "3000.05", carryIn: "0.00", out: "0.00", rsRate: "0.10",
		},
		{
			name:  "cap reduces the total to the cap",
			in:    settlement.Input{Currency: "EUR", Terms: withCap, Totals: []tollgate.Totals{totals("EUR", 200, "123456.78", "0", "0")}},
			lines: []string{"11876.54", "2.00", "0.00", "-10878.54", "1000.00"}, nr: "123456.78", carryIn: "0.00", out: "0.00",
		},
		{
			name:  "under the cap nothing is reduced",
			in:    settlement.Input{Currency: "EUR", Terms: withCap, Totals: []tollgate.Totals{totals("EUR", 0, "9000", "0", "0")}},
			lines: []string{"900.00", "0.00", "0.00", "0.00", "900.00"}, nr: "9000.00", carryIn: "0.00", out: "0.00", rsRate: "0.10",
		},
		{
			name: "JPY rounds to whole yen, half away from zero",
			in:   settlement.Input{Currency: "JPY", Terms: jpy, Totals: []tollgate.Totals{totals("JPY", 3, "12345", "0", "0")}},
			// 1234.5 -> 1235; 3 x 0.5 = 1.5 -> 2
			lines: []string{"1235", "2", "0", "0", "1237"}, nr: "12345", carryIn: "0", out: "0", rsRate: "0.1",
		},
		{
			name: "KWD rounds to three decimals",
			in:   settlement.Input{Currency: "KWD", Terms: kwd, Totals: []tollgate.Totals{totals("KWD", 1, "10.005", "0", "0")}},
			// 1.0005 -> 1.001; 0.0005 -> 0.001
			lines: []string{"1.001", "0.001", "0.000", "0.000", "1.002"}, nr: "10.005", carryIn: "0.000", out: "0.000", rsRate: "0.1",
		},
		{
			name:  "half a cent of fees rounds up",
			in:    settlement.Input{Currency: "EUR", Terms: halfFee, Totals: []tollgate.Totals{totals("EUR", 1, "1", "0", "0")}},
			lines: []string{"0.00", "0.01", "0.00", "0.00", "0.01"}, nr: "1.00", carryIn: "0.00", out: "0.00", rsRate: "0",
		},
		{
			name: "half a cent of negative revenue rounds away from zero",
			in: settlement.Input{Currency: "EUR", Terms: terms(), Rates: map[tollgate.Currency]tollgate.Rate{"USD": {Rate: d("0.925"), AsOf: asOf}},
				Totals: []tollgate.Totals{totals("USD", 0, "0", "1.00", "0")}},
			lines: []string{"0.00", "0.00", "500.00", "0.00", "500.00"}, nr: "-0.93", carryIn: "0.00", out: "-0.93",
		},
		{
			name: "FX converts each currency at full precision before summing",
			in: settlement.Input{Currency: "EUR", Terms: bare("0.1"),
				Rates: map[tollgate.Currency]tollgate.Rate{"USD": {Rate: d("0.925"), AsOf: asOf}, "GBP": {Rate: d("1.155"), AsOf: asOf}},
				Totals: []tollgate.Totals{
					totals("USD", 0, "1.00", "0", "0"), // 0.925
					totals("GBP", 0, "1.00", "0", "0"), // 1.155
					totals("EUR", 0, "0.01", "0", "0"), // 0.01
				}},
			// NR 2.09 exactly; rounding each currency first would give 0.93 + 1.16 + 0.01 = 2.10
			lines: []string{"0.21", "0.00", "0.00", "0.00", "0.21"}, nr: "2.09", carryIn: "0.00", out: "0.00", rsRate: "0.1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, err := settlement.Compute(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.lines, amounts(st))
			require.Equal(t, tc.nr, st.NetRevenue)
			require.Equal(t, tc.carryIn, st.CarryIn)
			require.Equal(t, tc.out, st.CarryOut)
			require.Equal(t, tc.in.Currency, st.Currency)
			rs, ok := st.Line(tollgate.LineRevenueShare)
			require.True(t, ok)
			require.Equal(t, tc.rsRate, rs.Rate)
			for i, l := range st.Lines {
				require.Equal(t, tollgate.LineTypes[i], l.Type)
				require.NotEmpty(t, l.Explanation)
				require.NotEmpty(t, l.Basis)
			}
		})
	}
}

func TestExplanations(t *testing.T) {
	t.Parallel()
	tm := terms()
	tm.Cap = ptr("10000.00")
	st, err := settlement.Compute(settlement.Input{
		Currency: "EUR", Terms: tm, CarryIn: d("-1000.00"),
		Totals: []tollgate.Totals{totals("EUR", 1234, "124456.78", "0", "0")},
	})
	require.NoError(t, err)
	byType := map[tollgate.LineType]tollgate.Line{}
	for _, l := range st.Lines {
		byType[l.Type] = l
	}
	require.Equal(t, tollgate.Line{
		Type: tollgate.LineRevenueShare, Amount: "11876.54", Basis: "123456.78",
		Explanation: "10% of the first 100000.00 + 8% of 23456.78 above 100000.00 (net revenue 123456.78 EUR after carry-in -1000.00)",
	}, byType[tollgate.LineRevenueShare])
	require.Equal(t, tollgate.Line{
		Type: tollgate.LineChargeFees, Amount: "12.34", Basis: "1234", Rate: "0.01",
		Explanation: "1234 charges × 0.01 EUR",
	}, byType[tollgate.LineChargeFees])
	require.Equal(t, tollgate.Line{
		Type: tollgate.LineMinimumGuaranteeTopup, Amount: "0.00", Basis: "11888.88",
		Explanation: "revenue share and fees 11888.88 meet the minimum guarantee 500.00 EUR",
	}, byType[tollgate.LineMinimumGuaranteeTopup])
	require.Equal(t, tollgate.Line{
		Type: tollgate.LineCapReduction, Amount: "-1888.88", Basis: "11888.88",
		Explanation: "capped at 10000.00 EUR: 11888.88 reduced by 1888.88",
	}, byType[tollgate.LineCapReduction])
	require.Equal(t, "10000.00", st.Total)
	require.Equal(t, int64(1235), st.Transactions)

	st, err = settlement.Compute(settlement.Input{Currency: "EUR", Terms: terms(), Totals: []tollgate.Totals{totals("EUR", 0, "0", "20.00", "0")}})
	require.NoError(t, err)
	require.Equal(t, "no revenue share: net revenue -20.00 EUR is not positive", st.Lines[0].Explanation)
	require.Equal(t, "minimum guarantee 500.00 EUR − revenue share and fees 0.00", st.Lines[2].Explanation)
	require.Equal(t, "no cap", st.Lines[3].Explanation)
}

func TestFXRecorded(t *testing.T) {
	t.Parallel()
	rates := map[tollgate.Currency]tollgate.Rate{
		"USD": {Rate: d("0.9200"), AsOf: asOf, Source: "ecb"},
		"GBP": {Rate: d("1.17"), AsOf: asOf, Source: "ecb"},
		"CHF": {Rate: d("1.05"), AsOf: asOf, Source: "ecb"}, // unused
		"EUR": {Rate: d("2"), AsOf: asOf},                   // ignored: always 1
	}
	st, err := settlement.Compute(settlement.Input{
		Currency: "EUR", Terms: bare("1"), Rates: rates, Cutoff: cutoff,
		Totals: []tollgate.Totals{
			totals("USD", 0, "100.00", "0", "0"),
			totals("EUR", 0, "10.00", "0", "0"),
			totals("GBP", 0, "10.00", "0", "0"),
		},
	})
	require.NoError(t, err)
	require.Equal(t, []tollgate.FXUsed{
		{Currency: "GBP", Rate: "1.17", AsOf: asOf, Source: "ecb"},
		{Currency: "USD", Rate: "0.92", AsOf: asOf, Source: "ecb"},
	}, st.FX)
	require.Equal(t, "113.70", st.NetRevenue)
	require.Equal(t, "113.70", st.Total)
}

func TestComputeErrors(t *testing.T) {
	t.Parallel()
	rates := map[tollgate.Currency]tollgate.Rate{"USD": {Rate: d("0.92"), AsOf: asOf}}
	for _, tc := range []struct {
		name    string
		in      settlement.Input
		want    string
		missing bool
	}{
		{"missing rate", settlement.Input{Currency: "EUR", Terms: terms(), Rates: rates,
			Totals: []tollgate.Totals{totals("USD", 1, "1", "0", "0"), totals("JPY", 1, "100", "0", "0"), totals("GBP", 1, "1", "0", "0")}},
			"no fx rate into EUR for GBP, JPY", true},
		{"missing rate even when the currency nets to zero", settlement.Input{Currency: "EUR", Terms: terms(),
			Totals: []tollgate.Totals{totals("USD", 1, "1", "1", "0")}}, "for USD", true},
		{"zero rate", settlement.Input{Currency: "EUR", Terms: terms(), Rates: map[tollgate.Currency]tollgate.Rate{"USD": {AsOf: asOf}},
			Totals: []tollgate.Totals{totals("USD", 1, "1", "0", "0")}}, "fx rate USD→EUR is 0; a rate must be positive", false},
		{"rate after cutoff", settlement.Input{Currency: "EUR", Terms: terms(), Cutoff: asOf.Add(-time.Second), Rates: rates,
			Totals: []tollgate.Totals{totals("USD", 1, "1", "0", "0")}}, "after the cutoff", false},
		{"unknown settlement currency", settlement.Input{Currency: "XYZ", Terms: terms()}, "settlement currency", false},
		{"invalid terms", settlement.Input{Currency: "EUR", Terms: bare("2")}, "terms.revenue_share[0].rate", false},
		{"terms finer than the currency", settlement.Input{Currency: "JPY", Terms: terms()}, "terms.revenue_share[0].up_to", false},
		{"positive carry-in", settlement.Input{Currency: "EUR", Terms: terms(), CarryIn: d("0.01")}, "carry_in 0.01 must not be positive", false},
		{"carry-in finer than minor units", settlement.Input{Currency: "EUR", Terms: terms(), CarryIn: d("-0.001")}, "carry_in -0.001 has more decimals", false},
		{"totals in an unknown currency", settlement.Input{Currency: "EUR", Terms: terms(), Totals: []tollgate.Totals{{Currency: "ABC"}}}, "totals[0]", false},
		{"negative count", settlement.Input{Currency: "EUR", Terms: terms(), Totals: []tollgate.Totals{{Currency: "EUR", Count: -1}}}, "must not be negative", false},
		{"more charges than rows", settlement.Input{Currency: "EUR", Terms: terms(), Totals: []tollgate.Totals{{Currency: "EUR", Charges: 2, Count: 1, ChargeSum: d("1")}}}, "exceed", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := settlement.Compute(tc.in)
			require.Error(t, err)
			require.Equal(t, tollgate.CodeInvalid, tollgate.ErrorCode(err))
			require.ErrorContains(t, err, tc.want)
			require.Equal(t, tc.missing, errors.Is(err, settlement.ErrMissingRate))
		})
	}
}

func TestEmptyForeignTotalsNeedNoRate(t *testing.T) {
	t.Parallel()
	st, err := settlement.Compute(settlement.Input{Currency: "EUR", Terms: terms(),
		Totals: []tollgate.Totals{{Currency: "USD"}, totals("EUR", 0, "10", "0", "0")}})
	require.NoError(t, err)
	require.Empty(t, st.FX)
	require.Equal(t, "10.00", st.NetRevenue)
}

// The statement travels in workflow payloads: a JSON round trip must give
// back an equal value, with the public field names.
func TestStatementJSONIsStable(t *testing.T) {
	t.Parallel()
	st, err := settlement.Compute(settlement.Input{
		Currency: "EUR", Terms: terms(), Cutoff: cutoff,
		Rates:  map[tollgate.Currency]tollgate.Rate{"USD": {Rate: d("0.92"), AsOf: asOf, Source: "ecb"}},
		Totals: []tollgate.Totals{totals("USD", 10, "1000.00", "0", "0")},
	})
	require.NoError(t, err)
	b, err := json.Marshal(st)
	require.NoError(t, err)
	var back tollgate.Statement
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, st, back)
	b2, err := json.Marshal(back)
	require.NoError(t, err)
	require.Equal(t, string(b), string(b2))

	var shape map[string]any
	require.NoError(t, json.Unmarshal(b, &shape))
	for _, k := range []string{"currency", "net_revenue", "carry_in", "carry_out", "transactions", "lines", "total", "fx"} {
		require.Contains(t, shape, k)
	}
	line := shape["lines"].([]any)[0].(map[string]any)
	for _, k := range []string{"type", "amount", "basis", "rate", "explanation"} {
		require.Contains(t, line, k)
	}
	fx := shape["fx"].([]any)[0].(map[string]any)
	for _, k := range []string{"currency", "rate", "as_of", "source"} {
		require.Contains(t, fx, k)
	}
	require.IsType(t, "", shape["total"], "money is a string, never a JSON number")

	units, err := st.TotalMinorUnits()
	require.NoError(t, err)
	require.Equal(t, int64(50000), units)
}
