package activities_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/activities"
	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/internal/testdb"
	"github.com/tollgate/tollgate/store"
)

var (
	periodEnd = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clockNow  = periodEnd.Add(2 * time.Hour)
)

// drawAmount draws an amount in [lo, hi] minor units of cur, as text.
func drawAmount(t *rapid.T, label string, cur tollgate.Currency, lo, hi int64) string {
	return tollgate.FormatAmount(tollgate.FromMinorUnits(rapid.Int64Range(lo, hi).Draw(t, label), cur), cur)
}

func drawTerms(t *rapid.T, cur tollgate.Currency) tollgate.Terms {
	terms := tollgate.Terms{EffectiveFrom: periodEnd.AddDate(0, -2, 0), CarryNegative: rapid.Bool().Draw(t, "carry_negative")}
	var bound int64
	n := rapid.IntRange(1, 3).Draw(t, "tiers")
	for i := range n {
		tier := tollgate.Tier{Rate: decimal.New(rapid.Int64Range(0, 10_000).Draw(t, "rate"), -4).String()}
		if i < n-1 {
			bound += rapid.Int64Range(1, 5_000_000).Draw(t, "width")
			s := tollgate.FormatAmount(tollgate.FromMinorUnits(bound, cur), cur)
			tier.UpTo = &s
		}
		terms.RevenueShare = append(terms.RevenueShare, tier)
	}
	terms.FeePerCharge = decimal.New(rapid.Int64Range(0, 5_000).Draw(t, "fee"), -4).String()
	if rapid.Bool().Draw(t, "has_minimum_guarantee") {
		terms.MinimumGuarantee = drawAmount(t, "minimum_guarantee", cur, 0, 1_000_000)
	}
	return terms
}

func createContract(tb *testing.T, st *store.Store, n int, settle tollgate.Currency, terms tollgate.Terms) tollgate.Contract {
	ctx := tb.Context()
	op, pv := fmt.Sprintf("op-%d", n), fmt.Sprintf("pv-%d", n)
	for _, p := range []tollgate.Party{{ID: op, Kind: "operator", Name: op, Currency: string(settle)}, {ID: pv, Kind: "provider", Name: pv, Currency: string(settle)}} {
		_, err := st.CreateParty(ctx, p)
		require.NoError(tb, err)
	}
	c := tollgate.Contract{ID: fmt.Sprintf("c-%d", n), OperatorID: op, ProviderID: pv, Currency: settle, Timezone: "UTC",
		Schedule: tollgate.Schedule{Every: tollgate.Duration(24 * time.Hour)}, Terms: terms,
		Approval: tollgate.ApprovalPolicy{ApprovalsRequired: 1}, Payout: tollgate.PayoutConfig{Adapter: tollgate.PayoutAdapterSimulated}}
	_, err := st.CreateContract(ctx, c, "maker")
	require.NoError(tb, err)
	return c
}

func seedContract(t *rapid.T, tb *testing.T, st *store.Store, n int) (tollgate.Contract, []string) {
	ctx := tb.Context()
	settle := rapid.SampledFrom([]tollgate.Currency{"EUR", "JPY", "KWD"}).Draw(t, "settlement_currency")
	c := createContract(tb, st, n, settle, drawTerms(t, settle))

	// Other currencies, each with a rate before the cutoff (used) and one
	// after it (never used).
	others := rapid.SliceOfNDistinct(rapid.SampledFrom([]string{"USD", "GBP", "BHD", "ISK"}), 0, 2, rapid.ID[string]).Draw(t, "others")
	for _, o := range others {
		for _, asOf := range []time.Time{periodEnd.Add(-time.Hour), periodEnd.Add(time.Hour)} {
			rate := decimal.New(rapid.Int64Range(1, 5_000_000).Draw(t, "rate_"+o), -6).String()
			_, err := st.AddRate(ctx, tollgate.FXRate{Base: o, Quote: string(settle), Rate: rate, AsOf: asOf, Source: fmt.Sprintf("test-%d", n)})
			require.NoError(tb, err)
		}
	}
	return c, append([]string{string(settle)}, others...)
}

func seedTransactions(t *rapid.T, tb *testing.T, st *store.Store, c tollgate.Contract, curs []string) {
	rows := rapid.IntRange(0, 40).Draw(t, "rows")
	raws := make([]json.RawMessage, 0, rows)
	for i := range rows {
		cur := tollgate.Currency(rapid.SampledFrom(curs).Draw(t, "currency"))
		kind := rapid.SampledFrom([]string{tollgate.KindCharge, tollgate.KindCharge, tollgate.KindPayout, tollgate.KindAdjustment}).Draw(t, "kind")
		lo := int64(1)
		if kind == tollgate.KindAdjustment {
			lo = -50_000_000
		}
		amount := drawAmount(t, "amount", cur, lo, 50_000_000)
		at := periodEnd.Add(-time.Duration(rapid.IntRange(1, 30*24*60).Draw(t, "minutes_before")) * time.Minute)
		b, err := json.Marshal(map[string]string{"provider_id": c.ProviderID, "operator_id": c.OperatorID,
			"external_id": fmt.Sprintf("x-%d", i), "kind": kind, "amount": amount, "currency": string(cur),
			"occurred_at": at.Format(time.RFC3339)})
		require.NoError(tb, err)
		raws = append(raws, b)
	}
	res, err := st.Ingest(tb.Context(), raws, "test", "")
	require.NoError(tb, err)
	require.Empty(tb, res.Rejected)
}

func setCarry(tb *testing.T, pool *pgxpool.Pool, c tollgate.Contract, carry string) {
	_, err := pool.Exec(tb.Context(), `UPDATE contracts SET carry = $2::numeric WHERE id = $1`, c.ID, carry)
	require.NoError(tb, err)
}

// The live position and a cycle's statement over the same rows, period end,
// terms and rates are the same statement: lines, total, carry, FX.
func TestPositionEqualsCycleStatement(t *testing.T) {
	t.Parallel()
	pool := testdb.Pool(t)
	st := store.New(pool, func() time.Time { return clockNow })
	a := &activities.Activities{Cycles: st}
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		c, curs := seedContract(rt, t, st, n)
		seedTransactions(rt, t, st, c, curs)
		carry := tollgate.FromMinorUnits(-rapid.Int64Range(0, 10_000_000).Draw(rt, "carry"), c.Currency)
		setCarry(t, pool, c, carry.String())

		pos, err := api.LivePosition(t.Context(), st, c.ID, periodEnd)
		require.NoError(t, err)
		snap, err := a.CloseCycle(t.Context(), tollgate.CloseRequest{CycleID: "cycle-" + c.ID, ContractID: c.ID, PeriodEnd: periodEnd})
		require.NoError(t, err)
		res, err := a.ComputeStatement(t.Context(), activities.ComputeRequest{Snapshot: snap, Cutoff: periodEnd})
		require.NoError(t, err)
		stm := res.Statement

		require.Equal(t, stm.Lines, pos.Lines, "lines")
		require.Equal(t, stm.Total, pos.Total, "total")
		require.Equal(t, stm.CarryIn, pos.CarryIn, "carry in")
		require.Equal(t, stm.NetRevenue, pos.NetRevenue, "net revenue")
		require.Equal(t, stm.FX, pos.FX, "fx")
		require.Equal(t, stm.Transactions, pos.Transactions, "transactions")
		for _, fx := range stm.FX {
			require.True(t, fx.AsOf.Before(periodEnd), "a rate after the cutoff was used: %+v", fx)
		}
	})
}

// A stored value that cannot be read back is an error on both paths, never
// a zero.
func TestCorruptStoredValuesAreErrors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cases := []struct {
		name, sql string
	}{
		{"carry with sub-minor digits", `UPDATE contracts SET carry = -0.001 WHERE id = $1`},
		{"bucket amount", `UPDATE bucket_totals SET charge_sum = 'NaN' WHERE contract_id = $1`},
		{"bucket counts", `UPDATE bucket_totals SET charges = tx_count + 1 WHERE contract_id = $1`},
		{"terms value", `UPDATE contract_terms SET terms = jsonb_set(terms, '{revenue_share,0,rate}', '"ten percent"') WHERE contract_id = $1`},
		{"terms shape", `UPDATE contract_terms SET terms = '[]' WHERE contract_id = $1`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pool := testdb.Pool(t)
			st := store.New(pool, func() time.Time { return clockNow })
			c := createContract(t, st, 1, "EUR", tollgate.Terms{EffectiveFrom: periodEnd.AddDate(0, -2, 0),
				RevenueShare: []tollgate.Tier{{Rate: "0.1"}}, FeePerCharge: "0.01"})
			_, err := st.Ingest(ctx, []json.RawMessage{json.RawMessage(fmt.Sprintf(
				`{"provider_id":%q,"operator_id":%q,"external_id":"x","kind":"charge","amount":"10","currency":"EUR","occurred_at":"2026-02-28T12:00:00Z"}`,
				c.ProviderID, c.OperatorID))}, "test", "")
			require.NoError(t, err)
			// The stored value is sound before it is broken.
			_, err = api.LivePosition(ctx, st, c.ID, periodEnd)
			require.NoError(t, err)
			tag, err := pool.Exec(ctx, tc.sql, c.ID)
			require.NoError(t, err)
			require.Equal(t, int64(1), tag.RowsAffected())

			_, err = api.LivePosition(ctx, st, c.ID, periodEnd)
			require.Error(t, err, "position")
			require.Equal(t, tollgate.CodeInternal, tollgate.ErrorCode(err), "position: %v", err)
			_, err = st.CloseCycle(ctx, tollgate.CloseRequest{CycleID: "cycle-x", ContractID: c.ID, PeriodEnd: periodEnd})
			require.Error(t, err, "close")
			require.Equal(t, tollgate.CodeInternal, tollgate.ErrorCode(err), "close: %v", err)
		})
	}
}
