// Package worker builds the Temporal worker: it registers every workflow and
// activity on the task queue with the dependencies built once here.
package worker

import (
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tollgate/tollgate/activities"
	"github.com/tollgate/tollgate/workflows"
)

// New returns a worker (not yet started) with everything registered.
func New(c client.Client, acts *activities.Activities) sdkworker.Worker {
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(workflows.RoundTrip, workflow.RegisterOptions{Name: workflows.RoundTripWorkflowName})
	w.RegisterActivity(acts)
	return w
}
