package workflows

// GetVersion change IDs of SettlementCycle live here, one constant per
// change, never renamed or reused. Histories recorded before a change are
// kept in testdata/ and replayed by replay_test.go, so the old branch stays
// covered for as long as such workflows may be open.
//
// There is no change yet: the first recorded histories are version
// workflow.DefaultVersion.
