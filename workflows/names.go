// Package workflows holds Tollgate's Temporal workflows. They are
// deterministic and read like the business process; SQL, HTTP and money
// arithmetic live in activities and the settlement package.
package workflows

import enumspb "go.temporal.io/api/enums/v1"

// Wire names. These are persisted in workflow histories and used by the
// Temporal UI; never rename one.
const (
	// TaskQueue is where every Tollgate workflow and activity runs.
	TaskQueue = "tollgate"

	// RoundTripWorkflowName is the deep health check: API -> workflow ->
	// activity -> PostgreSQL -> back.
	RoundTripWorkflowName = "RoundTrip"
	// RecordPingActivityName is the activity RoundTrip runs.
	RecordPingActivityName = "RecordPing"

	// SettlementCycleWorkflowName settles one contract for one period.
	SettlementCycleWorkflowName = "SettlementCycle"

	// Search attributes registered on the namespace so the Temporal UI can
	// filter settlement cycles.
	SearchAttrContractID       = "ContractId"
	SearchAttrCycleStatus      = "CycleStatus"
	SearchAttrSettlementAmount = "SettlementAmount" // minor units of the settlement currency
)

// SearchAttributes lists the custom search attributes the workflows use, for
// registration on a namespace (dev stack, tests, production setup docs).
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		SearchAttrContractID:       enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchAttrCycleStatus:      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchAttrSettlementAmount: enumspb.INDEXED_VALUE_TYPE_INT,
	}
}

// Operator actions on a settlement cycle. Each is both an Update (validated,
// the REST API's way: the caller gets an error back) and a Signal of the same
// name (the Temporal Web UI's way: an invalid signal is recorded on the
// timeline and ignored).
const (
	ActionApprove = "approve" // payload Decision
	ActionReject  = "reject"  // payload Decision
	ActionRetry   = "retry"   // payload OperatorAction
	ActionSkip    = "skip"    // payload OperatorAction
	ActionCancel  = "cancel"  // payload OperatorAction

	// QueryStatus returns the cycle's tollgate.CycleRecord.
	QueryStatus = "status"
)

// Cycle statuses, as stored in the read model and the CycleStatus search
// attribute.
const (
	StatusCollecting       = "collecting"
	StatusComputing        = "computing"
	StatusAwaitingApproval = "awaiting_approval"
	StatusPosting          = "posting"
	StatusPaying           = "paying"
	StatusCompleted        = "completed"
	StatusRejected         = "rejected"
	StatusPayoutFailed     = "payout_failed"
	StatusNeedsAttention   = "needs_attention"
	StatusCancelled        = "cancelled"
)

// Activity type names of the settlement cycle; worker and tests register the
// activities under these names (see CycleActivities).
const (
	ActivityCloseCycle       = "CloseCycle"
	ActivityComputeStatement = "ComputeStatement"
	ActivityCheckAnomalies   = "CheckAnomalies"
	ActivityPostStatement    = "PostStatement"
	ActivityReversePosting   = "ReversePosting"
	ActivityInitiatePayout   = "InitiatePayout"
	ActivityAwaitPayout      = "AwaitPayout"
	ActivitySendWebhook      = "SendWebhook"
	ActivityReleaseCycle     = "ReleaseCycle"
	ActivityCompleteCycle    = "CompleteCycle"
	ActivityRecordCycle      = "RecordCycle"
)

// MetricApprovalOverdue counts approval reminders and escalations, tagged
// with level=reminder|escalation.
const MetricApprovalOverdue = "tollgate_cycle_approval_overdue"
