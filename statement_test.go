package tollgate

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func TestTotalsAddAndMerge(t *testing.T) {
	t.Parallel()
	d := decimal.RequireFromString
	a := Totals{Currency: "EUR"}
	require.NoError(t, a.Add(KindCharge, d("10.00")))
	require.NoError(t, a.Add(KindCharge, d("5.50")))
	require.NoError(t, a.Add(KindPayout, d("3.00")))
	require.NoError(t, a.Add(KindAdjustment, d("-0.25")))
	require.ErrorContains(t, a.Add("refund", d("1")), `kind "refund" must be one of`)
	require.Equal(t, int64(2), a.Charges)
	require.Equal(t, int64(4), a.Count)
	require.True(t, a.NetRevenue().Equal(d("12.25")))
	require.NoError(t, a.Validate())

	b := Totals{Currency: "EUR"}
	require.NoError(t, b.Add(KindCharge, d("1.00")))
	m, err := a.Merge(b)
	require.NoError(t, err)
	require.Equal(t, int64(3), m.Charges)
	require.Equal(t, int64(5), m.Count)
	require.True(t, m.NetRevenue().Equal(d("13.25")))

	_, err = a.Merge(Totals{Currency: "USD"})
	require.ErrorContains(t, err, "cannot merge USD totals into EUR totals")
	require.True(t, Totals{Currency: "USD"}.IsZero())
	require.False(t, a.IsZero())
}

func TestTotalsValidate(t *testing.T) {
	t.Parallel()
	d := decimal.RequireFromString
	for _, tc := range []struct {
		name string
		t    Totals
		want string
	}{
		{"empty", Totals{Currency: "EUR"}, ""},
		{"unknown currency", Totals{Currency: "EURO"}, "totals.currency"},
		{"negative count", Totals{Currency: "EUR", Count: -1}, "counts must not be negative"},
		{"negative charges", Totals{Currency: "EUR", Charges: -1}, "counts must not be negative"},
		{"charges above count", Totals{Currency: "EUR", Charges: 2, Count: 1}, "2 charges exceed the 1 rows"},
		{"negative charge sum", Totals{Currency: "EUR", Charges: 1, Count: 1, ChargeSum: d("-1")}, "must not be negative"},
		{"negative payout sum", Totals{Currency: "EUR", Count: 1, PayoutSum: d("-1")}, "must not be negative"},
		{"money without rows", Totals{Currency: "EUR", AdjustmentSum: d("1")}, "no rows are counted"},
		{"negative adjustments are fine", Totals{Currency: "EUR", Count: 1, AdjustmentSum: d("-1")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.t.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Equal(t, CodeInvalid, ErrorCode(err))
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestStatementAccessors(t *testing.T) {
	t.Parallel()
	st := Statement{
		Currency: "KWD", Total: "12.345", CarryOut: "-1.500",
		Lines: []Line{{Type: LineRevenueShare, Amount: "12.345"}},
	}
	total, err := st.TotalAmount()
	require.NoError(t, err)
	require.True(t, total.Equal(decimal.RequireFromString("12.345")))
	units, err := st.TotalMinorUnits()
	require.NoError(t, err)
	require.Equal(t, int64(12345), units)
	carry, err := st.CarryOutAmount()
	require.NoError(t, err)
	require.True(t, carry.Equal(decimal.RequireFromString("-1.5")))
	l, ok := st.Line(LineRevenueShare)
	require.True(t, ok)
	require.Equal(t, "12.345", l.Amount)
	_, ok = st.Line(LineCapReduction)
	require.False(t, ok)

	st.Total = "12.3456"
	_, err = st.TotalAmount()
	require.ErrorContains(t, err, "statement.total")
	st.Currency = ""
	_, err = st.TotalAmount()
	require.ErrorContains(t, err, "statement.currency")
}
