package workflows_test

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/ledger"
)

// fakeStore is an in-memory CycleStore. failClose, when set, makes
// CloseCycle fail as a database outage would.
type fakeStore struct {
	mu        sync.Mutex
	snap      tollgate.CycleSnapshot
	rates     map[tollgate.Currency]tollgate.Rate
	failClose bool
	// failComplete makes this many CompleteCycle calls fail.
	failComplete int
	closed       []string
	released     []string
	completed    map[string]string
}

func (s *fakeStore) CloseCycle(_ context.Context, req tollgate.CloseRequest) (tollgate.CycleSnapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failClose {
		return tollgate.CycleSnapshot{}, tollgate.Errorf(tollgate.CodeUnavailable, "database is down")
	}
	s.closed = append(s.closed, req.CycleID)
	snap := s.snap
	snap.CycleID, snap.ContractID, snap.PeriodEnd, snap.ClosedAt = req.CycleID, req.ContractID, req.PeriodEnd, req.PeriodEnd
	return snap, nil
}

func (s *fakeStore) ReleaseCycle(_ context.Context, cycleID, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.released = append(s.released, cycleID)
	return nil
}

func (s *fakeStore) CompleteCycle(_ context.Context, cycleID string, carryOut string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failComplete > 0 {
		s.failComplete--
		return tollgate.Errorf(tollgate.CodeConflict, "complete refused")
	}
	if s.completed == nil {
		s.completed = map[string]string{}
	}
	s.completed[cycleID] = carryOut
	return nil
}

func (s *fakeStore) RatesAt(_ context.Context, _ tollgate.Currency, bases []tollgate.Currency, at time.Time) (map[tollgate.Currency]tollgate.Rate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[tollgate.Currency]tollgate.Rate{}
	for _, b := range bases {
		if r, ok := s.rates[b]; ok && !r.AsOf.After(at) {
			out[b] = r
		}
	}
	return out, nil
}

func (s *fakeStore) setRate(c tollgate.Currency, r tollgate.Rate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rates == nil {
		s.rates = map[tollgate.Currency]tollgate.Rate{}
	}
	s.rates[c] = r
}

func (s *fakeStore) setFailClose(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failClose = v
}

// fakeRecorder keeps every record written.
type fakeRecorder struct {
	mu      sync.Mutex
	records []tollgate.CycleRecord
}

func (r *fakeRecorder) RecordCycle(_ context.Context, rec tollgate.CycleRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec)
	return nil
}

// statuses lists the recorded statuses without consecutive repeats.
func (r *fakeRecorder) statuses() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rec := range r.records {
		if len(out) == 0 || out[len(out)-1] != rec.Status {
			out = append(out, rec.Status)
		}
	}
	return out
}

func (r *fakeRecorder) last() tollgate.CycleRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.records[len(r.records)-1]
}

type fakeParties map[string]tollgate.Party

func (p fakeParties) GetPartyForNotify(_ context.Context, id string) (tollgate.Party, error) {
	if party, ok := p[id]; ok {
		return party, nil
	}
	return tollgate.Party{}, tollgate.Errorf(tollgate.CodeNotFound, "party %s not found", id)
}

// fakeLedger is an idempotent in-memory ledger.
type fakeLedger struct {
	mu      sync.Mutex
	entries []ledger.Entry
}

func (l *fakeLedger) Post(_ context.Context, in ledger.EntryInput) (ledger.Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.post(in, 0), nil
}

func (l *fakeLedger) post(in ledger.EntryInput, reverses int64) ledger.Entry {
	for _, e := range l.entries {
		if e.IdempotencyKey == in.IdempotencyKey {
			return e
		}
	}
	e := ledger.Entry{ID: int64(len(l.entries) + 1), IdempotencyKey: in.IdempotencyKey, CycleID: in.CycleID, Description: in.Description, ReversesID: reverses}
	for _, p := range in.Postings {
		e.Postings = append(e.Postings, ledger.Posting{Account: p.Account, Amount: p.Amount})
	}
	l.entries = append(l.entries, e)
	return e
}

func (l *fakeLedger) Reverse(_ context.Context, id int64, key, reason string) (ledger.Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	idx := slices.IndexFunc(l.entries, func(e ledger.Entry) bool { return e.ID == id })
	if idx < 0 {
		return ledger.Entry{}, tollgate.Errorf(tollgate.CodeNotFound, "entry %d not found", id)
	}
	in := ledger.EntryInput{IdempotencyKey: key, CycleID: l.entries[idx].CycleID, Description: reason}
	for _, p := range l.entries[idx].Postings {
		in.Postings = append(in.Postings, ledger.PostingInput{Account: p.Account, Amount: -p.Amount})
	}
	return l.post(in, id), nil
}

// balance sums the postings on one account.
func (l *fakeLedger) balance(party string, purpose ledger.Purpose) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var sum int64
	for _, e := range l.entries {
		for _, p := range e.Postings {
			if p.Account.PartyID == party && p.Account.Purpose == purpose {
				sum += p.Amount
			}
		}
	}
	return sum
}

func (l *fakeLedger) keys() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.entries {
		out = append(out, e.IdempotencyKey)
	}
	return out
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }
