package devstack_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/internal/testwait"
	"github.com/tollgate/tollgate/workflows"
)

// send is one request whose status and body the test inspects itself.
func send(t *testing.T, c apiClient, method, path, key, body string, header map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, c.base+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// TestStartedCycleIsReadable starts 100 cycles, each followed at once by a
// GET of the cycle it answered: a started cycle must be readable in the
// next request, before the workflow's first task has run. The contract's
// long grace period keeps the workflows asleep before their close, so the
// test measures the read-your-writes gap and not the machine's load.
func TestStartedCycleIsReadable(t *testing.T) {
	st, admin := startStack(t)
	c := apiClient{t: t, base: st.APIURL}
	c.call("POST", "/v1/parties", admin, `{"id":"op-1","kind":"operator","name":"Operator","currency":"EUR"}`, 201, nil)
	c.call("POST", "/v1/parties", admin, `{"id":"pv-1","kind":"provider","name":"Provider","currency":"EUR"}`, 201, nil)
	c.call("POST", "/v1/contracts", admin, `{"id":"c-ryw","operator_id":"op-1","provider_id":"pv-1","currency":"EUR","timezone":"UTC",
	 "schedule":{"every":"24h"},"grace_period":"240h",
	 "terms":{"effective_from":"2026-01-01T00:00:00Z","revenue_share":[{"up_to":null,"rate":"0.10"}],
	          "fee_per_charge":"0","minimum_guarantee":"0","cap":null,"carry_negative":true},
	 "approval":{"auto_approve_limit":"1000.00","approvals_required":1,"approval_timeout":"48h"},
	 "payout":{"adapter":"simulated"}}`, 201, nil)

	const starts = 100
	base := time.Now().UTC().Truncate(time.Minute).Add(-starts * time.Minute)
	var missing []string
	for i := range starts {
		end := base.Add(time.Duration(i) * time.Minute)
		var started struct {
			CycleID string `json:"cycle_id"`
			Status  string `json:"status"`
		}
		c.call("POST", "/v1/cycles", admin, fmt.Sprintf(`{"contract_id":"c-ryw","period_end":%q}`, end.Format(time.RFC3339)), 202, &started)
		require.Equal(t, workflows.CycleID("c-ryw", end), started.CycleID)
		code, body := send(t, c, "GET", "/v1/cycles/"+started.CycleID, admin, "", nil)
		if code == http.StatusNotFound {
			missing = append(missing, started.CycleID)
			continue
		}
		require.Equal(t, http.StatusOK, code, "GET %s: %s", started.CycleID, body)
		var doc cycleDoc
		require.NoError(t, json.Unmarshal(body, &doc))
		require.Equal(t, started.CycleID, doc.ID)
		require.NotEmpty(t, doc.Status)
	}
	require.Zero(t, len(missing), "%d of %d started cycles answered 404 right after their start, first %v",
		len(missing), starts, missing[:min(3, len(missing))])

	// Starting a cycle again does not move its read model back: the
	// workflow's own record (with its timeline) stays.
	end := base
	id := workflows.CycleID("c-ryw", end)
	timeline := func() int {
		var n int
		require.NoError(t, st.Pool.QueryRow(t.Context(),
			`SELECT coalesce(jsonb_array_length(record->'Timeline'), 0) FROM cycles WHERE id = $1`, id).Scan(&n))
		return n
	}
	testwait.Until(t, 30*time.Second, "the workflow to record its own row", func() bool { return timeline() > 0 })
	c.call("POST", "/v1/cycles", admin, fmt.Sprintf(`{"contract_id":"c-ryw","period_end":%q}`, end.Format(time.RFC3339)), 202, nil)
	require.Positive(t, timeline(), "the second start kept the workflow's record")
}

// TestCycleActionIdempotencyKey approves a cycle twice with one
// Idempotency-Key: both answers are the first one and the cycle records a
// single approval (and a single audit row). A new key after the cycle
// stopped awaiting approval gets the usual refusal, and a key that is not
// printable ASCII is refused before anything is sent.
func TestCycleActionIdempotencyKey(t *testing.T) {
	st, admin := startStack(t)
	c := apiClient{t: t, base: st.APIURL}
	keyFor := func(name, role string) string {
		key, id, hash := api.GenerateKey()
		_, err := st.Pool.Exec(t.Context(), `INSERT INTO api_keys (id, name, role, secret_hash) VALUES ($1, $2, $3, $4)`, id, name, role, hash)
		require.NoError(t, err)
		return key
	}
	alice, bob := keyFor("alice", "approver"), keyFor("bob", "approver")
	c.call("POST", "/v1/parties", admin, `{"id":"op-1","kind":"operator","name":"Operator","currency":"EUR"}`, 201, nil)
	c.call("POST", "/v1/parties", admin, `{"id":"pv-1","kind":"provider","name":"Provider","currency":"EUR"}`, 201, nil)
	// An empty period tops up to the 500.00 guarantee, above the 100.00
	// auto-approval limit: the cycle waits for two approvals.
	c.call("POST", "/v1/contracts", admin, `{"id":"c-idem","operator_id":"op-1","provider_id":"pv-1","currency":"EUR","timezone":"UTC",
	 "schedule":{"every":"24h"},"grace_period":"0s",
	 "terms":{"effective_from":"2026-01-01T00:00:00Z","revenue_share":[{"up_to":null,"rate":"0.10"}],
	          "fee_per_charge":"0","minimum_guarantee":"500.00","cap":null,"carry_negative":true},
	 "approval":{"auto_approve_limit":"100.00","approvals_required":2,"approval_timeout":"48h"},
	 "payout":{"adapter":"simulated"}}`, 201, nil)
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	var started struct {
		CycleID string `json:"cycle_id"`
	}
	c.call("POST", "/v1/cycles", admin, fmt.Sprintf(`{"contract_id":"c-idem","period_end":%q}`, end.Format(time.RFC3339)), 202, &started)
	id := started.CycleID
	waitStatus(t, c, admin, id, workflows.StatusAwaitingApproval)

	approve := "/v1/cycles/" + id + "/approve"
	for _, bad := range []string{strings.Repeat("k", 129), "caf\u00e9", "tab\there"} {
		code, body := send(t, c, "POST", approve, alice, `{"comment":"checked"}`, map[string]string{"Idempotency-Key": bad})
		require.Equal(t, http.StatusUnprocessableEntity, code, "%q: %s", bad, body)
		require.Contains(t, string(body), "Idempotency-Key")
	}

	key := map[string]string{"Idempotency-Key": "approve-1"}
	code1, first := send(t, c, "POST", approve, alice, `{"comment":"checked"}`, key)
	require.Equal(t, http.StatusOK, code1, "%s", first)
	code2, second := send(t, c, "POST", approve, alice, `{"comment":"checked"}`, key)
	require.Equal(t, http.StatusOK, code2, "the retry gets the first answer, not a refusal: %s", second)
	require.JSONEq(t, string(first), string(second))
	var res workflows.ActionResult
	require.NoError(t, json.Unmarshal(first, &res))
	require.Equal(t, workflows.ActionResult{Status: workflows.StatusAwaitingApproval, Approvals: 1, Required: 2}, res)

	var doc cycleDoc
	c.call("GET", "/v1/cycles/"+id, admin, "", 200, &doc)
	require.Len(t, doc.Approvals, 1, "one approval recorded")
	var audits int
	require.NoError(t, st.Pool.QueryRow(t.Context(),
		`SELECT count(*) FROM audit_log WHERE action = 'cycle.approve' AND object_id = $1`, id).Scan(&audits))
	require.Equal(t, 1, audits, "one audit row for one approval")

	// The same key from another caller is another request: bob's approval
	// counts and the cycle moves on.
	code, body := send(t, c, "POST", approve, bob, `{"comment":"ok"}`, key)
	require.Equal(t, http.StatusOK, code, "%s", body)
	require.NoError(t, json.Unmarshal(body, &res))
	require.Equal(t, 2, res.Approvals)
	waitStatus(t, c, admin, id, workflows.StatusCompleted)

	// A new key once the cycle no longer awaits approval: the normal refusal.
	code, body = send(t, c, "POST", approve, alice, `{"comment":"late"}`, map[string]string{"Idempotency-Key": "approve-2"})
	require.Equal(t, http.StatusConflict, code, "%s", body)
	c.call("GET", "/v1/cycles/"+id, admin, "", 200, &doc)
	require.Len(t, doc.Approvals, 2)
}
