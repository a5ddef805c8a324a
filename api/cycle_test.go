package api_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/workflows"
)

// TestStartedCycleIsReadableWithoutAWorker: the cycle a POST answers is
// readable by the next request even when no worker has run a single task
// (fakeTemporal runs none), and answers the workflow's first status.
func TestStartedCycleIsReadableWithoutAWorker(t *testing.T) {
	t.Parallel()
	f := newIngestFixture(t, func(d *api.Deps) { d.Temporal = &fakeTemporal{} })
	var started struct {
		CycleID string `json:"cycle_id"`
		Status  string `json:"status"`
	}
	f.call(t, "POST", "/v1/cycles", f.admin, `{"contract_id":"c-1"}`, 202, &started)
	require.Equal(t, workflows.StatusCollecting, started.Status)
	var doc struct {
		ID          string `json:"id"`
		Status      string `json:"status"`
		InitiatedBy string `json:"initiated_by"`
	}
	f.call(t, "GET", "/v1/cycles/"+started.CycleID, f.admin, "", 200, &doc)
	require.Equal(t, started.CycleID, doc.ID)
	require.Equal(t, workflows.StatusCollecting, doc.Status)
	require.Equal(t, "bootstrap-admin", doc.InitiatedBy)
}

// TestCycleActionIdempotencyKeyIsCheckedAndNamespaced: a bad key is refused
// before any Update is sent; a good one becomes an Update ID that names the
// action and the credential; a repeat is audited once.
func TestCycleActionIdempotencyKeyIsCheckedAndNamespaced(t *testing.T) {
	t.Parallel()
	tc := &fakeTemporal{}
	f := newIngestFixture(t, func(d *api.Deps) { d.Temporal = tc })
	st := store.New(f.pool, nil)
	id := workflows.CycleID("c-1", f.now.Add(-time.Hour))
	require.NoError(t, st.RecordCycle(t.Context(), tollgate.CycleRecord{CycleID: id, ContractID: "c-1",
		PeriodEnd: f.now.Add(-time.Hour), Status: workflows.StatusAwaitingApproval, InitiatedBy: "olga"}))
	alice := insertKey(t, f.pool, "alice", api.RoleApprover, "")
	aliceID := strings.Split(alice, "_")[1]
	post := func(path, key, idem string) (int, string) {
		code, b, _ := f.do(t, "POST", path, key, "application/json", []byte(`{"comment":"ok","reason":"no"}`),
			map[string]string{"Idempotency-Key": idem})
		return code, string(b)
	}

	for _, bad := range []string{"", strings.Repeat("x", 129), "caf\u00e9", "tab\there"} {
		code, body := post("/v1/cycles/"+id+"/approve", alice, bad)
		require.Equal(t, 422, code, "%q: %s", bad, body)
		require.Contains(t, body, "Idempotency-Key")
	}
	require.False(t, tc.calledPrefix("update"), "a refused key sends nothing to the workflow")

	code, body := post("/v1/cycles/"+id+"/approve", alice, "k-1")
	require.Equal(t, 200, code, body)
	code, body = post("/v1/cycles/"+id+"/approve", alice, "k-1")
	require.Equal(t, 200, code, body)
	code, body = post("/v1/cycles/"+id+"/reject", alice, "k-1")
	require.Equal(t, 200, code, body)
	code, body = post("/v1/cycles/"+id+"/approve", f.admin, "k-1")
	require.Equal(t, 200, code, body)
	adminID := strings.Split(f.admin, "_")[1]
	require.Equal(t, []string{
		("api:approve:" + strconv.Itoa(len(aliceID)) + ":" + aliceID + ":k-1"),
		("api:approve:" + strconv.Itoa(len(aliceID)) + ":" + aliceID + ":k-1"),
		("api:reject:" + strconv.Itoa(len(aliceID)) + ":" + aliceID + ":k-1"),
		("api:approve:" + strconv.Itoa(len(adminID)) + ":" + adminID + ":k-1"),
	}, tc.updateIDs, "one Update ID per action and credential")

	var approvals, rejections int
	require.NoError(t, f.pool.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE action = 'cycle.approve'),
		count(*) FILTER (WHERE action = 'cycle.reject') FROM audit_log WHERE object_id = $1`, id).Scan(&approvals, &rejections))
	require.Equal(t, 2, approvals, "alice's repeat is not audited again; the admin's approval is")
	require.Equal(t, 1, rejections)
}
