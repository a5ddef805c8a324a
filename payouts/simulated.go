package payouts

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tollgate/tollgate"
)

// SimulatedName is the adapter name contracts use for the simulated bank.
const SimulatedName = tollgate.PayoutAdapterSimulated

// SimulatedOptions shape the simulated bank's behaviour. The zero value is a
// bank that confirms every payout at once.
type SimulatedOptions struct {
	// Latency is added to every call, as a real bank's round trip would be.
	Latency time.Duration
	// Rand drives TransientPercent; inject a seeded source so a test run is
	// reproducible. Nil disables random failures.
	Rand *rand.Rand
	// TransientPercent is the chance (0-100) that any call fails transiently
	// before it has any effect.
	TransientPercent int
	// TransientFailures makes the first N Initiate calls of every key fail
	// transiently, which is how tests script "fails twice, then works".
	TransientFailures int
	// PendingPolls is how many Status polls answer pending before the
	// payout confirms.
	PendingPolls int
	// MaxAmount declines payouts above it (minor units); 0 means no limit.
	MaxAmount int64
	// DeclinedPayees declines every payout to these payees, with a reason.
	DeclinedPayees map[string]string
	// DeclinedKeys declines these idempotency keys at Initiate.
	DeclinedKeys map[string]string
	// ReturnedKeys accepts these keys but fails them at confirmation, as a
	// payment returned by the payee's bank would.
	ReturnedKeys map[string]string
}

// Payment is one payout as the simulated bank holds it.
type Payment struct {
	Reference string
	Request   Request
	Status    Status
	Reason    string
	Polls     int
}

// Simulated is an in-memory bank. It is safe for concurrent use and never
// pays a key twice: a repeated Initiate returns the first reference.
type Simulated struct {
	mu       sync.Mutex
	opts     SimulatedOptions
	byKey    map[string]*Payment
	byRef    map[string]*Payment
	attempts map[string]int
	seq      int
}

// NewSimulated returns a simulated bank.
func NewSimulated(opts SimulatedOptions) *Simulated {
	return &Simulated{opts: opts, byKey: map[string]*Payment{}, byRef: map[string]*Payment{}, attempts: map[string]int{}}
}

// Decline makes later Initiate calls with key fail definitively; tests and
// the dev stack use it to show compensation.
func (s *Simulated) Decline(key, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.DeclinedKeys == nil {
		s.opts.DeclinedKeys = map[string]string{}
	}
	s.opts.DeclinedKeys[key] = reason
}

// Allow lifts a Decline.
func (s *Simulated) Allow(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.opts.DeclinedKeys, key)
}

// Payment returns the payout held under key.
func (s *Simulated) Payment(key string) (Payment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.byKey[key]
	if !ok {
		return Payment{}, false
	}
	return *p, true
}

// Count is the number of distinct payouts accepted.
func (s *Simulated) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byKey)
}

// Initiate accepts a payout once per key.
func (s *Simulated) Initiate(ctx context.Context, req Request) (string, error) {
	if err := s.wait(ctx); err != nil {
		return "", err
	}
	if err := req.Validate(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.byKey[req.IdempotencyKey]; ok {
		return p.Reference, nil
	}
	if err := s.flaky(); err != nil {
		return "", err
	}
	s.attempts[req.IdempotencyKey]++
	if s.attempts[req.IdempotencyKey] <= s.opts.TransientFailures {
		return "", Transient("simulated bank: temporarily unavailable (attempt %d of key %q)", s.attempts[req.IdempotencyKey], req.IdempotencyKey)
	}
	if reason, ok := s.opts.DeclinedKeys[req.IdempotencyKey]; ok {
		return "", Declined("simulated bank declined payout %q: %s", req.IdempotencyKey, reason)
	}
	if reason, ok := s.opts.DeclinedPayees[req.PayeeID]; ok {
		return "", Declined("simulated bank declined payee %q: %s", req.PayeeID, reason)
	}
	if s.opts.MaxAmount > 0 && req.Amount > s.opts.MaxAmount {
		return "", Declined("simulated bank declined payout %q: amount %d exceeds the limit %d", req.IdempotencyKey, req.Amount, s.opts.MaxAmount)
	}
	s.seq++
	p := &Payment{Reference: fmt.Sprintf("sim-%06d", s.seq), Request: req, Status: StatusPending}
	s.byKey[req.IdempotencyKey] = p
	s.byRef[p.Reference] = p
	return p.Reference, nil
}

// Status reports a payout, confirming it after the configured pending polls.
func (s *Simulated) Status(ctx context.Context, reference string) (Result, error) {
	if err := s.wait(ctx); err != nil {
		return Result{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.byRef[reference]
	if !ok {
		return Result{}, Declined("simulated bank: no payout with reference %q", reference)
	}
	if err := s.flaky(); err != nil {
		return Result{}, err
	}
	if p.Status == StatusPending {
		p.Polls++
		switch reason, returned := s.opts.ReturnedKeys[p.Request.IdempotencyKey]; {
		case p.Polls <= s.opts.PendingPolls:
		case returned:
			p.Status, p.Reason = StatusFailed, reason
		default:
			p.Status = StatusConfirmed
		}
	}
	return Result{Status: p.Status, Reason: p.Reason}, nil
}

// flaky fails at the configured rate; callers hold the lock, which also
// guards the random source.
func (s *Simulated) flaky() error {
	if s.opts.Rand != nil && s.opts.TransientPercent > 0 && s.opts.Rand.IntN(100) < s.opts.TransientPercent {
		return Transient("simulated bank: random transient failure")
	}
	return nil
}

func (s *Simulated) wait(ctx context.Context) error {
	if s.opts.Latency <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(s.opts.Latency)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return Transient("simulated bank: %v", ctx.Err())
	case <-t.C:
		return nil
	}
}
