package workflows

import "github.com/tollgate/tollgate/activities"

// CycleActivities maps each settlement cycle activity name to its
// implementation, so the worker and the tests register exactly the names the
// workflow schedules.
func CycleActivities(a *activities.Activities) map[string]any {
	return map[string]any{
		ActivityCloseCycle:       a.CloseCycle,
		ActivityComputeStatement: a.ComputeStatement,
		ActivityCheckAnomalies:   a.CheckAnomalies,
		ActivityPostStatement:    a.PostStatement,
		ActivityReversePosting:   a.ReversePosting,
		ActivityInitiatePayout:   a.InitiatePayout,
		ActivityAwaitPayout:      a.AwaitPayout,
		ActivitySendWebhook:      a.SendWebhook,
		ActivityReleaseCycle:     a.ReleaseCycle,
		ActivityCompleteCycle:    a.CompleteCycle,
		ActivityRecordCycle:      a.RecordCycle,
	}
}
