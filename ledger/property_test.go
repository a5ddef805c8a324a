package ledger_test

import (
	"fmt"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/ledger"
)

// The account universe is small so entries collide on accounts often.
var propAccounts = func() []ledger.AccountKey {
	var out []ledger.AccountKey
	for _, party := range []string{"op-a", "prov-b", "prov-c"} {
		for _, p := range ledger.Purposes {
			for _, c := range []string{"EUR", "JPY", "KWD"} {
				out = append(out, acct(party, p, c))
			}
		}
	}
	return out
}()

// genEntry draws a balanced entry of one or two currencies.
func genEntry(t *rapid.T, key string) ledger.EntryInput {
	in := ledger.EntryInput{IdempotencyKey: key, Description: rapid.StringOfN(rapid.RuneFrom(nil, unicode.Letter, unicode.Digit, unicode.Space, unicode.Symbol), 0, 20, -1).Draw(t, "desc")}
	if rapid.Bool().Draw(t, "has_cycle") {
		in.CycleID = fmt.Sprint("cycle-", rapid.IntRange(1, 3).Draw(t, "cycle"))
	}
	currencies := rapid.SliceOfNDistinct(rapid.SampledFrom([]string{"EUR", "JPY", "KWD"}), 1, 2, rapid.ID).Draw(t, "currencies")
	for _, cur := range currencies {
		var inCur []ledger.AccountKey
		for _, k := range propAccounts {
			if string(k.Currency) == cur {
				inCur = append(inCur, k)
			}
		}
		legs := rapid.IntRange(2, 4).Draw(t, "legs")
		sum := int64(0)
		for i := range legs - 1 {
			amt := rapid.Int64Range(-1_000_000, 1_000_000).Filter(func(v int64) bool { return v != 0 }).Draw(t, fmt.Sprint("amt", i))
			in.Postings = append(in.Postings, ledger.PostingInput{Account: rapid.SampledFrom(inCur).Draw(t, "acct"), Amount: amt})
			sum += amt
		}
		if sum != 0 { // else the legs drawn already balance, and there are >= 2
			in.Postings = append(in.Postings, ledger.PostingInput{Account: rapid.SampledFrom(inCur).Draw(t, "acct"), Amount: -sum})
		}
	}
	return in
}

// TestPropertyBooksAlwaysBalance runs random programs of posts, batches,
// retries and reversals against one database. After every program, each
// balance has moved exactly as a model predicts, each stored balance equals
// its postings, the trial balance is zero per currency and Verify passes.
func TestPropertyBooksAlwaysBalance(t *testing.T) {
	t.Parallel()
	l, pool, _ := newLedger(t)
	ctx := t.Context()
	run := 0
	total := 0

	rapid.Check(t, func(rt *rapid.T) {
		run++
		before := map[ledger.AccountKey]int64{}
		for _, k := range propAccounts {
			if a, err := l.AccountByKey(ctx, k); err == nil {
				before[k] = a.Balance
			}
		}
		model := map[ledger.AccountKey]int64{}
		apply := func(e ledger.Entry) {
			for _, p := range e.Postings {
				model[p.Account] += p.Amount
			}
		}
		type sent struct {
			in ledger.EntryInput
			id int64
		}
		var posted []sent          // plain entries, which a retry must replay
		var entries []ledger.Entry // everything, reversals included
		reversed := map[int64]bool{}
		n := 0
		key := func() string { n++; return fmt.Sprintf("r%d-%d", run, n) }

		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for range steps {
			switch op := rapid.IntRange(0, 9).Draw(rt, "op"); {
			case op < 5:
				in := genEntry(rt, key())
				e, err := l.Post(ctx, in)
				require.NoError(rt, err)
				apply(e)
				posted, entries = append(posted, sent{in, e.ID}), append(entries, e)
			case op < 7:
				var batch []ledger.EntryInput
				for range rapid.IntRange(1, 30).Draw(rt, "batch") {
					batch = append(batch, genEntry(rt, key()))
				}
				out, err := l.PostBatch(ctx, batch)
				require.NoError(rt, err)
				for i, e := range out {
					apply(e)
					posted, entries = append(posted, sent{batch[i], e.ID}), append(entries, e)
				}
			case op == 7 && len(posted) > 0:
				i := rapid.IntRange(0, len(posted)-1).Draw(rt, "retry")
				e, err := l.Post(ctx, posted[i].in)
				require.NoError(rt, err)
				require.Equal(rt, posted[i].id, e.ID)
			case len(entries) > 0:
				i := rapid.IntRange(0, len(entries)-1).Draw(rt, "reverse")
				orig := entries[i]
				rev, err := l.Reverse(ctx, orig.ID, fmt.Sprintf("rev-%d", orig.ID), "property")
				switch {
				case orig.ReversesID != 0:
					require.Equal(rt, tollgate.CodeInvalid, tollgate.ErrorCode(err))
				case reversed[orig.ID]:
					require.NoError(rt, err) // same key: the same reversal back
				default:
					require.NoError(rt, err)
					require.Equal(rt, orig.ID, rev.ReversesID)
					reversed[orig.ID] = true
					apply(rev)
					entries = append(entries, rev)
				}
			}
		}
		total += len(entries)

		for _, k := range propAccounts {
			a, err := l.AccountByKey(ctx, k)
			if err != nil {
				require.Zero(rt, model[k], k)
				continue
			}
			require.Equal(rt, before[k]+model[k], a.Balance, k)
		}
		var bad int
		require.NoError(rt, pool.QueryRow(ctx, `SELECT count(*) FROM ledger_accounts a
WHERE a.balance <> (SELECT coalesce(sum(amount), 0) FROM ledger_postings p WHERE p.account_id = a.id)`).Scan(&bad))
		require.Zero(rt, bad)
		rows, err := pool.Query(ctx, `SELECT currency, sum(balance)::bigint FROM ledger_accounts GROUP BY currency`)
		require.NoError(rt, err)
		for rows.Next() {
			var cur string
			var sum int64
			require.NoError(rt, rows.Scan(&cur, &sum))
			require.Zero(rt, sum, cur)
		}
		require.NoError(rt, rows.Err())
		r, err := l.Verify(ctx)
		require.NoError(rt, err)
		require.Nil(rt, r.Break)
	})
	t.Logf("posted %d entries and reversals in %d programs", total, run)
	require.GreaterOrEqual(t, total, 1000)
}
