package store_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store"
)

// genRows makes n deterministic rows over several currencies and kinds.
func genRows(n int, seed uint64) []json.RawMessage {
	r := rand.New(rand.NewPCG(seed, seed))
	curs := []string{"EUR", "USD", "JPY", "KWD"}
	kinds := []string{"charge", "charge", "charge", "payout", "adjustment"}
	out := make([]json.RawMessage, n)
	for i := range out {
		cur := curs[r.IntN(len(curs))]
		exp := map[string]int{"EUR": 2, "USD": 2, "JPY": 0, "KWD": 3}[cur]
		units := r.Int64N(100000) + 1
		kind := kinds[r.IntN(len(kinds))]
		if kind == "adjustment" && r.IntN(2) == 0 {
			units = -units
		}
		amt := tollgate.FromMinorUnits(units, tollgate.Currency(cur)).StringFixed(int32(exp))
		out[i] = row(fmt.Sprintf("tx-%07d", i), kind, amt, cur, t0.Add(time.Duration(r.IntN(3*24*60))*time.Minute))
	}
	return out
}

func batches(rows []json.RawMessage, size int) [][]json.RawMessage {
	var out [][]json.RawMessage
	for len(rows) > 0 {
		n := min(size, len(rows))
		out = append(out, rows[:n])
		rows = rows[n:]
	}
	return out
}

func addRates(t *testing.T, st *store.Store) {
	for _, r := range []tollgate.FXRate{
		{Base: "USD", Quote: "EUR", Rate: "0.92", AsOf: t0.Add(-time.Hour), Source: "test"},
		{Base: "JPY", Quote: "EUR", Rate: "0.0061", AsOf: t0.Add(-time.Hour), Source: "test"},
		{Base: "KWD", Quote: "EUR", Rate: "2.99", AsOf: t0.Add(-time.Hour), Source: "test"},
	} {
		_, err := st.AddRate(t.Context(), r)
		require.NoError(t, err)
	}
}

// Posting the same transactions three times, shuffled and in parallel
// batches, gives exactly the position of posting them once; duplicates and
// conflicts are counted exactly and conflicts are dead-lettered.
func TestIngestThreeTimesShuffledEqualsOnce(t *testing.T) {
	t.Parallel()
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	rows := genRows(n, 7)

	once := newFixture(t)
	addRates(t, once.st)
	for _, b := range batches(rows, 1000) {
		require.Equal(t, len(b), ingest(t, once.st, b...).Accepted)
	}
	want := mustPosition(t, once, "c-1")
	require.Equal(t, int64(n), want.Transactions)

	thrice := newFixture(t)
	addRates(t, thrice.st)
	// In the third pass every 1000th row comes with a changed amount: a
	// conflict that must be rejected and dead-lettered, not applied.
	conflicts := map[int]bool{}
	var accepted, dups, rejected int
	var mu sync.Mutex
	for pass := 0; pass < 3; pass++ {
		idx := rand.New(rand.NewPCG(uint64(pass), 1)).Perm(n)
		shuffled := make([]json.RawMessage, n)
		for i, j := range idx {
			shuffled[i] = rows[j]
			if pass == 2 && j%1000 == 0 {
				var m map[string]any
				require.NoError(t, json.Unmarshal(rows[j], &m))
				m["metadata"] = map[string]any{"changed": true}
				shuffled[i], _ = json.Marshal(m)
				conflicts[j] = true
			}
		}
		var wg sync.WaitGroup
		work := make(chan []json.RawMessage)
		for w := 0; w < 4; w++ {
			wg.Go(func() {
				for b := range work {
					res, err := thrice.st.Ingest(t.Context(), b, "test", "")
					require.NoError(t, err)
					mu.Lock()
					accepted += res.Accepted
					dups += res.Duplicates
					rejected += len(res.Rejected)
					for _, r := range res.Rejected {
						require.Equal(t, tollgate.ReasonConflict, r.Reason)
					}
					mu.Unlock()
				}
			})
		}
		for _, b := range batches(shuffled, 1000) {
			work <- b
		}
		close(work)
		wg.Wait()
	}
	require.Equal(t, n, accepted)
	require.Equal(t, len(conflicts), rejected)
	require.Equal(t, 2*n-len(conflicts), dups)

	got := mustPosition(t, thrice, "c-1")
	got.AsOf, want.AsOf = time.Time{}, time.Time{}
	require.Equal(t, want, got)

	dls, _, err := thrice.st.ListDeadLetters(t.Context(), store.DeadLetterFilter{Reason: tollgate.ReasonConflict, Page: store.Page{Limit: 1000}})
	require.NoError(t, err)
	require.Len(t, dls, len(conflicts))
}

// Ingest racing cycle closes never lands a row in a claimed bucket: every
// cycle's claimed totals stay what its close saw, and every accepted row is
// in exactly one cycle or still open.
func TestIngestRacingClose(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	addRates(t, f.st)
	n := 20_000
	if testing.Short() {
		n = 5_000
	}
	rows := genRows(n, 11)
	var wg sync.WaitGroup
	work := make(chan []json.RawMessage)
	for w := 0; w < 3; w++ {
		wg.Go(func() {
			for b := range work {
				_, err := f.st.Ingest(t.Context(), b, "test", "")
				require.NoError(t, err)
			}
		})
	}
	var snaps []tollgate.CycleSnapshot
	closer := make(chan struct{})
	go func() {
		defer close(closer)
		for i := 1; i <= 12; i++ {
			end := t0.Add(time.Duration(i) * 6 * time.Hour)
			snap, err := f.st.CloseCycle(t.Context(), tollgate.CloseRequest{CycleID: fmt.Sprintf("cy-%02d", i), ContractID: "c-1", PeriodEnd: end})
			require.NoError(t, err)
			snaps = append(snaps, snap)
		}
	}()
	for _, b := range batches(rows, 500) {
		work <- b
	}
	close(work)
	wg.Wait()
	<-closer

	var total int64
	for _, s := range snaps {
		again, err := f.st.CloseCycle(t.Context(), tollgate.CloseRequest{CycleID: s.CycleID, ContractID: "c-1", PeriodEnd: s.PeriodEnd})
		require.NoError(t, err)
		require.Equal(t, s.Transactions, again.Transactions, "close is idempotent")
		var inBuckets int64
		require.NoError(t, f.st.Pool().QueryRow(t.Context(),
			`SELECT COALESCE(sum(tx_count), 0)::bigint FROM bucket_totals WHERE cycle_id = $1`, s.CycleID).Scan(&inBuckets))
		require.Equal(t, s.Transactions, inBuckets, "no row landed in %s after it closed", s.CycleID)
		total += s.Transactions
	}
	open := mustPosition(t, f, "c-1").Transactions
	require.Equal(t, int64(n), total+open, "every row is in exactly one cycle or open")

	// Buckets always equal the rows they aggregate.
	var mismatches int
	require.NoError(t, f.st.Pool().QueryRow(t.Context(), `
		SELECT count(*) FROM (
			SELECT contract_id, slot, currency, count(*) AS n, sum(amount) FILTER (WHERE kind = 'charge') AS c
			FROM transactions GROUP BY 1, 2, 3) t
		FULL JOIN bucket_totals b USING (contract_id, slot, currency)
		WHERE t.n IS DISTINCT FROM b.tx_count OR COALESCE(t.c, 0) <> b.charge_sum`).Scan(&mismatches))
	require.Zero(t, mismatches)
}

// A row that occurred in a closed period lands in the open bucket marked
// late and is settled by the next cycle; a rejected cycle's rows and carry
// return to the next cycle.
func TestLateRowsReleaseAndCarry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	ingest(t, f.st, row("a", "charge", "100.00", "EUR", t0.Add(time.Hour)), row("b", "charge", "50.00", "EUR", t0.Add(25*time.Hour)))
	s1, err := f.st.CloseCycle(ctx, tollgate.CloseRequest{CycleID: "cy-1", ContractID: "c-1", PeriodEnd: t0.Add(24 * time.Hour)})
	require.NoError(t, err)
	require.Equal(t, int64(1), s1.Transactions)

	ingest(t, f.st, row("late", "payout", "500.00", "EUR", t0.Add(2*time.Hour)))
	list, _, err := f.st.ListTransactions(ctx, store.TransactionFilter{ProviderID: "pv-1"})
	require.NoError(t, err)
	for _, tx := range list {
		require.Equal(t, tx.ExternalID == "late", tx.Late, tx.ExternalID)
	}
	_, err = f.st.CloseCycle(ctx, tollgate.CloseRequest{CycleID: "cy-0", ContractID: "c-1", PeriodEnd: t0.Add(12 * time.Hour)})
	require.Equal(t, tollgate.CodeConflict, tollgate.ErrorCode(err), "a period before closed_through cannot be closed again")

	require.NoError(t, f.st.CompleteCycle(ctx, "cy-1", "0"))
	s2, err := f.st.CloseCycle(ctx, tollgate.CloseRequest{CycleID: "cy-2", ContractID: "c-1", PeriodEnd: t0.Add(48 * time.Hour)})
	require.NoError(t, err)
	require.Equal(t, int64(2), s2.Transactions)
	require.Equal(t, int64(1), s2.Late)
	require.Equal(t, "-450", s2.Totals[0].NetRevenue().String())
	require.NoError(t, f.st.CompleteCycle(ctx, "cy-2", "-450.00"))
	require.NoError(t, f.st.CompleteCycle(ctx, "cy-2", "-450.00"), "idempotent")

	// The next cycle takes the carry; rejecting it hands rows and carry back.
	ingest(t, f.st, row("c", "charge", "1000.00", "EUR", t0.Add(49*time.Hour)))
	s3, err := f.st.CloseCycle(ctx, tollgate.CloseRequest{CycleID: "cy-3", ContractID: "c-1", PeriodEnd: t0.Add(72 * time.Hour)})
	require.NoError(t, err)
	require.Equal(t, "-450", s3.CarryIn)
	require.Equal(t, "0.00", mustPosition(t, f, "c-1").CarryIn, "the carry is held by the open cycle")
	require.NoError(t, f.st.ReleaseCycle(ctx, "cy-3", "c-1"))
	require.NoError(t, f.st.ReleaseCycle(ctx, "cy-3", "c-1"), "idempotent")
	p := mustPosition(t, f, "c-1")
	require.Equal(t, int64(1), p.Transactions)
	require.Equal(t, "-450.00", p.CarryIn)
	s4, err := f.st.CloseCycle(ctx, tollgate.CloseRequest{CycleID: "cy-4", ContractID: "c-1", PeriodEnd: t0.Add(96 * time.Hour)})
	require.NoError(t, err)
	require.Equal(t, int64(1), s4.Transactions)
	require.Equal(t, "-450", s4.CarryIn)
}

// A cycle released before (or while) its close runs claims nothing, and
// overlapping close attempts agree on one snapshot.
func TestCloseAfterReleaseAndOverlappingCloses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	ingest(t, f.st, row("a", "charge", "10.00", "EUR", t0), row("b", "charge", "20.00", "EUR", t0.Add(time.Minute)))
	end := t0.Add(time.Hour)

	require.NoError(t, f.st.ReleaseCycle(ctx, "cy-gone", "c-1"))
	_, err := f.st.CloseCycle(ctx, tollgate.CloseRequest{CycleID: "cy-gone", ContractID: "c-1", PeriodEnd: end})
	require.Equal(t, tollgate.CodeConflict, tollgate.ErrorCode(err))
	require.Equal(t, int64(2), mustPosition(t, f, "c-1").Transactions, "nothing was claimed")

	var wg sync.WaitGroup
	snaps := make([]tollgate.CycleSnapshot, 4)
	for i := range snaps {
		wg.Go(func() {
			s, err := f.st.CloseCycle(ctx, tollgate.CloseRequest{CycleID: "cy-1", ContractID: "c-1", PeriodEnd: end})
			require.NoError(t, err)
			snaps[i] = s
		})
	}
	wg.Wait()
	for _, s := range snaps {
		require.Equal(t, int64(2), s.Transactions)
		require.Equal(t, snaps[0].ClosedAt, s.ClosedAt, "one close, one snapshot")
	}
}

// A row repeated in one batch shares its first copy's verdict.
func TestInBatchCopiesShareTheVerdict(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ingest(t, f.st, row("k", "charge", "10.00", "EUR", t0))
	changed := row("k", "charge", "11.00", "EUR", t0)
	res := ingest(t, f.st, changed, changed, row("new", "charge", "1.00", "EUR", t0), row("new", "charge", "1.00", "EUR", t0))
	require.Equal(t, 1, res.Accepted)
	require.Equal(t, 1, res.Duplicates, "the copy of the accepted row")
	require.Len(t, res.Rejected, 2, "the conflicting row and its copy")
	require.Equal(t, []int{0, 1}, []int{res.Rejected[0].Index, res.Rejected[1].Index})
	for _, r := range res.Rejected {
		require.Equal(t, tollgate.ReasonConflict, r.Reason)
	}
}

// A dead-lettered row keeps its JSON (an emoji escaped as a surrogate pair
// included), so it can be replayed once its cause is fixed.
func TestDeadLetterWithSurrogatePairReplays(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	raw := json.RawMessage(`{"provider_id":"pv-1","operator_id":"op-2","external_id":"emoji","kind":"charge","amount":"1.00",` +
		`"currency":"EUR","occurred_at":"2026-03-01T00:00:00Z","metadata":{"note":"\ud83d\ude00"}}`)
	res := ingest(t, f.st, raw)
	require.Equal(t, tollgate.ReasonNoContract, res.Rejected[0].Reason)
	_, err := f.st.CreateParty(t.Context(), tollgate.Party{ID: "op-2", Kind: "operator", Name: "Op 2", Currency: "EUR"})
	require.NoError(t, err)
	_, err = f.st.CreateContract(t.Context(), sampleContract("c-2", "op-2", "pv-1"), "alice")
	require.NoError(t, err)
	dls, _, err := f.st.ListDeadLetters(t.Context(), store.DeadLetterFilter{Reason: tollgate.ReasonNoContract})
	require.NoError(t, err)
	require.Len(t, dls, 1)
	rr, err := f.st.ReplayDeadLetter(t.Context(), dls[0].ID, nil, "bob")
	require.NoError(t, err)
	require.Equal(t, 1, rr.Ingest.Accepted, "%+v", rr.Ingest.Rejected)
	require.Equal(t, "replayed", rr.DeadLetter.Status)
}
