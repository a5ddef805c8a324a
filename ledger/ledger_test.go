package ledger_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/internal/testdb"
	"github.com/tollgate/tollgate/ledger"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a manual clock; tests advance it to stamp entries at known times.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newLedger(t testing.TB) (*ledger.Ledger, *pgxpool.Pool, *clock) {
	t.Helper()
	pool := testdb.Pool(t)
	c := &clock{t: t0}
	return ledger.New(pool, ledger.WithClock(c.now)), pool, c
}

func acct(party string, p ledger.Purpose, cur string) ledger.AccountKey {
	return ledger.AccountKey{PartyID: party, Purpose: p, Currency: tollgate.Currency(cur)}
}

var (
	opEUR   = acct("op-1", ledger.PurposeOperatorPayable, "EUR")
	provEUR = acct("prov-1", ledger.PurposeProviderReceivable, "EUR")
	clrEUR  = acct("prov-1", ledger.PurposePayoutClearing, "EUR")
	opJPY   = acct("op-1", ledger.PurposeOperatorPayable, "JPY")
	fxJPY   = acct("fx", ledger.PurposeFXRevaluation, "JPY")
)

// transfer moves amount from one account to another.
func transfer(key string, from, to ledger.AccountKey, amount int64) ledger.EntryInput {
	return ledger.EntryInput{
		IdempotencyKey: key,
		Description:    "transfer " + key,
		Postings:       []ledger.PostingInput{{Account: from, Amount: -amount}, {Account: to, Amount: amount}},
	}
}

func balanceOf(t *testing.T, l *ledger.Ledger, k ledger.AccountKey) int64 {
	t.Helper()
	a, err := l.AccountByKey(t.Context(), k)
	require.NoError(t, err)
	return a.Balance
}

func requireVerified(t *testing.T, l *ledger.Ledger) ledger.VerifyReport {
	t.Helper()
	r, err := l.Verify(t.Context())
	require.NoError(t, err)
	require.Nil(t, r.Break)
	require.True(t, r.OK)
	return r
}

func TestPostValidation(t *testing.T) {
	t.Parallel()
	l, _, _ := newLedger(t)
	ok := transfer("k", opEUR, provEUR, 100)
	with := func(f func(*ledger.EntryInput)) ledger.EntryInput {
		in := ok
		in.Postings = append([]ledger.PostingInput(nil), ok.Postings...)
		f(&in)
		return in
	}
	tests := []struct {
		name string
		in   ledger.EntryInput
		code tollgate.Code
		msg  string
	}{
		{"no key", with(func(in *ledger.EntryInput) { in.IdempotencyKey = "" }), tollgate.CodeInvalid, "idempotency key"},
		{"key too long", with(func(in *ledger.EntryInput) { in.IdempotencyKey = strings.Repeat("k", 201) }), tollgate.CodeInvalid, "idempotency key"},
		{"one posting", with(func(in *ledger.EntryInput) { in.Postings = in.Postings[:1] }), tollgate.CodeInvalid, "at least 2"},
		{"no postings", with(func(in *ledger.EntryInput) { in.Postings = nil }), tollgate.CodeInvalid, "at least 2"},
		{"unbalanced", with(func(in *ledger.EntryInput) { in.Postings[1].Amount = 99 }), tollgate.CodeInvalid, "sum to -0.01 EUR"},
		{"zero amount", with(func(in *ledger.EntryInput) {
			in.Postings = append(in.Postings, ledger.PostingInput{Account: clrEUR})
		}), tollgate.CodeInvalid, "zero amount"},
		{"unbalanced per currency", with(func(in *ledger.EntryInput) { in.Postings[1].Account = opJPY }), tollgate.CodeInvalid, "not zero"},
		{"unknown purpose", with(func(in *ledger.EntryInput) { in.Postings[0].Account.Purpose = "petty_cash" }), tollgate.CodeInvalid, "purpose"},
		{"bad currency", with(func(in *ledger.EntryInput) {
			in.Postings[0].Account.Currency = "eur"
			in.Postings[1].Account.Currency = "eur"
		}), tollgate.CodeInvalid, "currency"},
		{"unknown currency", with(func(in *ledger.EntryInput) {
			in.Postings[0].Account.Currency = "XYZ"
			in.Postings[1].Account.Currency = "XYZ"
		}), tollgate.CodeInvalid, "currency"},
		{"no party", with(func(in *ledger.EntryInput) { in.Postings[0].Account.PartyID = "" }), tollgate.CodeInvalid, "party"},
		{"amount out of range", with(func(in *ledger.EntryInput) {
			in.Postings[0].Amount = -(ledger.MaxAmount + 1)
			in.Postings[1].Amount = ledger.MaxAmount + 1
		}), tollgate.CodeInvalid, "out of range"},
		{"NUL in description", with(func(in *ledger.EntryInput) { in.Description = "a\x00b" }), tollgate.CodeInvalid, "UTF-8"},
		{"invalid UTF-8 key", with(func(in *ledger.EntryInput) { in.IdempotencyKey = "k\xff" }), tollgate.CodeInvalid, "UTF-8"},
		{"invalid UTF-8 party", with(func(in *ledger.EntryInput) { in.Postings[0].Account.PartyID = "\xfe" }), tollgate.CodeInvalid, "UTF-8"},
		{"description too long", with(func(in *ledger.EntryInput) { in.Description = strings.Repeat("d", 1001) }), tollgate.CodeInvalid, "description"},
		{"too many postings", with(func(in *ledger.EntryInput) {
			in.Postings = nil
			for i := range ledger.MaxPostings + 1 {
				in.Postings = append(in.Postings, ledger.PostingInput{Account: opEUR, Amount: int64(1 - 2*(i%2))})
			}
		}), tollgate.CodeTooLarge, "at most"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.Post(t.Context(), tc.in)
			require.Error(t, err)
			require.Equal(t, tc.code, tollgate.ErrorCode(err), err.Error())
			require.Contains(t, err.Error(), tc.msg)
		})
	}
	// Nothing was written by any refused entry.
	entries, _, err := l.ListEntries(t.Context(), ledger.EntryFilter{})
	require.NoError(t, err)
	require.Empty(t, entries)
}

func TestPostAndRead(t *testing.T) {
	t.Parallel()
	l, _, _ := newLedger(t)
	ctx := t.Context()
	in := ledger.EntryInput{
		IdempotencyKey: "cycle-1/settle", CycleID: "cycle-1", Description: "settlement",
		Postings: []ledger.PostingInput{
			{Account: opEUR, Amount: -10_00}, {Account: provEUR, Amount: 9_50}, {Account: clrEUR, Amount: 50},
			{Account: opJPY, Amount: -500}, {Account: fxJPY, Amount: 500},
		},
	}
	e, err := l.Post(ctx, in)
	require.NoError(t, err)
	require.NotZero(t, e.ID)
	require.Equal(t, t0, e.PostedAt)
	require.Len(t, e.ContentHash, 64)

	got, err := l.GetEntry(ctx, e.ID)
	require.NoError(t, err)
	require.Equal(t, e, got)

	require.Equal(t, int64(-10_00), balanceOf(t, l, opEUR))
	require.Equal(t, int64(9_50), balanceOf(t, l, provEUR))
	require.Equal(t, int64(500), balanceOf(t, l, fxJPY))

	_, err = l.GetEntry(ctx, e.ID+100)
	require.Equal(t, tollgate.CodeNotFound, tollgate.ErrorCode(err))
	_, err = l.GetAccount(ctx, 999_999)
	require.Equal(t, tollgate.CodeNotFound, tollgate.ErrorCode(err))
	_, err = l.AccountByKey(ctx, acct("nobody", ledger.PurposeOperatorPayable, "EUR"))
	require.Equal(t, tollgate.CodeNotFound, tollgate.ErrorCode(err))
	requireVerified(t, l)
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	l, pool, c := newLedger(t)
	ctx := t.Context()
	first, err := l.Post(ctx, transfer("pay-1", opEUR, provEUR, 12_34))
	require.NoError(t, err)

	// A retry later, with postings in another order, is the same entry.
	c.t = t0.Add(time.Hour)
	retry := transfer("pay-1", opEUR, provEUR, 12_34)
	retry.Postings[0], retry.Postings[1] = retry.Postings[1], retry.Postings[0]
	again, err := l.Post(ctx, retry)
	require.NoError(t, err)
	require.Equal(t, first.ID, again.ID)
	require.Equal(t, first.PostedAt, again.PostedAt)
	require.Equal(t, int64(12_34), balanceOf(t, l, provEUR))

	for name, in := range map[string]ledger.EntryInput{
		"amount":  transfer("pay-1", opEUR, provEUR, 12_35),
		"account": transfer("pay-1", opEUR, clrEUR, 12_34),
		"description": func() ledger.EntryInput {
			in := transfer("pay-1", opEUR, provEUR, 12_34)
			in.Description = "other"
			return in
		}(),
		"cycle": func() ledger.EntryInput { in := transfer("pay-1", opEUR, provEUR, 12_34); in.CycleID = "c9"; return in }(),
	} {
		_, err := l.Post(ctx, in)
		require.Equal(t, tollgate.CodeConflict, tollgate.ErrorCode(err), name)
	}

	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM ledger_postings`).Scan(&n))
	require.Equal(t, 2, n)
	requireVerified(t, l)
}

func TestPostBatch(t *testing.T) {
	t.Parallel()
	l, _, _ := newLedger(t)
	ctx := t.Context()
	pre, err := l.Post(ctx, transfer("b-0", opEUR, provEUR, 1))
	require.NoError(t, err)

	batch := []ledger.EntryInput{
		transfer("b-0", opEUR, provEUR, 1), // already posted: returned as is
		transfer("b-1", opEUR, provEUR, 2),
		transfer("b-2", provEUR, clrEUR, 3),
		transfer("b-1", opEUR, provEUR, 2), // repeated in the batch: one entry
	}
	out, err := l.PostBatch(ctx, batch)
	require.NoError(t, err)
	require.Len(t, out, 4)
	require.Equal(t, pre.ID, out[0].ID)
	require.Equal(t, out[1].ID, out[3].ID)
	require.NotEqual(t, out[1].ID, out[2].ID)
	require.Equal(t, int64(-3), balanceOf(t, l, opEUR))
	require.Equal(t, int64(0), balanceOf(t, l, provEUR))
	require.Equal(t, int64(3), balanceOf(t, l, clrEUR))

	// One conflicting entry refuses the whole batch.
	_, err = l.PostBatch(ctx, []ledger.EntryInput{transfer("b-3", opEUR, provEUR, 4), transfer("b-2", provEUR, clrEUR, 5)})
	require.Equal(t, tollgate.CodeConflict, tollgate.ErrorCode(err))
	_, err = l.PostBatch(ctx, []ledger.EntryInput{transfer("b-4", opEUR, provEUR, 4), transfer("b-4", opEUR, provEUR, 5)})
	require.Equal(t, tollgate.CodeConflict, tollgate.ErrorCode(err))
	_, err = l.GetEntry(ctx, out[2].ID+1)
	require.Equal(t, tollgate.CodeNotFound, tollgate.ErrorCode(err))
	requireVerified(t, l)
}

func TestReverse(t *testing.T) {
	t.Parallel()
	l, _, c := newLedger(t)
	ctx := t.Context()
	orig, err := l.Post(ctx, ledger.EntryInput{IdempotencyKey: "o", CycleID: "cy", Description: "d",
		Postings: []ledger.PostingInput{{Account: opEUR, Amount: -7}, {Account: provEUR, Amount: 5}, {Account: clrEUR, Amount: 2}}})
	require.NoError(t, err)

	c.t = t0.Add(time.Minute)
	rev, err := l.Reverse(ctx, orig.ID, "o/reverse", "posted twice")
	require.NoError(t, err)
	require.Equal(t, orig.ID, rev.ReversesID)
	require.Equal(t, "cy", rev.CycleID)
	require.Len(t, rev.Postings, 3)
	for i, p := range rev.Postings {
		require.Equal(t, orig.Postings[i].Account, p.Account)
		require.Equal(t, -orig.Postings[i].Amount, p.Amount)
	}
	for _, k := range []ledger.AccountKey{opEUR, provEUR, clrEUR} {
		require.Zero(t, balanceOf(t, l, k))
	}

	again, err := l.Reverse(ctx, orig.ID, "o/reverse", "posted twice")
	require.NoError(t, err)
	require.Equal(t, rev.ID, again.ID)

	_, err = l.Reverse(ctx, orig.ID, "o/reverse-2", "posted twice")
	require.Equal(t, tollgate.CodeConflict, tollgate.ErrorCode(err))
	require.Contains(t, err.Error(), "already reversed")
	_, err = l.Reverse(ctx, orig.ID, "o/reverse", "another reason")
	require.Equal(t, tollgate.CodeConflict, tollgate.ErrorCode(err))
	_, err = l.Reverse(ctx, rev.ID, "rr", "undo")
	require.Equal(t, tollgate.CodeInvalid, tollgate.ErrorCode(err))
	_, err = l.Reverse(ctx, orig.ID+100, "x", "gone")
	require.Equal(t, tollgate.CodeNotFound, tollgate.ErrorCode(err))
	_, err = l.Reverse(ctx, orig.ID, "y", "")
	require.Equal(t, tollgate.CodeInvalid, tollgate.ErrorCode(err))
	requireVerified(t, l)
}
