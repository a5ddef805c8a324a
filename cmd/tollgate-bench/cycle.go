package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tollgate/tollgate/internal/devstack"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/workflows"
)

// runCycle measures docs/architecture.md §7's cycle targets on the real stack (embedded
// Temporal, PostgreSQL, worker): the time from a cycle's start at the cutoff
// to awaiting_approval over N ingested transactions, and the time from start
// to completed for an auto-approved cycle with the simulated bank.
func runCycle(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("cycle", flag.ContinueOnError)
	n := fs.Int("n", 1000000, "transactions in the big cycle")
	runs := fs.Int("runs", 5, "auto-approved cycles to time")
	if err := fs.Parse(args); err != nil {
		return err
	}
	url, stop, err := database(ctx, fs)
	if err != nil {
		return err
	}
	defer stop()
	stack, err := devstack.Start(ctx, devstack.Config{DatabaseURL: url, APIAddr: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	defer stack.Stop()
	st := store.New(stack.Pool, nil)
	if err := seedContracts(ctx, st); err != nil {
		return err
	}
	fmt.Printf("bench: machine: %s\n", machine())

	// Ingest N rows for contract c-0 (needs approval: limit 1000.00, total far above).
	start := time.Now().UTC().Add(-26 * time.Hour).Truncate(time.Hour)
	rows := genBenchRows(*n, start)
	for i := range rows {
		rows[i].ProviderID = "pv-0"
	}
	t0 := time.Now()
	var done atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	next := atomic.Int64{}
	const batch = 5000
	for w := 0; w < 2; w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(batch)) - batch
				if i >= len(rows) {
					return
				}
				raws := make([]json.RawMessage, 0, batch)
				for _, r := range rows[i:min(i+batch, len(rows))] {
					b, _ := json.Marshal(r)
					raws = append(raws, b)
				}
				res, err := st.Ingest(ctx, raws, "bench", "")
				if err != nil || len(res.Rejected) > 0 {
					errc <- fmt.Errorf("ingest: %v %v", err, res.Rejected)
					return
				}
				if d := done.Add(int64(res.Accepted)); d%100000 < batch {
					fmt.Printf("bench: ... ingested %d/%d\n", d, *n)
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	fmt.Printf("bench: ingested %d transactions in %s\n", *n, time.Since(t0).Round(time.Millisecond))

	cutoff := time.Now().UTC().Truncate(time.Minute)
	d, err := timeCycle(ctx, stack, "c-0", cutoff, workflows.StatusAwaitingApproval)
	if err != nil {
		return err
	}
	fmt.Printf("bench: cycle over %d transactions: start -> awaiting_approval in %s (target <= 1s)\n", *n, d.Round(time.Millisecond))

	// Auto-approved cycles: a few transactions each, total under the limit.
	var worst, sum time.Duration
	for i := 0; i < *runs; i++ {
		end := cutoff.Add(-time.Duration(*runs-i) * time.Minute)
		raw, _ := json.Marshal(benchRow{ProviderID: "pv-1", OperatorID: "op-1", ExternalID: fmt.Sprintf("auto-%d", i),
			Kind: "charge", Amount: "100.00", Currency: "EUR", OccurredAt: end.Add(-30 * time.Second).Format(time.RFC3339)})
		if _, err := st.Ingest(ctx, []json.RawMessage{raw}, "bench", ""); err != nil {
			return err
		}
		d, err := timeCycle(ctx, stack, "c-1", end, workflows.StatusCompleted)
		if err != nil {
			return err
		}
		sum += d
		worst = max(worst, d)
	}
	fmt.Printf("bench: auto-approved cycle start -> completed (simulated payout): mean %s, worst %s over %d runs (target <= 2s)\n",
		(sum / time.Duration(*runs)).Round(time.Millisecond), worst.Round(time.Millisecond), *runs)
	return nil
}

// timeCycle starts a cycle and polls the read model until it reaches want.
func timeCycle(ctx context.Context, stack *devstack.Stack, contractID string, end time.Time, want string) (time.Duration, error) {
	id := workflows.CycleID(contractID, end)
	c, err := stack.Client.ExecuteWorkflow(ctx, startOptions(id), workflows.SettlementCycleWorkflowName,
		workflows.CycleInput{ContractID: contractID, PeriodEnd: end, InitiatedBy: "bench"})
	if err != nil {
		return 0, err
	}
	began := time.Now()
	_ = c
	deadline := began.Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		var status string
		err := stack.Pool.QueryRow(ctx, `SELECT status FROM cycles WHERE id = $1`, id).Scan(&status)
		if err == nil && status == want {
			return time.Since(began), nil
		}
		if status == workflows.StatusNeedsAttention {
			var rec []byte
			_ = stack.Pool.QueryRow(ctx, `SELECT record FROM cycles WHERE id = $1`, id).Scan(&rec)
			return 0, fmt.Errorf("cycle %s parked in needs_attention: %s", id, rec)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, fmt.Errorf("cycle %s did not reach %s", id, want)
}

func startOptions(id string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}
}
