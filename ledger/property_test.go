package ledger_test

import (
	"fmt"
	"maps"
	"slices"
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

// netByAccount sums legs per account (and so per currency), times sign.
func netByAccount(legs []ledger.PostingInput, sign int64) map[ledger.AccountKey]int64 {
	out := map[ledger.AccountKey]int64{}
	for _, p := range legs {
		out[p.Account] += sign * p.Amount
	}
	return out
}

func committedLegs(e ledger.Entry) []ledger.PostingInput {
	legs := make([]ledger.PostingInput, len(e.Postings))
	for i, p := range e.Postings {
		legs[i] = ledger.PostingInput{Account: p.Account, Amount: p.Amount}
	}
	return legs
}

// TestPropertyBooksAlwaysBalance runs random programs of posts, batches,
// retries and reversals against one database. Every expectation comes from
// the inputs the program sent, never from what the ledger returned: a
// reversal, as returned and as stored, is per account the exact negation of
// the postings sent for its entry, and moves each balance back by exactly
// that; posting an entry and reversing it leaves every balance as it was;
// after every program each balance has moved exactly as the inputs add up
// to, each stored balance equals its postings, the trial balance is zero
// per currency and Verify passes.
func TestPropertyBooksAlwaysBalance(t *testing.T) {
	t.Parallel()
	l, pool, _ := newLedger(t)
	ctx := t.Context()
	run := 0
	total, reversals := 0, 0

	rapid.Check(t, func(rt *rapid.T) {
		run++
		// balances reads every balance in one query; an account that does
		// not exist yet has balance 0.
		balances := func(keys []ledger.AccountKey) map[ledger.AccountKey]int64 {
			all := map[ledger.AccountKey]int64{}
			rows, err := pool.Query(ctx, `SELECT party_id, purpose, currency, balance FROM ledger_accounts`)
			require.NoError(rt, err)
			for rows.Next() {
				var k ledger.AccountKey
				var bal int64
				require.NoError(rt, rows.Scan(&k.PartyID, &k.Purpose, &k.Currency, &bal))
				all[k] = bal
			}
			require.NoError(rt, rows.Err())
			out := map[ledger.AccountKey]int64{}
			for _, k := range keys {
				out[k] = all[k]
			}
			return out
		}
		before := balances(propAccounts)
		model := map[ledger.AccountKey]int64{}
		apply := func(legs []ledger.PostingInput, sign int64) {
			for k, v := range netByAccount(legs, sign) {
				model[k] += v
			}
		}
		sent := map[int64]ledger.EntryInput{} // plain entries by ID, as the program sent them
		reversal := map[int64]int64{}         // an original's ID -> its reversal's ID
		var plain, all []int64                // IDs; all includes reversals
		record := func(in ledger.EntryInput, e ledger.Entry) {
			apply(in.Postings, 1)
			sent[e.ID] = in
			plain, all = append(plain, e.ID), append(all, e.ID)
		}
		// reverse reverses a plain entry for the first time and checks the
		// reversal against the negation of the postings sent for it.
		reverse := func(id int64) {
			in := sent[id]
			want := netByAccount(in.Postings, -1)
			keys := slices.Collect(maps.Keys(want))
			was := balances(keys)
			rev, err := l.Reverse(ctx, id, fmt.Sprintf("rev-%d", id), "property")
			require.NoError(rt, err)
			require.Equal(rt, id, rev.ReversesID)
			require.Equal(rt, want, netByAccount(committedLegs(rev), 1), "reversal of entry %d as returned", id)
			stored, err := l.GetEntry(ctx, rev.ID)
			require.NoError(rt, err)
			require.Equal(rt, id, stored.ReversesID)
			require.Equal(rt, want, netByAccount(committedLegs(stored), 1), "reversal of entry %d as stored", id)
			now := balances(keys)
			for _, k := range keys {
				require.Equal(rt, was[k]+want[k], now[k], "balance of %v after reversing entry %d", k, id)
			}
			apply(in.Postings, -1)
			reversal[id] = rev.ID
			all = append(all, rev.ID)
			reversals++
		}
		n := 0
		key := func() string { n++; return fmt.Sprintf("r%d-%d", run, n) }

		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for range steps {
			switch op := rapid.IntRange(0, 10).Draw(rt, "op"); {
			case op < 5:
				in := genEntry(rt, key())
				e, err := l.Post(ctx, in)
				require.NoError(rt, err)
				record(in, e)
			case op < 7:
				var batch []ledger.EntryInput
				for range rapid.IntRange(1, 30).Draw(rt, "batch") {
					batch = append(batch, genEntry(rt, key()))
				}
				out, err := l.PostBatch(ctx, batch)
				require.NoError(rt, err)
				require.Len(rt, out, len(batch))
				for i, e := range out {
					record(batch[i], e)
				}
			case op == 7 && len(plain) > 0:
				id := rapid.SampledFrom(plain).Draw(rt, "retry")
				e, err := l.Post(ctx, sent[id])
				require.NoError(rt, err)
				require.Equal(rt, id, e.ID)
			case op == 8:
				// Post and reverse at once: every balance the entry touched
				// is back where it was.
				in := genEntry(rt, key())
				keys := slices.Collect(maps.Keys(netByAccount(in.Postings, 1)))
				was := balances(keys)
				e, err := l.Post(ctx, in)
				require.NoError(rt, err)
				record(in, e)
				reverse(e.ID)
				require.Equal(rt, was, balances(keys), "balances after posting and reversing entry %d", e.ID)
			case len(all) > 0:
				id := rapid.SampledFrom(all).Draw(rt, "reverse")
				_, isPlain := sent[id]
				switch {
				case !isPlain:
					_, err := l.Reverse(ctx, id, fmt.Sprintf("rev-%d", id), "property")
					require.Equal(rt, tollgate.CodeInvalid, tollgate.ErrorCode(err))
				case reversal[id] != 0:
					rev, err := l.Reverse(ctx, id, fmt.Sprintf("rev-%d", id), "property")
					require.NoError(rt, err) // same key: the same reversal back
					require.Equal(rt, reversal[id], rev.ID)
				default:
					reverse(id)
				}
			}
		}
		total += len(all)

		after := balances(propAccounts)
		for _, k := range propAccounts {
			require.Equal(rt, before[k]+model[k], after[k], k)
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
	t.Logf("posted %d entries and reversals (%d reversals checked) in %d programs", total, reversals, run)
	require.GreaterOrEqual(t, total, 1000)
	require.GreaterOrEqual(t, reversals, 100)
}
