package ledger_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate/ledger"
)

// Posting throughput. Results and the machine they ran on are recorded in
// docs/performance-ledger.md; run with
//
//	go test ./ledger -run '^$' -bench . -benchtime 2000x
//
// Each configuration gets its own database. "disjoint" writers touch only
// their own accounts, so they contend on nothing but the chain head; "hot"
// writers all debit one account, so they also queue on its row lock.
// "chain=off" disables the commit-time chain trigger to price the chain.

type benchSetup struct {
	writers int
	hot     bool
	chain   bool
}

func (s benchSetup) name() string {
	mode := "disjoint"
	if s.hot {
		mode = "hot"
	}
	chain := "on"
	if !s.chain {
		chain = "off"
	}
	return fmt.Sprintf("writers=%d/%s/chain=%s", s.writers, mode, chain)
}

func benchLedger(b *testing.B, s benchSetup) *ledger.Ledger {
	pool := widePool(b, int32(s.writers+2))
	if !s.chain {
		_, err := pool.Exec(b.Context(), `ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_20_chain`)
		require.NoError(b, err)
	}
	return ledger.New(pool)
}

func benchEntry(s benchSetup, w int, seq int64) ledger.EntryInput {
	from := acct(fmt.Sprint("w", w), ledger.PurposeOperatorPayable, "EUR")
	if s.hot {
		from = opEUR
	}
	to := acct(fmt.Sprint("w", w), ledger.PurposeProviderReceivable, "EUR")
	return transfer(fmt.Sprint("b", seq), from, to, (seq%997+997)%997+1)
}

// runWriters splits n operations among s.writers goroutines.
func runWriters(b *testing.B, s benchSetup, n int, op func(w int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, s.writers)
	for w := range s.writers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := op(w); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

func BenchmarkPost(b *testing.B) {
	for _, s := range []benchSetup{
		{1, false, true}, {8, false, true}, {32, false, true},
		{1, true, true}, {8, true, true}, {32, true, true},
		{1, false, false}, {8, false, false}, {32, false, false},
	} {
		b.Run(s.name(), func(b *testing.B) {
			l := benchLedger(b, s)
			var seq atomic.Int64
			// Create the accounts outside the timed loop.
			for w := range s.writers {
				_, err := l.Post(b.Context(), benchEntry(s, w, -seq.Add(1)))
				require.NoError(b, err)
			}
			b.ResetTimer()
			runWriters(b, s, b.N, func(w int) error {
				_, err := l.Post(b.Context(), benchEntry(s, w, seq.Add(1)))
				return err
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

func BenchmarkPostBatch(b *testing.B) {
	for _, size := range []int{10, 100} {
		for _, s := range []benchSetup{{1, false, true}, {8, false, true}, {8, true, true}} {
			b.Run(fmt.Sprintf("size=%d/%s", size, s.name()), func(b *testing.B) {
				l := benchLedger(b, s)
				var seq atomic.Int64
				for w := range s.writers {
					_, err := l.Post(b.Context(), benchEntry(s, w, -seq.Add(1)))
					require.NoError(b, err)
				}
				b.ResetTimer()
				runWriters(b, s, b.N, func(w int) error {
					batch := make([]ledger.EntryInput, size)
					for i := range batch {
						batch[i] = benchEntry(s, w, seq.Add(1))
					}
					_, err := l.PostBatch(b.Context(), batch)
					return err
				})
				b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "entries/s")
			})
		}
	}
}
