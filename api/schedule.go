package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/workflows"
)

// ScheduleID is the Temporal Schedule of a contract.
func ScheduleID(contractID string) string { return "schedule-" + contractID }

// Schedule policies, chosen deliberately:
//   - Overlap ALLOW_ALL: a tick only starts its cycle and returns, and each
//     tick settles a different period, so ticks never need to wait for each
//     other (a cycle waiting days for approval must not hold back the next).
//   - Catch-up window of 10 minutes: after an outage only recent missed
//     ticks run. Nothing is lost by skipping older ones: the next cycle
//     claims every unsettled transaction before its period end.
const scheduleCatchupWindow = 10 * time.Minute

type scheduleRequest struct {
	Paused bool   `json:"paused"`
	Note   string `json:"note"`
}

type scheduleView struct {
	ScheduleID  string      `json:"schedule_id"`
	ContractID  string      `json:"contract_id"`
	Every       string      `json:"every,omitempty"`
	Cron        string      `json:"cron,omitempty"`
	Timezone    string      `json:"timezone"`
	Paused      bool        `json:"paused"`
	Note        string      `json:"note,omitempty"`
	NextRuns    []time.Time `json:"next_runs"`
	RecentRuns  []time.Time `json:"recent_runs"`
	GracePeriod string      `json:"grace_period"`
}

func scheduleSpec(c tollgate.ContractView) client.ScheduleSpec {
	spec := client.ScheduleSpec{TimeZoneName: c.Timezone}
	if c.Schedule.Cron != "" {
		spec.CronExpressions = []string{c.Schedule.Cron}
	} else {
		spec.Intervals = []client.ScheduleIntervalSpec{{Every: c.Schedule.Every.Std()}}
	}
	return spec
}

func scheduleAction(c tollgate.ContractView) *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		ID:        "tick-" + c.ID,
		Workflow:  workflows.ScheduledCycleWorkflowName,
		Args:      []any{workflows.ScheduledCycleInput{ContractID: c.ID, GracePeriod: c.GracePeriod.Std()}},
		TaskQueue: workflows.TaskQueue,
	}
}

// putSchedule creates the contract's schedule, or updates it to the
// contract's current schedule and time zone, and pauses or resumes it.
func (s *Server) putSchedule(c echo.Context) error {
	var req scheduleRequest
	if err := decodeOptionalJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	contract, err := s.Store.GetContract(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	tc, err := s.temporal()
	if err != nil {
		return err
	}
	sc := tc.ScheduleClient()
	id := ScheduleID(contract.ID)
	_, err = sc.Create(ctx, client.ScheduleOptions{
		ID:            id,
		Spec:          scheduleSpec(contract),
		Action:        scheduleAction(contract),
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
		CatchupWindow: scheduleCatchupWindow,
		Paused:        req.Paused,
		Note:          req.Note,
	})
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		h := sc.GetHandle(ctx, id)
		err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			sched := in.Description.Schedule
			spec := scheduleSpec(contract)
			sched.Spec = &spec
			sched.Action = scheduleAction(contract)
			sched.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL
			sched.Policy.CatchupWindow = scheduleCatchupWindow
			// Pause state travels in the same update, so the schedule
			// changes in one step.
			sched.State.Paused, sched.State.Note = req.Paused, req.Note
			return &client.ScheduleUpdate{Schedule: &sched}, nil
		}})
	}
	if err != nil {
		return tollgate.Wrap(tollgate.CodeUnavailable, err, "cannot create or update the schedule")
	}
	v, err := s.scheduleView(c, contract)
	if err != nil {
		return err
	}
	// The scheduler applies an update asynchronously; answer with the state
	// that was just requested rather than a possibly older description.
	v.Paused, v.Note = req.Paused, req.Note
	// Recorded against the contract, so ?object=contract/<id> lists its
	// schedule changes with its other changes.
	s.auditf(c, "contract.schedule_set", "contract", contract.ID, nil,
		map[string]any{"schedule_id": id, "paused": req.Paused, "note": req.Note})
	return c.JSON(http.StatusOK, v)
}

func (s *Server) getSchedule(c echo.Context) error {
	contract, err := s.Store.GetContract(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	v, err := s.scheduleView(c, contract)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) scheduleView(c echo.Context, contract tollgate.ContractView) (scheduleView, error) {
	ctx := c.Request().Context()
	tc, err := s.temporal()
	if err != nil {
		return scheduleView{}, err
	}
	d, err := tc.ScheduleClient().GetHandle(ctx, ScheduleID(contract.ID)).Describe(ctx)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return scheduleView{}, tollgate.Errorf(tollgate.CodeNotFound, "contract %q has no schedule yet; PUT /v1/contracts/%s/schedule creates it", contract.ID, contract.ID)
	} else if err != nil {
		return scheduleView{}, tollgate.Wrap(tollgate.CodeUnavailable, err, "cannot read the schedule")
	}
	v := scheduleView{ScheduleID: ScheduleID(contract.ID), ContractID: contract.ID, Cron: contract.Schedule.Cron,
		Timezone: contract.Timezone, Paused: d.Schedule.State.Paused, Note: d.Schedule.State.Note,
		NextRuns: d.Info.NextActionTimes, RecentRuns: []time.Time{}, GracePeriod: contract.GracePeriod.String()}
	if contract.Schedule.Cron == "" {
		v.Every = contract.Schedule.Every.String()
	}
	for _, a := range d.Info.RecentActions {
		v.RecentRuns = append(v.RecentRuns, a.ScheduleTime)
	}
	if v.NextRuns == nil {
		v.NextRuns = []time.Time{}
	}
	return v, nil
}

// triggerSchedule runs one tick now: the cycle for the period ending now.
func (s *Server) triggerSchedule(c echo.Context) error {
	ctx := c.Request().Context()
	contract, err := s.Store.GetContract(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	tc, err := s.temporal()
	if err != nil {
		return err
	}
	err = tc.ScheduleClient().GetHandle(ctx, ScheduleID(contract.ID)).Trigger(ctx, client.ScheduleTriggerOptions{
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
	})
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return tollgate.Errorf(tollgate.CodeNotFound, "contract %q has no schedule yet; PUT /v1/contracts/%s/schedule creates it", contract.ID, contract.ID)
	} else if err != nil {
		return tollgate.Wrap(tollgate.CodeUnavailable, err, "cannot trigger the schedule")
	}
	s.auditf(c, "contract.schedule_trigger", "contract", contract.ID, nil, map[string]string{"schedule_id": ScheduleID(contract.ID)})
	return c.JSON(http.StatusAccepted, map[string]string{"schedule_id": ScheduleID(contract.ID), "status": "triggered"})
}
