package store_test

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/internal/testdb"
	"github.com/tollgate/tollgate/store"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// fixture is a store with one operator, one provider and an active contract.
type fixture struct {
	st       *store.Store
	pool     *pgxpool.Pool
	now      time.Time
	contract tollgate.Contract
	secret   string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{now: t0.Add(30 * 24 * time.Hour)}
	f.pool = testdb.Pool(t)
	f.st = store.New(f.pool, func() time.Time { return f.now })
	ctx := t.Context()
	_, err := f.st.CreateParty(ctx, tollgate.Party{ID: "op-1", Kind: "operator", Name: "Operator", Currency: "EUR"})
	require.NoError(t, err)
	pv, err := f.st.CreateParty(ctx, tollgate.Party{ID: "pv-1", Kind: "provider", Name: "Provider", Currency: "EUR"})
	require.NoError(t, err)
	require.NotEmpty(t, pv.SigningSecret)
	f.secret = pv.SigningSecret
	f.contract = sampleContract("c-1", "op-1", "pv-1")
	_, err = f.st.CreateContract(ctx, f.contract, "alice")
	require.NoError(t, err)
	return f
}

func sampleContract(id, op, pv string) tollgate.Contract {
	var c tollgate.Contract
	err := json.Unmarshal([]byte(fmt.Sprintf(`{"id":%q,"operator_id":%q,"provider_id":%q,"currency":"EUR","timezone":"UTC",
	 "schedule":{"every":"24h"},"grace_period":"0s",
	 "terms":{"effective_from":"2026-01-01T00:00:00Z",
	          "revenue_share":[{"up_to":"100000.00","rate":"0.10"},{"up_to":null,"rate":"0.08"}],
	          "fee_per_charge":"0.01","minimum_guarantee":"500.00","cap":null,"carry_negative":true},
	 "approval":{"auto_approve_limit":"1000.00","approvals_required":2,"approval_timeout":"48h"},
	 "payout":{"adapter":"simulated"}}`, id, op, pv)), &c)
	if err != nil {
		panic(err)
	}
	return c
}

func row(ext, kind, amount, cur string, at time.Time) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"provider_id": "pv-1", "operator_id": "op-1", "external_id": ext,
		"kind": kind, "amount": amount, "currency": cur, "occurred_at": at.Format(time.RFC3339Nano)})
	return b
}

func ingest(t *testing.T, st *store.Store, rows ...json.RawMessage) tollgate.IngestResult {
	t.Helper()
	res, err := st.Ingest(t.Context(), rows, "test", "")
	require.NoError(t, err)
	return res
}

func mustPosition(t *testing.T, f *fixture, id string) tollgate.Position {
	t.Helper()
	p, err := api.LivePosition(t.Context(), f.st, id, f.now)
	require.NoError(t, err)
	return p
}

func TestIngestAcceptsDuplicatesAndConflicts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	res := ingest(t, f.st,
		row("a", "charge", "100.00", "EUR", t0),
		row("b", "payout", "30.5", "EUR", t0.Add(time.Minute)),
		row("c", "adjustment", "-2.25", "EUR", t0.Add(2*time.Minute)),
		row("a", "charge", "100.00", "EUR", t0), // same content in the same batch
	)
	require.Equal(t, 3, res.Accepted)
	require.Equal(t, 1, res.Duplicates)
	require.Empty(t, res.Rejected)

	res = ingest(t, f.st, row("a", "charge", "100", "EUR", t0), row("b", "payout", "31.00", "EUR", t0.Add(time.Minute)))
	require.Equal(t, 0, res.Accepted)
	require.Equal(t, 1, res.Duplicates, "100 and 100.00 are the same amount")
	require.Len(t, res.Rejected, 1)
	require.Equal(t, tollgate.ReasonConflict, res.Rejected[0].Reason)
	require.Equal(t, 1, res.Rejected[0].Index)

	dls, _, err := f.st.ListDeadLetters(t.Context(), store.DeadLetterFilter{ProviderID: "pv-1", Reason: tollgate.ReasonConflict})
	require.NoError(t, err)
	require.Len(t, dls, 1)
	require.Equal(t, "b", dls[0].ExternalID)
	require.Contains(t, string(dls[0].Payload), `"31.00"`)

	p := mustPosition(t, f, "c-1")
	require.Equal(t, int64(3), p.Transactions)
	require.Equal(t, "67.25", p.NetRevenue) // 100 - 30.50 - 2.25
}

func TestIngestRejectsBadRowsWithReasons(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	future := f.now.Add(10 * time.Minute)
	cases := []struct {
		row  string
		want string
	}{
		{`{"provider_id":"pv-1","operator_id":"op-1","external_id":"x","kind":"refund","amount":"1.00","currency":"EUR","occurred_at":"2026-03-01T00:00:00Z"}`, "kind"},
		{`{"provider_id":"pv-1","operator_id":"op-1","external_id":"x","kind":"charge","amount":1.00,"currency":"EUR","occurred_at":"2026-03-01T00:00:00Z"}`, "amount: must be a decimal string"},
		{`{"provider_id":"pv-1","operator_id":"op-1","external_id":"x","kind":"charge","amount":"1.001","currency":"EUR","occurred_at":"2026-03-01T00:00:00Z"}`, "decimals"},
		{`{"provider_id":"pv-1","operator_id":"op-1","external_id":"x","kind":"charge","amount":"-1","currency":"EUR","occurred_at":"2026-03-01T00:00:00Z"}`, "greater than zero"},
		{`{"provider_id":"pv-1","operator_id":"op-1","external_id":"x","kind":"charge","amount":"1","currency":"EURO","occurred_at":"2026-03-01T00:00:00Z"}`, "currency"},
		{`{"provider_id":"pv-1","operator_id":"op-1","external_id":"x","kind":"charge","amount":"1","currency":"JPY","occurred_at":"2026-03-01"}`, "occurred_at"},
		{`{"provider_id":"pv-1","operator_id":"op-1","external_id":"x","kind":"charge","amount":"1","currency":"EUR","occurred_at":"` + future.Format(time.RFC3339) + `"}`, "future"},
		{`{"provider_id":"pv-1","operator_id":"op-9","external_id":"x","kind":"charge","amount":"1","currency":"EUR","occurred_at":"2026-03-01T00:00:00Z"}`, "no active contract"},
		{`{"provider_id":"pv-1","operator_id":"op-1","kind":"charge","amount":"1","currency":"EUR","occurred_at":"2026-03-01T00:00:00Z"}`, "external_id"},
		{`{"provider_id":"pv-1","operator_id":"op-1","external_id":"x","kind":"charge","amount":"1","currency":"EUR","occurred_at":"2026-03-01T00:00:00Z","extra":1}`, "unknown field"},
		{`[1,2]`, "not a transaction object"},
	}
	raws := make([]json.RawMessage, len(cases))
	for i, c := range cases {
		raws[i] = json.RawMessage(c.row)
	}
	raws = append(raws, row("good", "charge", "5", "JPY", t0))
	res := ingest(t, f.st, raws...)
	require.Equal(t, 1, res.Accepted, "a bad row never fails a good one")
	require.Len(t, res.Rejected, len(cases))
	for i, c := range cases {
		require.Equal(t, i, res.Rejected[i].Index)
		require.Contains(t, res.Rejected[i].Error, c.want, "row %d", i)
	}
	dls, _, err := f.st.ListDeadLetters(t.Context(), store.DeadLetterFilter{Status: "open", Page: store.Page{Limit: 100}})
	require.NoError(t, err)
	require.Len(t, dls, len(cases), "every rejected row is dead-lettered")

	// Replaying the bad-kind row with a correction accepts it.
	var badKind store.DeadLetter
	for _, d := range dls {
		if d.Reason == tollgate.ReasonInvalid && string(d.Payload) != "" && d.ExternalID == "x" && json.Valid(d.Payload) {
			var m map[string]any
			if json.Unmarshal(d.Payload, &m) == nil && m["kind"] == "refund" {
				badKind = d
			}
		}
	}
	require.NotZero(t, badKind.ID)
	rr, err := f.st.ReplayDeadLetter(t.Context(), badKind.ID, row("x", "payout", "1.00", "EUR", t0), "bob")
	require.NoError(t, err)
	require.Equal(t, 1, rr.Ingest.Accepted)
	require.Equal(t, "replayed", rr.DeadLetter.Status)
	_, err = f.st.ReplayDeadLetter(t.Context(), badKind.ID, nil, "bob")
	require.Equal(t, tollgate.CodeConflict, tollgate.ErrorCode(err))
}
