package devstack_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/internal/devtemporal"
	"github.com/tollgate/tollgate/internal/testdb"
	"github.com/tollgate/tollgate/internal/testwait"
	"github.com/tollgate/tollgate/payouts"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/workflows"
)

// TestWorkerKilledMidPayout runs the production worker binary as a separate
// process, SIGKILLs it while the bank is answering the payout instruction,
// starts a new worker, and checks the cycle completes exactly once: one
// ledger posting, one payment at the bank.
func TestWorkerKilledMidPayout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for an activity timeout after the kill")
	}
	bin := filepath.Join(t.TempDir(), "tollgate")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/tollgate")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	dbURL := testdb.URL(t)
	pool, err := pgxpool.New(t.Context(), dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	ts, err := devtemporal.Start(t.Context(), devtemporal.Options{SearchAttributes: workflows.SearchAttributes()})
	require.NoError(t, err)
	t.Cleanup(ts.Stop)
	tc, err := client.Dial(client.Options{HostPort: ts.HostPort(), Namespace: ts.Namespace()})
	require.NoError(t, err)
	t.Cleanup(tc.Close)

	// The bank lives in this process. The first instruction is accepted and
	// recorded, then its answer is held back until the worker is killed.
	bank := payouts.NewSimulated(payouts.SimulatedOptions{})
	inner := payouts.SimulatedServer(bank)
	received := make(chan struct{})
	var posts atomic.Int32
	bankSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && posts.Add(1) == 1 {
			rec := httptest.NewRecorder()
			inner.ServeHTTP(rec, r)
			close(received)
			<-r.Context().Done() // the worker dies before it hears the answer
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(bankSrv.Close)

	st := store.New(pool, nil)
	ctx := t.Context()
	_, err = st.CreateParty(ctx, tollgate.Party{ID: "op-1", Kind: "operator", Name: "Operator", Currency: "EUR"})
	require.NoError(t, err)
	_, err = st.CreateParty(ctx, tollgate.Party{ID: "pv-1", Kind: "provider", Name: "Provider", Currency: "EUR"})
	require.NoError(t, err)
	var contract tollgate.Contract
	require.NoError(t, json.Unmarshal([]byte(`{"id":"c-1","operator_id":"op-1","provider_id":"pv-1","currency":"EUR","timezone":"UTC",
	 "schedule":{"every":"24h"},"grace_period":"0s",
	 "terms":{"effective_from":"2026-01-01T00:00:00Z","revenue_share":[{"up_to":null,"rate":"0.10"}],
	          "fee_per_charge":"0","minimum_guarantee":"0","cap":null,"carry_negative":true},
	 "approval":{"auto_approve_limit":"1000.00","approvals_required":1,"approval_timeout":"48h"},
	 "payout":{"adapter":"http"}}`), &contract))
	_, err = st.CreateContract(ctx, contract, "test")
	require.NoError(t, err)
	end := time.Now().UTC().Truncate(time.Minute)
	row, _ := json.Marshal(map[string]string{"provider_id": "pv-1", "operator_id": "op-1", "external_id": "t1", "kind": "charge",
		"amount": "1234.50", "currency": "EUR", "occurred_at": end.Add(-time.Hour).Format(time.RFC3339)})
	res, err := st.Ingest(ctx, []json.RawMessage{row}, "test", "")
	require.NoError(t, err)
	require.Equal(t, 1, res.Accepted)

	startWorker := func() *exec.Cmd {
		cmd := exec.Command(bin, "worker")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "TEMPORAL_ADDRESS="+ts.HostPort(),
			"TEMPORAL_NAMESPACE="+ts.Namespace(), "TOLLGATE_LOG_LEVEL=error",
			"TOLLGATE_PAYOUT_HTTP_URL="+bankSrv.URL+"/payouts", "TOLLGATE_PAYOUT_HTTP_STATUS_URL="+bankSrv.URL+"/payouts")
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		return cmd
	}
	w1 := startWorker()
	id := workflows.CycleID("c-1", end)
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue},
		workflows.SettlementCycleWorkflowName, workflows.CycleInput{ContractID: "c-1", PeriodEnd: end, InitiatedBy: "test"})
	require.NoError(t, err)

	select {
	case <-received:
	case <-time.After(testwait.Scale(t, 60*time.Second)):
		_ = w1.Process.Kill()
		t.Fatal("the payout instruction never reached the bank")
	}
	require.NoError(t, w1.Process.Signal(syscall.SIGKILL))
	_ = w1.Wait()

	w2 := startWorker()
	t.Cleanup(func() { _ = w2.Process.Signal(syscall.SIGTERM); _ = w2.Wait() })
	var result workflows.CycleResult
	require.NoError(t, run.Get(ctx, &result)) // the retry waits out the killed attempt's timeout
	require.Equal(t, workflows.StatusCompleted, result.Status)

	// Exactly once: one statement entry for the cycle, one payment.
	var entries int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE cycle_id = $1`, id).Scan(&entries))
	require.Equal(t, 1, entries, "one ledger posting")
	require.Equal(t, 1, bank.Count(), "one payment at the bank")
	require.GreaterOrEqual(t, posts.Load(), int32(2), "the new worker asked the bank again and got the same payment")
	p, ok := bank.Payment(id)
	require.True(t, ok, "the payment is keyed by the cycle ID")
	require.Equal(t, payouts.StatusConfirmed, p.Status)
	require.Equal(t, result.Payout.Reference, p.Reference)
	require.Equal(t, fmt.Sprint(result.TotalMinor), fmt.Sprint(p.Request.Amount))
}
