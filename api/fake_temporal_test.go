package api_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/tollgate/tollgate/workflows"
)

// fakeTemporal stands in for the Temporal client where an API test needs a
// Temporal route to succeed: every start, Update and schedule call is
// accepted and recorded, as a worker that agrees with everything would
// answer. Methods the API does not call are left to the embedded nil
// interface, so a handler that starts calling one panics (a 500 the test
// reports) instead of passing unnoticed. It says nothing about what the
// workflow does; internal/devstack's tests run the real one.
type fakeTemporal struct {
	client.Client

	mu        sync.Mutex
	calls     []string
	updateIDs []string // the UpdateID of each Update, "" when the API left it to the SDK
}

func (f *fakeTemporal) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

// calledPrefix reports whether a call starting with prefix was made. Calls
// read "start <workflow ID>", "update <name> <workflow ID>", "query <name> <workflow ID>",
// "schedule create <ID>", "schedule update <ID>" or "schedule trigger <ID>".
func (f *fakeTemporal) calledPrefix(prefix string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.ContainsFunc(f.calls, func(c string) bool { return strings.HasPrefix(c, prefix) })
}

func (f *fakeTemporal) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
	f.record("start " + o.ID)
	return fakeRun{id: o.ID, args: args}, nil
}

func (f *fakeTemporal) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.record("update " + o.UpdateName + " " + o.WorkflowID)
	f.mu.Lock()
	f.updateIDs = append(f.updateIDs, o.UpdateID)
	f.mu.Unlock()
	return fakeUpdate{}, nil
}

// QueryWorkflow fails as a query to a workflow whose first task has not
// run yet fails: the fake runs no workflow code.
func (f *fakeTemporal) QueryWorkflow(_ context.Context, id, _, name string, _ ...any) (converter.EncodedValue, error) {
	f.record("query " + name + " " + id)
	return nil, errors.New("fake: the workflow has not run a task")
}

func (f *fakeTemporal) ScheduleClient() client.ScheduleClient { return fakeSchedules{f: f} }

// fakeRun completes at once; a round trip echoes its message.
type fakeRun struct {
	client.WorkflowRun
	id   string
	args []any
}

func (r fakeRun) GetID() string { return r.id }

func (r fakeRun) Get(_ context.Context, v any) error {
	if out, ok := v.(*workflows.RoundTripResult); ok && len(r.args) == 1 {
		in, _ := r.args[0].(workflows.RoundTripInput)
		*out = workflows.RoundTripResult{ID: in.ID, Message: in.Message, Workflow: r.id}
	}
	return nil
}

// fakeUpdate is accepted by the workflow.
type fakeUpdate struct{ client.WorkflowUpdateHandle }

func (fakeUpdate) Get(_ context.Context, v any) error {
	if out, ok := v.(*workflows.ActionResult); ok {
		*out = workflows.ActionResult{Status: "accepted"}
	}
	return nil
}

type fakeSchedules struct {
	client.ScheduleClient
	f *fakeTemporal
}

func (s fakeSchedules) Create(_ context.Context, o client.ScheduleOptions) (client.ScheduleHandle, error) {
	s.f.record("schedule create " + o.ID)
	return fakeSchedule{f: s.f, id: o.ID}, nil
}

func (s fakeSchedules) GetHandle(_ context.Context, id string) client.ScheduleHandle {
	return fakeSchedule{f: s.f, id: id}
}

type fakeSchedule struct {
	client.ScheduleHandle
	f  *fakeTemporal
	id string
}

func (h fakeSchedule) GetID() string { return h.id }

func (h fakeSchedule) Describe(context.Context) (*client.ScheduleDescription, error) {
	return &client.ScheduleDescription{Schedule: client.Schedule{State: &client.ScheduleState{}}}, nil
}

func (h fakeSchedule) Update(context.Context, client.ScheduleUpdateOptions) error {
	h.f.record("schedule update " + h.id)
	return nil
}

func (h fakeSchedule) Trigger(context.Context, client.ScheduleTriggerOptions) error {
	h.f.record("schedule trigger " + h.id)
	return nil
}
