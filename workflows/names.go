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
