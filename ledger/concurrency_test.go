package ledger_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/internal/testdb"
	"github.com/tollgate/tollgate/ledger"
)

// widePool is a pool with room for every concurrent writer, so writers
// really race in PostgreSQL rather than queue for a connection in Go.
func widePool(t testing.TB, conns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testdb.URL(t))
	require.NoError(t, err)
	cfg.MaxConns = conns
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

func TestConcurrentWritersOnHotAccount(t *testing.T) {
	t.Parallel()
	const writers, perWriter = 32, 15
	pool := widePool(t, writers+2)
	l := ledger.New(pool)
	ctx := t.Context()

	hot := opEUR
	others := []ledger.AccountKey{provEUR, clrEUR, acct("prov-2", ledger.PurposeProviderReceivable, "EUR"), acct("fx", ledger.PurposeFXRevaluation, "EUR")}

	var (
		mu   sync.Mutex
		want = map[ledger.AccountKey]int64{}
		wg   sync.WaitGroup
		errs = make(chan error, writers*(perWriter+2))
		ids  = make(chan int64, writers)
	)
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			<-start
			for i := range perWriter {
				// Three or more legs in a shuffled order, so writers name
				// the same accounts in different orders and only the
				// ledger's sorted locking keeps them from deadlocking.
				legs := []ledger.PostingInput{}
				total := int64(0)
				for _, k := range others {
					if rng.IntN(2) == 0 {
						amt := int64(rng.IntN(10_000) + 1)
						legs = append(legs, ledger.PostingInput{Account: k, Amount: amt})
						total += amt
					}
				}
				if len(legs) == 0 {
					legs = append(legs, ledger.PostingInput{Account: others[0], Amount: 1})
					total = 1
				}
				legs = append(legs, ledger.PostingInput{Account: hot, Amount: -total})
				rng.Shuffle(len(legs), func(i, j int) { legs[i], legs[j] = legs[j], legs[i] })
				in := ledger.EntryInput{IdempotencyKey: fmt.Sprintf("w%d-%d", w, i), Description: "race", Postings: legs}
				if _, err := l.Post(ctx, in); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, p := range legs {
					want[p.Account] += p.Amount
				}
				mu.Unlock()
			}
			// Every writer also retries one shared key: one entry results.
			e, err := l.Post(ctx, transfer("shared", provEUR, hot, 5))
			if err != nil {
				errs <- err
				return
			}
			ids <- e.ID
			// And races a key whose content differs per writer: one wins.
			_, err = l.Post(ctx, transfer("contested", provEUR, hot, int64(w+1)))
			if err != nil {
				errs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	close(ids)

	conflicts := 0
	for err := range errs {
		require.Equal(t, tollgate.CodeConflict, tollgate.ErrorCode(err), err.Error())
		conflicts++
	}
	require.Equal(t, writers-1, conflicts)
	var shared int64
	for id := range ids {
		if shared == 0 {
			shared = id
		}
		require.Equal(t, shared, id)
	}
	var won int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT p.amount FROM ledger_postings p
JOIN ledger_entries e ON e.id = p.entry_id WHERE e.idempotency_key = 'contested' AND p.amount > 0`).Scan(&won))
	require.NotZero(t, won)
	want[provEUR] += -5 - won
	want[hot] += 5 + won

	for k, v := range want {
		require.Equal(t, v, balanceOf(t, l, k), k)
	}
	r := requireVerified(t, l)
	require.Equal(t, int64(writers*perWriter+2), r.Entries)
}
