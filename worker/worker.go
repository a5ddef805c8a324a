// Package worker builds the Temporal worker: it registers every workflow and
// activity on the task queue with the dependencies built once here.
package worker

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate/tollgate/activities"
	"github.com/tollgate/tollgate/workflows"
)

// New returns a worker (not yet started) with everything registered.
func New(c client.Client, acts *activities.Activities) sdkworker.Worker {
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{})
	Register(w, acts)
	return w
}

// Register puts every workflow and activity on r under its wire name. Tests
// and the replayer use it too, so they see exactly what production runs.
func Register(r sdkworker.Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.RoundTrip, workflow.RegisterOptions{Name: workflows.RoundTripWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.SettlementCycle, workflow.RegisterOptions{Name: workflows.SettlementCycleWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.ScheduledCycle, workflow.RegisterOptions{Name: workflows.ScheduledCycleWorkflowName})
	// Activities are registered one by one under explicit names: a renamed
	// method must not silently rename an activity type in open histories.
	r.RegisterActivityWithOptions(acts.RecordPing, activity.RegisterOptions{Name: workflows.RecordPingActivityName})
	for name, fn := range workflows.CycleActivities(acts) {
		r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}
