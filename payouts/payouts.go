// Package payouts moves settled money to a payee through a payout adapter:
// the simulated bank used by the dev stack and tests, or a generic HTTP
// payout service. Every adapter is idempotent on the request's key, so a
// retried instruction never pays twice.
package payouts

import (
	"context"
	"sort"
	"strings"

	"github.com/tollgate/tollgate"
)

// Status is where a payout stands at the adapter.
type Status string

const (
	StatusPending   Status = "pending"
	StatusConfirmed Status = "confirmed"
	StatusFailed    Status = "failed"
)

// Request instructs one payout. Amount is in minor units of Currency and is
// positive.
type Request struct {
	// IdempotencyKey identifies the payout at the adapter: the same key
	// always yields the same reference and at most one payment.
	IdempotencyKey string
	PayeeID        string
	Amount         int64
	Currency       tollgate.Currency
	// Options are the contract's adapter options (for example an account
	// reference); the adapter decides what they mean.
	Options map[string]string
}

// Validate refuses requests no adapter could act on.
func (r Request) Validate() error {
	switch {
	case r.IdempotencyKey == "":
		return tollgate.Errorf(tollgate.CodeInvalid, "payout: idempotency key is required")
	case r.PayeeID == "":
		return tollgate.Errorf(tollgate.CodeInvalid, "payout: payee is required")
	case r.Amount <= 0:
		return tollgate.Errorf(tollgate.CodeInvalid, "payout: amount %d must be positive", r.Amount)
	}
	if _, err := tollgate.ParseCurrency(string(r.Currency)); err != nil {
		return tollgate.Wrap(tollgate.CodeInvalid, err, "payout")
	}
	return nil
}

// Result is the adapter's answer to a status poll. Reason explains a failure.
type Result struct {
	Status Status
	Reason string
}

// Adapter is one way of paying out.
//
// Errors carry tollgate codes so callers can tell what retrying would do:
// CodeUnavailable (and CodeRateLimited) is transient — retry with the same
// key; CodeInvalid, CodeConflict and CodeNotFound are definitive — the payout
// did not and will not happen under this key.
type Adapter interface {
	Initiate(ctx context.Context, req Request) (reference string, err error)
	Status(ctx context.Context, reference string) (Result, error)
}

// Transient builds the error an adapter returns when trying again later may
// succeed.
func Transient(format string, args ...any) error {
	return tollgate.Errorf(tollgate.CodeUnavailable, format, args...)
}

// Declined builds the error an adapter returns when the payee's bank or the
// adapter definitively refuses the payout.
func Declined(format string, args ...any) error {
	return tollgate.Errorf(tollgate.CodeConflict, format, args...)
}

// IsTransient reports whether err is worth retrying with the same key.
func IsTransient(err error) bool {
	switch tollgate.ErrorCode(err) {
	case tollgate.CodeUnavailable, tollgate.CodeRateLimited, tollgate.CodeInternal:
		return true
	}
	return false
}

// Registry finds adapters by the name contracts use (PayoutConfig.Adapter).
type Registry map[string]Adapter

// Get returns the named adapter; an unknown name is a definitive error
// because the contract, not the moment, is wrong.
func (r Registry) Get(name string) (Adapter, error) {
	if a, ok := r[name]; ok {
		return a, nil
	}
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	sort.Strings(names)
	return nil, tollgate.Errorf(tollgate.CodeInvalid, "payout adapter %q is not configured (known: %s)", name, strings.Join(names, ", "))
}
