package devstack_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/internal/testwait"
	"github.com/tollgate/tollgate/workflows"
)

type apiClient struct {
	t    *testing.T
	base string
}

func (c apiClient) call(method, path, key, body string, want int, out any) {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, strings.NewReader(body))
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(c.t, want, resp.StatusCode, "%s %s: %s", method, path, b)
	if out != nil {
		require.NoError(c.t, json.Unmarshal(b, out))
	}
}

type cycleDoc struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Statement *struct {
		Currency   string `json:"currency"`
		NetRevenue string `json:"net_revenue"`
		CarryIn    string `json:"carry_in"`
		CarryOut   string `json:"carry_out"`
		Total      string `json:"total"`
		Lines      []struct {
			Type   string `json:"type"`
			Amount string `json:"amount"`
		} `json:"lines"`
		FX []struct {
			Currency string `json:"currency"`
			Rate     string `json:"rate"`
		} `json:"fx"`
	} `json:"statement"`
	Approvals []struct {
		Approver string `json:"approver"`
	} `json:"approvals"`
	LedgerEntries []int64 `json:"ledger_entries"`
	Payout        struct {
		Status    string `json:"status"`
		Reference string `json:"reference"`
	} `json:"payout"`
	Timeline []struct {
		Event string `json:"event"`
	} `json:"timeline"`
	Error string `json:"error"`
}

// waitStatus polls the cycle over the API until its status is one of want.
// A cycle parked in needs_attention fails the test at once.
func waitStatus(t *testing.T, c apiClient, key, id string, want ...string) cycleDoc {
	t.Helper()
	var doc cycleDoc
	testwait.For(t, 60*time.Second, fmt.Sprintf("cycle %s to reach %v", id, want), func() (string, bool) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, c.base+"/v1/cycles/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			require.NoError(t, json.Unmarshal(b, &doc))
			if slices.Contains(want, doc.Status) {
				return doc.Status, true
			}
			if doc.Status == workflows.StatusNeedsAttention {
				t.Fatalf("cycle %s parked in needs_attention: %s", id, doc.Error)
			}
		}
		return doc.Status, false
	})
	return doc
}

// TestSettlementEndToEnd drives the whole product through the API on the
// embedded Temporal server and PostgreSQL: parties, contract, FX rate,
// ingest, a cycle approved once over REST and once by a Temporal signal (as
// the Temporal Web UI sends it), then checks the statement against hand
// computed values and the ledger against the statement.
func TestSettlementEndToEnd(t *testing.T) {
	st, admin := startStack(t)
	c := apiClient{t: t, base: st.APIURL}
	keyFor := func(name, role string) string {
		key, id, hash := api.GenerateKey()
		_, err := st.Pool.Exec(t.Context(), `INSERT INTO api_keys (id, name, role, secret_hash) VALUES ($1, $2, $3, $4)`, id, name, role, hash)
		require.NoError(t, err)
		return key
	}
	alice := keyFor("alice", "approver")

	c.call("POST", "/v1/parties", admin, `{"id":"op-1","kind":"operator","name":"Operator","currency":"EUR"}`, 201, nil)
	c.call("POST", "/v1/parties", admin, `{"id":"pv-1","kind":"provider","name":"Provider","currency":"EUR"}`, 201, nil)
	c.call("POST", "/v1/contracts", admin, `{"id":"c-1","operator_id":"op-1","provider_id":"pv-1","currency":"EUR","timezone":"UTC",
	 "schedule":{"every":"24h"},"grace_period":"0s",
	 "terms":{"effective_from":"2026-01-01T00:00:00Z","revenue_share":[{"up_to":"100000.00","rate":"0.10"},{"up_to":null,"rate":"0.08"}],
	          "fee_per_charge":"0.01","minimum_guarantee":"500.00","cap":null,"carry_negative":true},
	 "approval":{"auto_approve_limit":"1000.00","approvals_required":2,"approval_timeout":"48h"},
	 "payout":{"adapter":"simulated"}}`, 201, nil)
	day := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Hour)
	c.call("POST", "/v1/fx-rates", admin, fmt.Sprintf(`{"base":"USD","quote":"EUR","rate":"0.92","as_of":%q,"source":"test"}`, day.Add(-time.Hour).Format(time.RFC3339)), 201, nil)
	row := func(ext, kind, amount, cur string, at time.Time) string {
		return fmt.Sprintf(`{"provider_id":"pv-1","operator_id":"op-1","external_id":%q,"kind":%q,"amount":%q,"currency":%q,"occurred_at":%q}`,
			ext, kind, amount, cur, at.Format(time.RFC3339))
	}
	var res map[string]any
	c.call("POST", "/v1/transactions", admin, `{"transactions":[`+strings.Join([]string{
		row("t1", "charge", "100000.00", "EUR", day),
		row("t2", "charge", "40000.00", "EUR", day.Add(time.Minute)),
		row("t3", "charge", "10000.00", "EUR", day.Add(2*time.Minute)),
		row("t4", "payout", "5000.00", "EUR", day.Add(3*time.Minute)),
		row("t5", "adjustment", "-1000.00", "EUR", day.Add(4*time.Minute)),
		row("t6", "charge", "1000.00", "USD", day.Add(5*time.Minute)),
	}, ",")+`]}`, 200, &res)
	require.Equal(t, float64(6), res["accepted"])

	end := day.Add(time.Hour)
	var started struct {
		CycleID string `json:"cycle_id"`
	}
	body := fmt.Sprintf(`{"contract_id":"c-1","period_end":%q}`, end.Format(time.RFC3339))
	c.call("POST", "/v1/cycles", admin, body, 202, &started)
	require.Equal(t, workflows.CycleID("c-1", end), started.CycleID)
	var again struct {
		CycleID string `json:"cycle_id"`
	}
	c.call("POST", "/v1/cycles", admin, body, 202, &again)
	require.Equal(t, started.CycleID, again.CycleID, "starting the same cycle twice yields one cycle")

	doc := waitStatus(t, c, admin, started.CycleID, workflows.StatusAwaitingApproval)
	// Hand-computed: NR = 150000 - 5000 - 1000 + 1000 x 0.92 = 144920.00;
	// share = 10% x 100000 + 8% x 44920 = 13593.60; fees = 4 x 0.01 = 0.04;
	// top-up 0 (above the 500.00 guarantee); no cap; total 13593.64.
	require.Equal(t, "144920.00", doc.Statement.NetRevenue)
	require.Equal(t, "13593.64", doc.Statement.Total)
	amounts := map[string]string{}
	for _, l := range doc.Statement.Lines {
		amounts[l.Type] = l.Amount
	}
	require.Equal(t, map[string]string{"revenue_share": "13593.60", "charge_fees": "0.04",
		"minimum_guarantee_topup": "0.00", "cap_reduction": "0.00"}, amounts)
	require.Len(t, doc.Statement.FX, 1)
	require.Equal(t, "USD", doc.Statement.FX[0].Currency)

	// The initiator cannot approve; an approver approves over REST; the same
	// approver again is refused; a second person approves by signal.
	c.call("POST", "/v1/cycles/"+started.CycleID+"/approve", admin, `{"comment":"mine"}`, 422, nil)
	c.call("POST", "/v1/cycles/"+started.CycleID+"/approve", alice, `{"comment":"checked"}`, 200, nil)
	c.call("POST", "/v1/cycles/"+started.CycleID+"/approve", alice, `{"comment":"again"}`, 409, nil)
	require.NoError(t, st.Client.SignalWorkflow(t.Context(), started.CycleID, "", workflows.ActionApprove,
		workflows.Decision{Approver: "bob", Comment: "approved from the Temporal UI"}))

	doc = waitStatus(t, c, admin, started.CycleID, workflows.StatusCompleted)
	require.Len(t, doc.Approvals, 2)
	require.Equal(t, "confirmed", doc.Payout.Status)
	require.NotEmpty(t, doc.Payout.Reference)
	require.Len(t, doc.LedgerEntries, 1)

	// The ledger holds exactly the statement total.
	var acct struct {
		Items []struct {
			PartyID string `json:"party_id"`
			Purpose string `json:"purpose"`
			Balance string `json:"balance"`
		} `json:"items"`
	}
	c.call("GET", "/v1/accounts?party_id=pv-1", admin, "", 200, &acct)
	require.Len(t, acct.Items, 1)
	require.Equal(t, "13593.64", acct.Items[0].Balance)
	var verify map[string]any
	c.call("GET", "/v1/ledger/verify", admin, "", 200, &verify)
	require.Equal(t, true, verify["ok"])

	// The period is settled: the live position is empty, and a transaction
	// from the settled period is late and goes to the next cycle.
	var pos map[string]any
	c.call("GET", "/v1/contracts/c-1/position", admin, "", 200, &pos)
	require.Equal(t, float64(0), pos["transactions"])
	c.call("POST", "/v1/transactions", admin, `{"transactions":[`+row("t7", "charge", "10.00", "EUR", day.Add(10*time.Minute))+`]}`, 200, nil)
	var txs struct {
		Items []struct {
			ExternalID string `json:"external_id"`
			Late       bool   `json:"late"`
			CycleID    string `json:"cycle_id"`
		} `json:"items"`
	}
	c.call("GET", "/v1/transactions?contract_id=c-1", admin, "", 200, &txs)
	for _, tx := range txs.Items {
		require.Equal(t, tx.ExternalID == "t7", tx.Late, tx.ExternalID)
		require.Equal(t, tx.ExternalID != "t7", tx.CycleID == started.CycleID, tx.ExternalID)
	}
	var list struct {
		Items []cycleDoc `json:"items"`
	}
	c.call("GET", "/v1/cycles?contract_id=c-1&status=completed", admin, "", 200, &list)
	require.Len(t, list.Items, 1)

	// The finance summary shows what was settled.
	var kpis struct {
		Settled []struct {
			Currency string `json:"currency"`
			Cycles   int    `json:"cycles"`
			Total    string `json:"total"`
		} `json:"settled"`
		Cycles map[string]int `json:"cycles"`
	}
	c.call("GET", "/v1/kpis", admin, "", 200, &kpis)
	require.Len(t, kpis.Settled, 1)
	require.Equal(t, "EUR", kpis.Settled[0].Currency)
	require.Equal(t, "13593.64", kpis.Settled[0].Total)
	require.Equal(t, 1, kpis.Cycles["completed"])

	// The REST approval is on the audit trail with who, what and before/after.
	var audit struct {
		Items []struct {
			Actor    string          `json:"actor"`
			ObjectID string          `json:"object_id"`
			Before   json.RawMessage `json:"before"`
		} `json:"items"`
	}
	c.call("GET", "/v1/audit?action=cycle.approve", admin, "", 200, &audit)
	require.Len(t, audit.Items, 1, "refused approvals change nothing and are not audited")
	require.Equal(t, "alice", audit.Items[0].Actor)
	require.Equal(t, started.CycleID, audit.Items[0].ObjectID)
	require.JSONEq(t, `{"status":"awaiting_approval"}`, string(audit.Items[0].Before))
}
