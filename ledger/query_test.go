package ledger_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/ledger"
)

func TestBalanceAsOf(t *testing.T) {
	t.Parallel()
	l, _, c := newLedger(t)
	ctx := t.Context()
	for i := range 3 {
		c.t = t0.Add(time.Duration(i) * time.Hour)
		_, err := l.Post(ctx, transfer(fmt.Sprint("h", i), opEUR, provEUR, 100))
		require.NoError(t, err)
	}
	a, err := l.AccountByKey(ctx, provEUR)
	require.NoError(t, err)

	cur, err := l.Balance(ctx, a.ID, nil)
	require.NoError(t, err)
	require.Equal(t, ledger.Balance{AccountID: a.ID, Currency: "EUR", Amount: 300}, cur)
	for _, tc := range []struct {
		at   time.Time
		want int64
	}{
		{t0.Add(-time.Second), 0},
		{t0, 100},
		{t0.Add(90 * time.Minute), 200},
		{t0.Add(5 * time.Hour), 300},
	} {
		b, err := l.Balance(ctx, a.ID, &tc.at)
		require.NoError(t, err)
		require.Equal(t, tc.want, b.Amount, tc.at)
	}
	_, err = l.Balance(ctx, a.ID+100, nil)
	require.Equal(t, tollgate.CodeNotFound, tollgate.ErrorCode(err))
}

func TestListPagination(t *testing.T) {
	t.Parallel()
	l, _, c := newLedger(t)
	ctx := t.Context()
	var ids []int64
	for i := range 7 {
		c.t = t0.Add(time.Duration(i) * time.Minute)
		in := transfer(fmt.Sprint("p", i), opEUR, provEUR, int64(i+1))
		if i%2 == 1 {
			in = transfer(fmt.Sprint("p", i), opJPY, fxJPY, int64(i+1))
			in.CycleID = "odd"
		}
		e, err := l.Post(ctx, in)
		require.NoError(t, err)
		ids = append(ids, e.ID)
	}
	collect := func(f ledger.EntryFilter) []int64 {
		var got []int64
		for {
			page, next, err := l.ListEntries(ctx, f)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page), f.Limit)
			for _, e := range page {
				require.Len(t, e.Postings, 2)
				got = append(got, e.ID)
			}
			if next == "" {
				return got
			}
			f.Cursor = next
		}
	}
	require.Equal(t, ids, collect(ledger.EntryFilter{Limit: 2}))
	require.Equal(t, []int64{ids[1], ids[3], ids[5]}, collect(ledger.EntryFilter{CycleID: "odd", Limit: 2}))
	jpy, err := l.AccountByKey(ctx, fxJPY)
	require.NoError(t, err)
	require.Equal(t, []int64{ids[1], ids[3], ids[5]}, collect(ledger.EntryFilter{AccountID: jpy.ID, Limit: 1}))
	require.Equal(t, []int64{ids[2], ids[3]}, collect(ledger.EntryFilter{From: t0.Add(2 * time.Minute), To: t0.Add(4 * time.Minute), Limit: 5}))
	require.Equal(t, []int64{ids[3]}, collect(ledger.EntryFilter{AccountID: jpy.ID, From: t0.Add(2 * time.Minute), To: t0.Add(4 * time.Minute), Limit: 5}))

	var accounts []ledger.Account
	f := ledger.AccountFilter{Limit: 1}
	for {
		page, next, err := l.ListAccounts(ctx, f)
		require.NoError(t, err)
		accounts = append(accounts, page...)
		if next == "" {
			break
		}
		f.Cursor = next
	}
	require.Len(t, accounts, 4)
	byParty, _, err := l.ListAccounts(ctx, ledger.AccountFilter{PartyID: "op-1"})
	require.NoError(t, err)
	require.Len(t, byParty, 2)
	byCur, _, err := l.ListAccounts(ctx, ledger.AccountFilter{Currency: "JPY", Purpose: ledger.PurposeFXRevaluation})
	require.NoError(t, err)
	require.Len(t, byCur, 1)
	require.Equal(t, int64(2+4+6), byCur[0].Balance)

	// Cursors are opaque and typed; garbage and cross-use are refused.
	_, next, err := l.ListEntries(ctx, ledger.EntryFilter{Limit: 1})
	require.NoError(t, err)
	_, _, err = l.ListAccounts(ctx, ledger.AccountFilter{Cursor: next})
	require.Equal(t, tollgate.CodeInvalid, tollgate.ErrorCode(err))
	_, _, err = l.ListEntries(ctx, ledger.EntryFilter{Cursor: "!!"})
	require.Equal(t, tollgate.CodeInvalid, tollgate.ErrorCode(err))
	_, _, err = l.ListEntries(ctx, ledger.EntryFilter{Limit: ledger.MaxLimit + 1})
	require.Equal(t, tollgate.CodeInvalid, tollgate.ErrorCode(err))
}
