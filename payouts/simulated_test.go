package payouts_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/payouts"
)

func req(key string, amount int64) payouts.Request {
	return payouts.Request{IdempotencyKey: key, PayeeID: "prov-1", Amount: amount, Currency: "EUR"}
}

func TestSimulatedIsIdempotentAndPaysOnce(t *testing.T) {
	t.Parallel()
	bank := payouts.NewSimulated(payouts.SimulatedOptions{})
	var wg sync.WaitGroup
	refs := make([]string, 16)
	for i := range refs {
		wg.Go(func() {
			ref, err := bank.Initiate(t.Context(), req("cycle-a", 100))
			require.NoError(t, err)
			refs[i] = ref
		})
	}
	wg.Wait()
	for _, r := range refs {
		require.Equal(t, refs[0], r)
	}
	require.Equal(t, 1, bank.Count())
	other, err := bank.Initiate(t.Context(), req("cycle-b", 100))
	require.NoError(t, err)
	require.NotEqual(t, refs[0], other)
	require.Equal(t, 2, bank.Count())
}

func TestSimulatedDelayedConfirmation(t *testing.T) {
	t.Parallel()
	bank := payouts.NewSimulated(payouts.SimulatedOptions{PendingPolls: 2})
	ref, err := bank.Initiate(t.Context(), req("k", 5))
	require.NoError(t, err)
	for range 2 {
		res, err := bank.Status(t.Context(), ref)
		require.NoError(t, err)
		require.Equal(t, payouts.StatusPending, res.Status)
	}
	res, err := bank.Status(t.Context(), ref)
	require.NoError(t, err)
	require.Equal(t, payouts.StatusConfirmed, res.Status)
	// Confirmed stays confirmed.
	res, err = bank.Status(t.Context(), ref)
	require.NoError(t, err)
	require.Equal(t, payouts.StatusConfirmed, res.Status)
}

func TestSimulatedTransientThenSuccess(t *testing.T) {
	t.Parallel()
	bank := payouts.NewSimulated(payouts.SimulatedOptions{TransientFailures: 2})
	for range 2 {
		_, err := bank.Initiate(t.Context(), req("k", 5))
		require.Error(t, err)
		require.True(t, payouts.IsTransient(err), err)
		require.Equal(t, 0, bank.Count(), "a transient failure must have no effect")
	}
	_, err := bank.Initiate(t.Context(), req("k", 5))
	require.NoError(t, err)
	require.Equal(t, 1, bank.Count())
}

func TestSimulatedDefinitiveFailures(t *testing.T) {
	t.Parallel()
	bank := payouts.NewSimulated(payouts.SimulatedOptions{
		MaxAmount:      1000,
		DeclinedPayees: map[string]string{"blocked": "account closed"},
		ReturnedKeys:   map[string]string{"returned": "beneficiary unknown"},
	})
	_, err := bank.Initiate(t.Context(), req("big", 1001))
	require.Equal(t, tollgate.CodeConflict, tollgate.ErrorCode(err))
	require.False(t, payouts.IsTransient(err))
	require.ErrorContains(t, err, "exceeds the limit")

	r := req("p", 1)
	r.PayeeID = "blocked"
	_, err = bank.Initiate(t.Context(), r)
	require.ErrorContains(t, err, "account closed")
	require.False(t, payouts.IsTransient(err))

	bank.Decline("declined", "fraud check")
	_, err = bank.Initiate(t.Context(), req("declined", 1))
	require.ErrorContains(t, err, "fraud check")
	bank.Allow("declined")
	_, err = bank.Initiate(t.Context(), req("declined", 1))
	require.NoError(t, err, "a declined key paid nothing, so it may be tried again")

	ref, err := bank.Initiate(t.Context(), req("returned", 1))
	require.NoError(t, err)
	res, err := bank.Status(t.Context(), ref)
	require.NoError(t, err)
	require.Equal(t, payouts.Result{Status: payouts.StatusFailed, Reason: "beneficiary unknown"}, res)

	_, err = bank.Status(t.Context(), "sim-unknown")
	require.Equal(t, tollgate.CodeConflict, tollgate.ErrorCode(err))

	_, err = bank.Initiate(t.Context(), req("neg", -1))
	require.Equal(t, tollgate.CodeInvalid, tollgate.ErrorCode(err))
}

func TestSimulatedRandomFailuresAreReproducible(t *testing.T) {
	t.Parallel()
	run := func() []bool {
		bank := payouts.NewSimulated(payouts.SimulatedOptions{Rand: rand.New(rand.NewPCG(1, 2)), TransientPercent: 50})
		var out []bool
		for i := range 40 {
			_, err := bank.Initiate(t.Context(), req(fmt.Sprint("k", i), 1))
			out = append(out, err == nil)
		}
		return out
	}
	a, b := run(), run()
	require.Equal(t, a, b)
	require.Contains(t, a, true)
	require.Contains(t, a, false)
}

func TestSimulatedLatencyRespectsContext(t *testing.T) {
	t.Parallel()
	bank := payouts.NewSimulated(payouts.SimulatedOptions{Latency: 1 << 40})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := bank.Initiate(ctx, req("k", 1))
	require.True(t, payouts.IsTransient(err))
	require.Equal(t, 0, bank.Count())
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	reg := payouts.Registry{payouts.SimulatedName: payouts.NewSimulated(payouts.SimulatedOptions{})}
	a, err := reg.Get("simulated")
	require.NoError(t, err)
	require.NotNil(t, a)
	_, err = reg.Get("swift")
	require.Equal(t, tollgate.CodeInvalid, tollgate.ErrorCode(err))
	require.ErrorContains(t, err, "known: simulated")
}
