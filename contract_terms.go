package tollgate

import "time"

// Terms version statuses.
const (
	TermsPending  = "pending"  // written, waiting for a second person's approval
	TermsActive   = "active"   // approved; in force from its effective_from
	TermsRejected = "rejected" // refused; never in force
)

// TermsVersion is one version of a contract's terms.
type TermsVersion struct {
	Version    int       `json:"version"`
	Status     string    `json:"status"` // pending | active | rejected
	Terms      Terms     `json:"terms"`
	CreatedBy  string    `json:"created_by"`
	ApprovedBy string    `json:"approved_by,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// ContractView is a contract with the terms in force, its settlement state
// (closed through, carry) and every terms version.
type ContractView struct {
	Contract
	ClosedThrough *time.Time     `json:"closed_through,omitempty"`
	Carry         string         `json:"carry"`
	Versions      []TermsVersion `json:"versions"`
}

// TermsInForce picks the terms in force at a time: among active versions,
// the one with the latest effective_from not after at (a later version wins
// a tie); before every effective_from, the earliest active version. Pending
// and rejected versions never apply. It returns nil when no version is
// active.
func TermsInForce(versions []TermsVersion, at time.Time) *TermsVersion {
	var best *TermsVersion
	for i := range versions {
		t := &versions[i]
		if t.Status != TermsActive {
			continue
		}
		switch {
		case best == nil:
			best = t
		case t.Terms.EffectiveFrom.After(at):
			if best.Terms.EffectiveFrom.After(at) && t.Terms.EffectiveFrom.Before(best.Terms.EffectiveFrom) {
				best = t
			}
		case best.Terms.EffectiveFrom.After(at) || !t.Terms.EffectiveFrom.Before(best.Terms.EffectiveFrom):
			best = t
		}
	}
	return best
}
