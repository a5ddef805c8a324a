package tollgate

import (
	"slices"
	"strings"
)

// Payout adapter names a contract may name (PayoutConfig.Adapter). Stored
// in contracts: never rename one.
const (
	PayoutAdapterSimulated = "simulated" // the simulated bank (development)
	PayoutAdapterHTTP      = "http"      // the generic HTTP bank adapter
)

// PayoutAdapters are the adapter names a contract may name; the worker
// builds exactly these.
var PayoutAdapters = []string{PayoutAdapterSimulated, PayoutAdapterHTTP}

// CheckAdapter refuses an adapter name that is not among known.
func (p PayoutConfig) CheckAdapter(known []string) error {
	if !slices.Contains(known, p.Adapter) {
		return Errorf(CodeInvalid, "payout.adapter: %q is not one of %s", p.Adapter, strings.Join(known, ", "))
	}
	return nil
}
