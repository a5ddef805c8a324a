package activities_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/activities"
	"github.com/tollgate/tollgate/internal/testdb"
	"github.com/tollgate/tollgate/store"
)

// One cycle over real PostgreSQL: the close picks the terms version in force
// at the period end (not the first, not the newest), the compute step the
// FX rate in force at the cutoff (period end + grace), and the statement
// comes out as worked by hand below.
func TestComputeUsesTermsAtPeriodEndAndRatesAtCutoff(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cutoff := end.Add(time.Hour)
	st := store.New(testdb.Pool(t), func() time.Time { return end.Add(3 * time.Hour) })
	upTo := "1000.00"

	// Version 1 was in force until February; version 2 from February 1st;
	// version 3 starts the day after the period and must not apply.
	c := createContract(t, st, 1, "EUR", tollgate.Terms{EffectiveFrom: end.AddDate(0, -2, 0),
		RevenueShare: []tollgate.Tier{{Rate: "0.10"}}, FeePerCharge: "0.01"})
	for _, terms := range []tollgate.Terms{
		{EffectiveFrom: end.AddDate(0, -1, 0), RevenueShare: []tollgate.Tier{{UpTo: &upTo, Rate: "0.12"}, {Rate: "0.10"}},
			FeePerCharge: "0.05", MinimumGuarantee: "100.00"},
		{EffectiveFrom: end.AddDate(0, 0, 1), RevenueShare: []tollgate.Tier{{Rate: "0.50"}}, FeePerCharge: "0.50"},
	} {
		tv, err := st.AddTerms(ctx, c.ID, terms, "bob")
		require.NoError(t, err)
		_, err = st.ApproveTerms(ctx, c.ID, tv.Version, "carol")
		require.NoError(t, err)
	}

	for _, r := range []struct {
		rate string
		asOf time.Time
	}{
		{"0.80", end.Add(-2 * time.Hour)},   // superseded
		{"0.90", end.Add(30 * time.Minute)}, // after the period end, before the cutoff: in force
		{"0.95", cutoff.Add(time.Hour)},     // after the cutoff
	} {
		_, err := st.AddRate(ctx, tollgate.FXRate{Base: "USD", Quote: "EUR", Rate: r.rate, AsOf: r.asOf, Source: "ecb"})
		require.NoError(t, err)
	}

	var rows []json.RawMessage
	for i, tx := range []struct {
		kind, amount, currency string
		at                     time.Time
	}{
		{tollgate.KindCharge, "1000.00", "USD", end.Add(-48 * time.Hour)},
		{tollgate.KindCharge, "333.33", "USD", end.Add(-time.Hour)},
		{tollgate.KindPayout, "200.00", "USD", end.Add(-30 * time.Minute)},
		{tollgate.KindAdjustment, "-50.01", "USD", end.Add(-time.Minute)},
		{tollgate.KindCharge, "100.00", "EUR", end.Add(-24 * time.Hour)},
		{tollgate.KindCharge, "999.00", "USD", end.Add(10 * time.Minute)}, // the next period's
	} {
		b, err := json.Marshal(map[string]string{"provider_id": c.ProviderID, "operator_id": c.OperatorID,
			"external_id": fmt.Sprintf("x-%d", i), "kind": tx.kind, "amount": tx.amount, "currency": tx.currency,
			"occurred_at": tx.at.Format(time.RFC3339)})
		require.NoError(t, err)
		rows = append(rows, b)
	}
	res, err := st.Ingest(ctx, rows, "test", "")
	require.NoError(t, err)
	require.Equal(t, 6, res.Accepted)

	snap, err := st.CloseCycle(ctx, tollgate.CloseRequest{CycleID: "cycle-1", ContractID: c.ID, PeriodEnd: end})
	require.NoError(t, err)
	require.EqualValues(t, 5, snap.Transactions)
	require.True(t, end.AddDate(0, -1, 0).Equal(snap.Terms.EffectiveFrom), "version 2 is in force: %+v", snap.Terms)

	out, err := (&activities.Activities{Cycles: st}).ComputeStatement(ctx, activities.ComputeRequest{Snapshot: snap, Cutoff: cutoff})
	require.NoError(t, err)
	stm := out.Statement

	// By hand:
	//   USD net  1000.00 + 333.33 − 200.00 − 50.01 = 1083.32 USD
	//            × 0.90 = 974.988 EUR
	//   net      974.988 + 100.00 = 1074.988 EUR, shown 1074.99
	//   share    12% × 1000.00 + 10% × 74.988 = 120 + 7.4988 = 127.4988 → 127.50
	//   fees     3 charges × 0.05 = 0.15
	//   minimum  127.65 meets 100.00: no top-up; no cap
	//   total    127.65 EUR
	require.Len(t, stm.FX, 1)
	require.Equal(t, tollgate.Currency("USD"), stm.FX[0].Currency)
	require.Equal(t, "0.9", stm.FX[0].Rate)
	require.True(t, end.Add(30*time.Minute).Equal(stm.FX[0].AsOf), "as_of %s", stm.FX[0].AsOf)
	require.Equal(t, "ecb", stm.FX[0].Source)
	require.Equal(t, "1074.99", stm.NetRevenue)
	require.EqualValues(t, 5, stm.Transactions)

	type line struct {
		typ                 tollgate.LineType
		amount, basis, rate string
	}
	var lines []line
	for _, l := range stm.Lines {
		lines = append(lines, line{l.Type, l.Amount, l.Basis, l.Rate})
	}
	require.Equal(t, []line{
		{tollgate.LineRevenueShare, "127.50", "1074.99", ""},
		{tollgate.LineChargeFees, "0.15", "3", "0.05"},
		{tollgate.LineMinimumGuaranteeTopup, "0.00", "127.65", ""},
		{tollgate.LineCapReduction, "0.00", "127.65", ""},
	}, lines)
	require.Equal(t, "12% of the first 1000.00 + 10% of 74.99 above 1000.00 (net revenue 1074.99 EUR)", stm.Lines[0].Explanation)
	require.Equal(t, "127.65", stm.Total)
	require.EqualValues(t, 12765, out.TotalMinor)
}
