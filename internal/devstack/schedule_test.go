package devstack_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate/internal/testwait"
	"github.com/tollgate/tollgate/workflows"
)

// TestContractSchedule creates a contract's Temporal Schedule over the API,
// triggers one tick, and sees the tick start the cycle for the period that
// ends at the tick; then pauses the schedule.
func TestContractSchedule(t *testing.T) {
	st, admin := startStack(t)
	c := apiClient{t: t, base: st.APIURL}
	c.call("POST", "/v1/parties", admin, `{"id":"op-1","kind":"operator","name":"Operator","currency":"EUR"}`, 201, nil)
	c.call("POST", "/v1/parties", admin, `{"id":"pv-1","kind":"provider","name":"Provider","currency":"EUR"}`, 201, nil)
	c.call("POST", "/v1/contracts", admin, `{"id":"c-cron","operator_id":"op-1","provider_id":"pv-1","currency":"EUR","timezone":"Europe/Berlin",
	 "schedule":{"cron":"0 6 * * *"},"grace_period":"0s",
	 "terms":{"effective_from":"2026-01-01T00:00:00Z","revenue_share":[{"up_to":null,"rate":"0.10"}],
	          "fee_per_charge":"0","minimum_guarantee":"0","cap":null,"carry_negative":true},
	 "approval":{"auto_approve_limit":"1000.00","approvals_required":1,"approval_timeout":"48h"},
	 "payout":{"adapter":"simulated"}}`, 201, nil)

	c.call("GET", "/v1/contracts/c-cron/schedule", admin, "", 404, nil)
	c.call("POST", "/v1/contracts/c-cron/schedule/trigger", admin, "", 404, nil)
	var sched struct {
		ScheduleID string      `json:"schedule_id"`
		Cron       string      `json:"cron"`
		Timezone   string      `json:"timezone"`
		Paused     bool        `json:"paused"`
		NextRuns   []time.Time `json:"next_runs"`
		RecentRuns []time.Time `json:"recent_runs"`
	}
	c.call("PUT", "/v1/contracts/c-cron/schedule", admin, "", 200, &sched)
	require.Equal(t, "schedule-c-cron", sched.ScheduleID)
	require.False(t, sched.Paused)
	require.NotEmpty(t, sched.NextRuns)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	next := sched.NextRuns[0].In(berlin)
	require.Equal(t, 6, next.Hour(), "cron runs at 06:00 in the contract's time zone")
	require.Zero(t, next.Minute())
	c.call("PUT", "/v1/contracts/c-cron/schedule", admin, "", 200, &sched) // idempotent update

	before := time.Now().UTC().Truncate(time.Minute)
	c.call("POST", "/v1/contracts/c-cron/schedule/trigger", admin, "", 202, nil)
	var list struct {
		Items []struct {
			ID        string    `json:"id"`
			PeriodEnd time.Time `json:"period_end"`
			Status    string    `json:"status"`
		} `json:"items"`
	}
	testwait.Until(t, 30*time.Second, "the tick to start a cycle", func() bool {
		c.call("GET", "/v1/cycles?contract_id=c-cron", admin, "", 200, &list)
		return len(list.Items) > 0
	})
	require.Len(t, list.Items, 1, "the tick started one cycle")
	require.False(t, list.Items[0].PeriodEnd.Before(before))
	require.Equal(t, workflows.CycleID("c-cron", list.Items[0].PeriodEnd), list.Items[0].ID)
	// An empty period settles to zero and completes (nothing to approve or pay).
	waitStatus(t, c, admin, list.Items[0].ID, workflows.StatusCompleted)

	c.call("PUT", "/v1/contracts/c-cron/schedule", admin, `{"paused":true,"note":"month-end freeze"}`, 200, &sched)
	require.True(t, sched.Paused)
	// The scheduler applies the update asynchronously; the schedule itself
	// must report the pause soon after.
	testwait.Until(t, 10*time.Second, "the schedule to report the pause", func() bool {
		c.call("GET", "/v1/contracts/c-cron/schedule", admin, "", 200, &sched)
		return sched.Paused
	})
	require.True(t, sched.Paused, "the schedule reports the pause")
	c.call("PUT", "/v1/contracts/nope/schedule", admin, "", 404, nil)
}
