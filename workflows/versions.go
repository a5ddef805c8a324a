package workflows

// GetVersion change IDs of SettlementCycle live here, one constant per
// change, never renamed or reused. Histories recorded before a change are
// kept in testdata/ and replayed by replay_test.go, so the old branch stays
// covered for as long as such workflows may be open.
//
// Histories recorded before the first change are kept as testdata/v0_*.json,
// those recorded before fixed-reversal-reason as testdata/v1_*.json; the
// unprefixed ones are recorded with every change in this file.

// versionApprovedIsFinal: once a cycle is approved, an operator can no
// longer cancel it (except from payout_failed, after the reversal), and a
// zero-total cycle leaves awaiting_approval at once. Before it, a zero-total
// cycle parked while completing could be cancelled without completing, and
// lose its carry.
const versionApprovedIsFinal = "approved-is-final"

// versionFixedReversalReason: the reversal of a declined payout carries the
// reason captured when compensation started, on every attempt. Before it,
// the reason was rebuilt from the cycle's current error, which is cleared
// when a parked compensation is retried, so a retry of a reversal that had
// committed reused its key with other content and was refused for good.
const versionFixedReversalReason = "fixed-reversal-reason"
