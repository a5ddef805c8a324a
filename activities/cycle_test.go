package activities

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/ledger"
	"github.com/tollgate/tollgate/payouts"
)

func snap(totals ...tollgate.Totals) tollgate.CycleSnapshot {
	return tollgate.CycleSnapshot{
		CycleID: "cycle-c-1", OperatorID: "op", ProviderID: "pr", Currency: "EUR",
		Terms:    tollgate.Terms{EffectiveFrom: jan1, RevenueShare: []tollgate.Tier{{Rate: "0.10"}}, CarryNegative: true},
		Approval: tollgate.ApprovalPolicy{AutoApproveLimit: "250.50", ApprovalsRequired: 1},
		Totals:   totals,
	}
}

func eur(sum string) tollgate.Totals {
	return tollgate.Totals{Currency: "EUR", Charges: 1, ChargeSum: decimal.RequireFromString(sum), Count: 1}
}

type rateStore struct {
	CycleStore
	rates map[tollgate.Currency]tollgate.Rate
	asked []tollgate.Currency
}

func (r *rateStore) RatesAt(_ context.Context, _ tollgate.Currency, bases []tollgate.Currency, _ time.Time) (map[tollgate.Currency]tollgate.Rate, error) {
	r.asked = bases
	return r.rates, nil
}

func TestComputeStatement(t *testing.T) {
	t.Parallel()
	store := &rateStore{rates: map[tollgate.Currency]tollgate.Rate{"USD": {Rate: decimal.RequireFromString("0.5"), AsOf: jan1, Source: "ecb"}}}
	a := &Activities{Cycles: store}
	s := snap(eur("1000.00"), tollgate.Totals{Currency: "USD", Charges: 1, ChargeSum: decimal.RequireFromString("100.00"), Count: 1})
	s.CarryIn = "-50.00"
	res, err := a.ComputeStatement(t.Context(), ComputeRequest{Snapshot: s, Cutoff: jan1.Add(time.Hour)})
	require.NoError(t, err)
	require.Equal(t, []tollgate.Currency{"USD"}, store.asked, "only foreign currencies need a rate")
	// (1000 + 100 × 0.5 − 50) × 10% = 100.00
	require.Equal(t, "100.00", res.Statement.Total)
	require.EqualValues(t, 10000, res.TotalMinor)
	require.EqualValues(t, 25050, res.AutoApproveLimitMinor)
	require.Equal(t, "-50.00", res.Statement.CarryIn)

	store.rates = map[tollgate.Currency]tollgate.Rate{}
	_, err = a.ComputeStatement(t.Context(), ComputeRequest{Snapshot: s, Cutoff: jan1.Add(time.Hour)})
	requireAppErr(t, err, tollgate.ErrTypeMissingRate, true)

	// A single-currency cycle never asks for rates.
	store.asked = nil
	_, err = a.ComputeStatement(t.Context(), ComputeRequest{Snapshot: snap(eur("1.00")), Cutoff: jan1})
	require.NoError(t, err)
	require.Nil(t, store.asked)

	bad := snap(eur("1.00"))
	bad.Terms.RevenueShare = nil
	_, err = a.ComputeStatement(t.Context(), ComputeRequest{Snapshot: bad, Cutoff: jan1})
	requireAppErr(t, err, tollgate.ErrTypeInvalid, true)
}

func TestCheckAnomalies(t *testing.T) {
	t.Parallel()
	a := &Activities{AnomalyLimits: map[tollgate.Currency]string{"EUR": "1000.00"}}
	for _, tc := range []struct {
		total string
		minor int64
		flags []string
	}{
		{"1000.00", 100000, nil},
		{"1000.01", 100001, []string{AnomalyAboveThreshold}},
		{"-0.01", -1, []string{AnomalyNegativeTotal}},
		{"0.00", 0, nil},
	} {
		res, err := a.CheckAnomalies(t.Context(), CheckRequest{Currency: "EUR", TotalMinor: tc.minor, Statement: tollgate.Statement{Total: tc.total}})
		require.NoError(t, err)
		require.Len(t, res.Flags, len(tc.flags), tc.total)
		for i, f := range tc.flags {
			require.Contains(t, res.Flags[i], f)
			require.Contains(t, res.Flags[i], tc.total)
		}
	}
	// Currencies without a limit are only checked for sign.
	res, err := a.CheckAnomalies(t.Context(), CheckRequest{Currency: "JPY", TotalMinor: 1 << 40})
	require.NoError(t, err)
	require.Empty(t, res.Flags)

	a.AnomalyLimits["EUR"] = "ten"
	_, err = a.CheckAnomalies(t.Context(), CheckRequest{Currency: "EUR", TotalMinor: 1})
	requireAppErr(t, err, tollgate.ErrTypeInvalid, true)
}

type recLedger struct{ in []ledger.EntryInput }

func (l *recLedger) Post(_ context.Context, in ledger.EntryInput) (ledger.Entry, error) {
	l.in = append(l.in, in)
	return ledger.Entry{ID: int64(len(l.in))}, nil
}

func (l *recLedger) Reverse(context.Context, int64, string, string) (ledger.Entry, error) {
	return ledger.Entry{}, tollgate.Errorf(tollgate.CodeConflict, "entry 1 is already reversed by entry 2")
}

func TestPostStatement(t *testing.T) {
	t.Parallel()
	l := &recLedger{}
	a := &Activities{Ledger: l}
	res, err := a.PostStatement(t.Context(), PostRequest{CycleID: "c", IdempotencyKey: "c/post/1", OperatorID: "op", ProviderID: "pr", Currency: "EUR", TotalMinor: 500})
	require.NoError(t, err)
	require.EqualValues(t, 1, res.EntryID)
	require.Equal(t, []ledger.PostingInput{
		{Account: ledger.AccountKey{PartyID: "op", Purpose: ledger.PurposeOperatorPayable, Currency: "EUR"}, Amount: -500},
		{Account: ledger.AccountKey{PartyID: "pr", Purpose: ledger.PurposeProviderReceivable, Currency: "EUR"}, Amount: 500},
	}, l.in[0].Postings)
	require.Equal(t, "c/post/1", l.in[0].IdempotencyKey)

	// A negative total books the mirror: the provider owes the operator.
	_, err = a.PostStatement(t.Context(), PostRequest{CycleID: "c", IdempotencyKey: "k", OperatorID: "op", ProviderID: "pr", Currency: "EUR", TotalMinor: -7})
	require.NoError(t, err)
	require.EqualValues(t, 7, l.in[1].Postings[0].Amount)
	require.EqualValues(t, -7, l.in[1].Postings[1].Amount)

	_, err = a.PostStatement(t.Context(), PostRequest{CycleID: "c", IdempotencyKey: "z", TotalMinor: 0})
	requireAppErr(t, err, tollgate.ErrTypeInvalid, true)

	_, err = a.ReversePosting(t.Context(), ReverseRequest{EntryID: 1, IdempotencyKey: "r", Reason: "x"})
	requireAppErr(t, err, tollgate.ErrTypeConflict, true)
}

func TestPayoutActivities(t *testing.T) {
	t.Parallel()
	bank := payouts.NewSimulated(payouts.SimulatedOptions{TransientFailures: 1, PendingPolls: 1, MaxAmount: 1000})
	a := &Activities{Payouts: payouts.Registry{"sim": bank}}
	req := PayoutRequest{Adapter: "sim", IdempotencyKey: "cycle-1", PayeeID: "pr", AmountMinor: 100, Currency: "EUR"}

	_, err := a.InitiatePayout(t.Context(), req)
	requireAppErr(t, err, tollgate.ErrTypeUnavailable, false)
	out, err := a.InitiatePayout(t.Context(), req)
	require.NoError(t, err)

	_, err = a.AwaitPayout(t.Context(), PayoutStatusRequest{Adapter: "sim", Reference: out.Reference})
	requireAppErr(t, err, tollgate.ErrTypePayoutPending, false)
	done, err := a.AwaitPayout(t.Context(), PayoutStatusRequest{Adapter: "sim", Reference: out.Reference})
	require.NoError(t, err)
	require.Equal(t, out.Reference, done.Reference)

	big := req
	big.IdempotencyKey, big.AmountMinor = "cycle-2", 5000
	_, err = a.InitiatePayout(t.Context(), big)
	requireAppErr(t, err, tollgate.ErrTypeUnavailable, false) // the bank's scripted first failure per key
	_, err = a.InitiatePayout(t.Context(), big)
	requireAppErr(t, err, tollgate.ErrTypePayoutDeclined, true)

	returned := payouts.NewSimulated(payouts.SimulatedOptions{ReturnedKeys: map[string]string{"cycle-3": "account closed"}})
	a.Payouts["ret"] = returned
	ref, err := returned.Initiate(t.Context(), payouts.Request{IdempotencyKey: "cycle-3", PayeeID: "pr", Amount: 1, Currency: "EUR"})
	require.NoError(t, err)
	_, err = a.AwaitPayout(t.Context(), PayoutStatusRequest{Adapter: "ret", Reference: ref})
	requireAppErr(t, err, tollgate.ErrTypePayoutDeclined, true)
	require.ErrorContains(t, err, "account closed")

	// No adapter can pay: declined, so the cycle reverses its posting and
	// waits in payout_failed (where it can be retried once the worker is
	// configured, or cancelled) instead of holding an unpayable posting.
	req.Adapter = "swift"
	_, err = a.InitiatePayout(t.Context(), req)
	requireAppErr(t, err, tollgate.ErrTypePayoutDeclined, true)
}
