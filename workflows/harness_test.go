package workflows_test

import (
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/activities"
	"github.com/tollgate/tollgate/payouts"
	"github.com/tollgate/tollgate/worker"
	"github.com/tollgate/tollgate/workflows"
)

var (
	start     = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	contract  = "c-games"
	operator  = "op-1"
	provider  = "prov-1"
	initiator = "alice"
)

// quietLogger keeps the SDK's chatter, including the activity failures the
// tests provoke on purpose, out of test output.
var quietLogger = log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 4})))

// fixture is one settlement cycle under test: the real activities on
// in-memory fakes and the simulated bank.
type fixture struct {
	t        *testing.T
	env      *testsuite.TestWorkflowEnvironment
	store    *fakeStore
	recorder *fakeRecorder
	ledger   *fakeLedger
	bank     *payouts.Simulated
	acts     *activities.Activities
	id       string
	pending  int
}

// snapshot is a EUR contract sharing 10% of net revenue; chargeSum sets the
// total to a tenth of it. Totals up to 100.00 EUR are auto-approved.
func snapshot(chargeSum string) tollgate.CycleSnapshot {
	return tollgate.CycleSnapshot{
		OperatorID: operator, ProviderID: provider, Currency: "EUR",
		Terms: tollgate.Terms{EffectiveFrom: start.AddDate(-1, 0, 0), RevenueShare: []tollgate.Tier{{Rate: "0.10"}}},
		Approval: tollgate.ApprovalPolicy{AutoApproveLimit: "100.00", ApprovalsRequired: 1,
			ApprovalTimeout: tollgate.Duration(time.Hour)},
		Payout:       tollgate.PayoutConfig{Adapter: payouts.SimulatedName},
		Totals:       []tollgate.Totals{{Currency: "EUR", Charges: 3, ChargeSum: dec(chargeSum), Count: 3}},
		Transactions: 3,
	}
}

func newFixture(t *testing.T, snap tollgate.CycleSnapshot, bankOpts payouts.SimulatedOptions) *fixture {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(quietLogger)
	f := &fixture{
		t: t, env: suite.NewTestWorkflowEnvironment(), store: &fakeStore{snap: snap},
		recorder: &fakeRecorder{}, ledger: &fakeLedger{}, bank: payouts.NewSimulated(bankOpts),
		id: workflows.CycleID(contract, start),
	}
	f.acts = &activities.Activities{
		Cycles: f.store, Recorder: f.recorder, Ledger: f.ledger,
		Parties: fakeParties{operator: {ID: operator}, provider: {ID: provider}},
		Payouts: payouts.Registry{payouts.SimulatedName: f.bank},
		Clock:   func() time.Time { return start },
	}
	f.env.SetStartTime(start)
	f.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: f.id, TaskQueue: workflows.TaskQueue})
	worker.Register(f.env, f.acts)
	return f
}

func (f *fixture) run() workflows.CycleResult {
	f.env.ExecuteWorkflow(workflows.SettlementCycle, workflows.CycleInput{ContractID: contract, PeriodEnd: start, InitiatedBy: initiator})
	require.True(f.t, f.env.IsWorkflowCompleted())
	require.Zero(f.t, f.pending, "an update never finished")
	require.NoError(f.t, f.env.GetWorkflowError())
	var res workflows.CycleResult
	require.NoError(f.t, f.env.GetWorkflowResult(&res))
	return res
}

// at runs fn after d of workflow time.
func (f *fixture) at(d time.Duration, fn func()) { f.env.RegisterDelayedCallback(fn, d) }

// update sends an update; check sees its outcome once the workflow has
// handled it (nil error when accepted and completed). run fails the test if
// an update never finished.
func (f *fixture) update(name string, arg any, check func(workflows.ActionResult, error)) {
	f.pending++
	f.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { f.pending--; check(workflows.ActionResult{}, err) },
		OnComplete: func(v any, err error) {
			f.pending--
			var out workflows.ActionResult
			if err == nil {
				out = v.(workflows.ActionResult)
			}
			check(out, err)
		},
	}, arg)
}

// mustUpdate sends an update that must succeed.
func (f *fixture) mustUpdate(name string, arg any) {
	f.update(name, arg, func(_ workflows.ActionResult, err error) { require.NoError(f.t, err) })
}

// refused sends an update that must be refused with an error containing msg.
func (f *fixture) refused(name string, arg any, msg string) {
	f.update(name, arg, func(_ workflows.ActionResult, err error) { require.ErrorContains(f.t, err, msg) })
}

func (f *fixture) status() tollgate.CycleRecord {
	v, err := f.env.QueryWorkflow(workflows.QueryStatus)
	require.NoError(f.t, err)
	var rec tollgate.CycleRecord
	require.NoError(f.t, v.Get(&rec))
	return rec
}

func events(rec tollgate.CycleRecord) []string {
	var out []string
	for _, e := range rec.Timeline {
		out = append(out, e.Event)
	}
	return out
}

func eventDetail(rec tollgate.CycleRecord, name string) string {
	for _, e := range rec.Timeline {
		if e.Event == name {
			return e.Detail
		}
	}
	return ""
}

func approve(who string) workflows.Decision {
	return workflows.Decision{Approver: who, Comment: "looks right"}
}

func act(who string) workflows.OperatorAction { return workflows.OperatorAction{Actor: who} }
