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
// the one with the latest effective_from not after at; before every
// effective_from, the earliest active version. Either way a tie on
// effective_from goes to the higher version number, whatever the order of
// versions. Pending and rejected versions never apply. It returns nil when
// no version is active.
func TermsInForce(versions []TermsVersion, at time.Time) *TermsVersion {
	var best *TermsVersion
	for i := range versions {
		t := &versions[i]
		if t.Status == TermsActive && (best == nil || t.supersedes(best, at)) {
			best = t
		}
	}
	return best
}

// supersedes reports whether t rather than o is in force at at, both active.
func (t *TermsVersion) supersedes(o *TermsVersion, at time.Time) bool {
	tFrom, oFrom := t.Terms.EffectiveFrom, o.Terms.EffectiveFrom
	tIn, oIn := !tFrom.After(at), !oFrom.After(at)
	switch {
	case tIn != oIn:
		return tIn
	case !tFrom.Equal(oFrom):
		// In force: the latest start wins; all in the future: the earliest.
		return tFrom.After(oFrom) == tIn
	default:
		return t.Version > o.Version
	}
}
