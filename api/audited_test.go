package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/workflows"
)

// A change and its audit row commit together: when the audit row cannot be
// written, the change is not made either.
func TestChangeAndAuditRowAreAtomic(t *testing.T) {
	t.Parallel()
	f := newIngestFixture(t)
	_, err := f.pool.Exec(t.Context(), `REVOKE INSERT ON audit_log FROM CURRENT_USER`)
	require.NoError(t, err)

	f.call(t, "POST", "/v1/parties", f.admin, `{"id":"op-2","kind":"operator","name":"Op 2","currency":"EUR"}`, 500, nil)
	f.call(t, "GET", "/v1/parties/op-2", f.admin, "", 404, nil)
	f.call(t, "POST", "/v1/fx-rates", f.admin, `{"base":"USD","quote":"EUR","rate":"0.9","as_of":"2026-03-01T00:00:00Z","source":"x"}`, 500, nil)
	var rates int
	require.NoError(t, f.pool.QueryRow(t.Context(), `SELECT count(*) FROM fx_rates`).Scan(&rates))
	require.Zero(t, rates)

	_, err = f.pool.Exec(t.Context(), `GRANT INSERT ON audit_log TO CURRENT_USER`)
	require.NoError(t, err)
	f.call(t, "POST", "/v1/parties", f.admin, `{"id":"op-2","kind":"operator","name":"Op 2","currency":"EUR"}`, 201, nil)
	var after int
	require.NoError(t, f.pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'party.create' AND object_id = 'op-2' AND at > $1`,
		time.Time{}).Scan(&after))
	require.Equal(t, 1, after)
}

// auditRow is what TestEveryMutatingRouteIsAudited checks of a row.
type auditRow struct {
	Actor, ActorKey, Action, ObjectType, ObjectID string
}

// mutatingAuditCase calls one state-changing route once, with valid input,
// as a caller allowed to, and says which audit row that must leave.
type mutatingAuditCase struct {
	route string // "METHOD /echo/path", as the router lists it
	// call makes exactly the one request under test (any setup it needs
	// happens before the trail is counted, in prepare).
	prepare func(t *testing.T)
	call    func(t *testing.T) auditRow
	// temporal is the call the route must have made on the (fake) Temporal
	// client, empty when it makes none.
	temporal string
}

// TestEveryMutatingRouteIsAudited walks every POST, PUT, PATCH and DELETE
// the router registers and checks that one successful call leaves exactly
// one new audit row naming the caller, the action and the object. A new
// mutating route without a case here fails the test. Temporal routes run
// against fakeTemporal, which accepts every call; the real workflow's side
// is internal/devstack's (TestSettlementEndToEnd checks a REST approval's
// audit row there).
func TestEveryMutatingRouteIsAudited(t *testing.T) {
	t.Parallel()
	tc := &fakeTemporal{}
	f := newIngestFixture(t, func(d *api.Deps) { d.Temporal = tc })
	st := store.New(f.pool, nil)
	keyID := func(key string) string { return strings.Split(key, "_")[1] }
	as := func(name string, key string) auditRow { return auditRow{Actor: name, ActorKey: keyID(key)} }
	operator := insertKey(t, f.pool, "olga operator", api.RoleOperator, "")
	approver := insertKey(t, f.pool, "alice approver", api.RoleApprover, "")
	byOperator, byApprover := as("olga operator", operator), as("alice approver", approver)
	byAdmin, byFeed := as("bootstrap-admin", f.admin), as("pv-1 feed", f.ingestPV)
	with := func(r auditRow, action, objectType, objectID string) auditRow {
		r.Action, r.ObjectType, r.ObjectID = action, objectType, objectID
		return r
	}

	started := workflows.CycleID("c-1", f.now)
	waiting := workflows.CycleID("c-1", f.now.Add(-time.Hour))
	var archiveID, newKeyID string
	var deadLetters []int64
	cases := []mutatingAuditCase{{
		route: "POST /v1/parties",
		call: func(t *testing.T) auditRow {
			f.call(t, "POST", "/v1/parties", operator, `{"id":"pv-2","kind":"provider","name":"Pv 2","currency":"EUR"}`, 201, nil)
			return with(byOperator, "party.create", "party", "pv-2")
		},
	}, {
		route: "POST /v1/parties/:id/rotate-secret",
		call: func(t *testing.T) auditRow {
			f.call(t, "POST", "/v1/parties/pv-2/rotate-secret", f.admin, "", 200, nil)
			return with(byAdmin, "party.rotate_secret", "party", "pv-2")
		},
	}, {
		route: "POST /v1/contracts",
		call: func(t *testing.T) auditRow {
			f.call(t, "POST", "/v1/contracts", f.admin, `{"id":"c-2","operator_id":"op-1","provider_id":"pv-2","currency":"EUR","timezone":"UTC",
			 "schedule":{"every":"24h"},"grace_period":"0s",
			 "terms":{"effective_from":"2026-01-01T00:00:00Z","revenue_share":[{"up_to":null,"rate":"0.10"}],"carry_negative":false},
			 "approval":{"auto_approve_limit":"1000.00","approvals_required":1,"approval_timeout":"48h"},
			 "payout":{"adapter":"simulated"}}`, 201, nil)
			return with(byAdmin, "contract.create", "contract", "c-2")
		},
	}, {
		route: "POST /v1/contracts/:id/terms",
		call: func(t *testing.T) auditRow {
			f.call(t, "POST", "/v1/contracts/c-1/terms", operator, `{"effective_from":"2026-05-01T00:00:00Z","revenue_share":[{"up_to":null,"rate":"0.05"}],"carry_negative":false}`, 201, nil)
			return with(byOperator, "contract.terms_add", "contract", "c-1")
		},
	}, {
		route: "POST /v1/contracts/:id/terms/:version/approve",
		call: func(t *testing.T) auditRow {
			f.call(t, "POST", "/v1/contracts/c-1/terms/2/approve", approver, "", 200, nil)
			return with(byApprover, "contract.terms_approve", "contract", "c-1")
		},
	}, {
		route:    "PUT /v1/contracts/:id/schedule",
		temporal: "schedule create " + api.ScheduleID("c-1"),
		call: func(t *testing.T) auditRow {
			f.call(t, "PUT", "/v1/contracts/c-1/schedule", operator, `{"paused":true,"note":"until go-live"}`, 200, nil)
			return with(byOperator, "contract.schedule_set", "contract", "c-1")
		},
	}, {
		route:    "POST /v1/contracts/:id/schedule/trigger",
		temporal: "schedule trigger " + api.ScheduleID("c-1"),
		call: func(t *testing.T) auditRow {
			f.call(t, "POST", "/v1/contracts/c-1/schedule/trigger", operator, "", 202, nil)
			return with(byOperator, "contract.schedule_trigger", "contract", "c-1")
		},
	}, {
		route: "POST /v1/transactions",
		call: func(t *testing.T) auditRow {
			// Two rows with too many decimals become the dead letters the
			// replay and discard cases act on.
			f.call(t, "POST", "/v1/transactions", f.ingestPV, txBody(txRow("a1", "charge", "5.00"),
				txRow("a2", "charge", "1.001"), txRow("a3", "charge", "1.002")), 200, nil)
			return with(byFeed, "transactions.ingest", "transactions", "pv-1")
		},
	}, {
		route: "POST /v1/providers/:id/events",
		call: func(t *testing.T) auditRow {
			body := []byte(txBody(txRow("p1", "charge", "3.00")))
			code, resp, hdr := f.do(t, "POST", "/v1/providers/pv-1/events", "", "application/json", body,
				map[string]string{"Tollgate-Signature": tollgate.Sign(f.secret, f.now, body)})
			require.Equal(t, 200, code, "%s", resp)
			archiveID = hdr.Get("Tollgate-Archive-Id")
			require.NotEmpty(t, archiveID)
			// Authenticated by the provider's signature, not by a key.
			return auditRow{Actor: "provider:pv-1", Action: "transactions.push", ObjectType: "provider", ObjectID: "pv-1"}
		},
	}, {
		route: "POST /v1/push-archive/:id/reprocess",
		call: func(t *testing.T) auditRow {
			f.call(t, "POST", "/v1/push-archive/"+archiveID+"/reprocess", operator, "", 200, nil)
			return with(byOperator, "transactions.reprocess", "push_archive", archiveID)
		},
	}, {
		route: "POST /v1/fx-rates",
		call: func(t *testing.T) auditRow {
			f.call(t, "POST", "/v1/fx-rates", operator, `{"base":"USD","quote":"EUR","rate":"0.92","as_of":"2026-04-01T00:00:00Z","source":"ecb"}`, 201, nil)
			return with(byOperator, "fx_rate.add", "fx_rate", "USD/EUR")
		},
	}, {
		route: "POST /v1/dead-letters/:id/replay",
		prepare: func(t *testing.T) {
			open, _, err := st.ListDeadLetters(t.Context(), store.DeadLetterFilter{ProviderID: "pv-1", Status: "open"})
			require.NoError(t, err)
			require.Len(t, open, 2)
			for _, d := range open {
				deadLetters = append(deadLetters, d.ID)
			}
		},
		call: func(t *testing.T) auditRow {
			id := strconv.FormatInt(deadLetters[0], 10)
			var rr store.ReplayResult
			f.call(t, "POST", "/v1/dead-letters/"+id+"/replay", operator, `{"transaction":`+txRow("a2", "charge", "1.00")+`}`, 200, &rr)
			require.Equal(t, "replayed", rr.DeadLetter.Status)
			return with(byOperator, "dead_letter.replay", "dead_letter", id)
		},
	}, {
		route: "POST /v1/dead-letters/:id/discard",
		call: func(t *testing.T) auditRow {
			id := strconv.FormatInt(deadLetters[1], 10)
			f.call(t, "POST", "/v1/dead-letters/"+id+"/discard", operator, `{"reason":"sent twice"}`, 200, nil)
			return with(byOperator, "dead_letter.discard", "dead_letter", id)
		},
	}, {
		route:    "POST /v1/cycles",
		temporal: "start " + started,
		call: func(t *testing.T) auditRow {
			f.call(t, "POST", "/v1/cycles", operator, `{"contract_id":"c-1"}`, 202, nil)
			return with(byOperator, "cycle.start", "cycle", started)
		},
	}, {
		route: "POST /v1/cycles/:id/approve",
		// The worker writes the read model; here it is written directly.
		prepare: func(t *testing.T) {
			require.NoError(t, st.RecordCycle(t.Context(), tollgate.CycleRecord{CycleID: waiting, ContractID: "c-1",
				PeriodEnd: f.now.Add(-time.Hour), Status: workflows.StatusAwaitingApproval, InitiatedBy: "olga operator"}))
		},
		temporal: "update " + workflows.ActionApprove + " " + waiting,
		call: func(t *testing.T) auditRow {
			f.call(t, "POST", "/v1/cycles/"+waiting+"/approve", approver, `{"comment":"checked"}`, 200, nil)
			return with(byApprover, "cycle.approve", "cycle", waiting)
		},
	}, {
		route:    "POST /v1/cycles/:id/reject",
		temporal: "update " + workflows.ActionReject + " " + waiting,
		call: func(t *testing.T) auditRow {
			f.call(t, "POST", "/v1/cycles/"+waiting+"/reject", approver, `{"reason":"wrong rate"}`, 200, nil)
			return with(byApprover, "cycle.reject", "cycle", waiting)
		},
	}, {
		route:    "POST /v1/cycles/:id/retry",
		temporal: "update " + workflows.ActionRetry + " " + waiting,
		call: func(t *testing.T) auditRow {
			f.call(t, "POST", "/v1/cycles/"+waiting+"/retry", operator, "", 200, nil)
			return with(byOperator, "cycle.retry", "cycle", waiting)
		},
	}, {
		route:    "POST /v1/cycles/:id/skip",
		temporal: "update " + workflows.ActionSkip + " " + waiting,
		call: func(t *testing.T) auditRow {
			f.call(t, "POST", "/v1/cycles/"+waiting+"/skip", operator, `{"comment":"no data this period"}`, 200, nil)
			return with(byOperator, "cycle.skip", "cycle", waiting)
		},
	}, {
		route:    "POST /v1/cycles/:id/cancel",
		temporal: "update " + workflows.ActionCancel + " " + waiting,
		call: func(t *testing.T) auditRow {
			f.call(t, "POST", "/v1/cycles/"+waiting+"/cancel", operator, "", 200, nil)
			return with(byOperator, "cycle.cancel", "cycle", waiting)
		},
	}, {
		route:    "POST /v1/diagnostics/roundtrip",
		temporal: "start roundtrip-",
		call: func(t *testing.T) auditRow {
			f.call(t, "POST", "/v1/diagnostics/roundtrip", operator, `{"message":"ping"}`, 200, nil)
			return with(byOperator, "POST /v1/diagnostics/roundtrip", "diagnostics", "")
		},
	}, {
		route: "POST /v1/api-keys",
		call: func(t *testing.T) auditRow {
			var created map[string]any
			f.call(t, "POST", "/v1/api-keys", f.admin, `{"name":"vera","role":"viewer"}`, 201, &created)
			newKeyID = created["id"].(string)
			return with(byAdmin, "api_key.create", "api_key", newKeyID)
		},
	}, {
		route: "DELETE /v1/api-keys/:id",
		call: func(t *testing.T) auditRow {
			f.call(t, "DELETE", "/v1/api-keys/"+newKeyID, f.admin, "", 200, nil)
			return with(byAdmin, "api_key.revoke", "api_key", newKeyID)
		},
	}}

	mutating := map[string]bool{}
	for _, r := range routesOf(api.New(api.Deps{})) {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			mutating[r.Method+" "+r.Path] = true
		}
	}
	covered := map[string]bool{}
	for _, c := range cases {
		require.True(t, mutating[c.route], "a case names %s, which is not a state-changing route", c.route)
		require.False(t, covered[c.route], "two cases name %s", c.route)
		covered[c.route] = true
	}
	for route := range mutating {
		require.True(t, covered[route], "%s changes state and has no case here: add one showing its audit row", route)
	}

	for _, c := range cases {
		if c.prepare != nil {
			c.prepare(t)
		}
		var last int64
		require.NoError(t, f.pool.QueryRow(t.Context(), `SELECT coalesce(max(id), 0) FROM audit_log`).Scan(&last))
		want := c.call(t)
		rows, err := f.pool.Query(t.Context(), `SELECT actor, actor_key, action, object_type, object_id
			FROM audit_log WHERE id > $1 ORDER BY id`, last)
		require.NoError(t, err)
		got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[auditRow])
		require.NoError(t, err)
		require.Equal(t, []auditRow{want}, got, "%s: exactly one audit row, naming the caller, action and object", c.route)
		if c.temporal != "" {
			require.True(t, tc.calledPrefix(c.temporal), "%s never reached Temporal (%q)", c.route, c.temporal)
		}
	}
}
