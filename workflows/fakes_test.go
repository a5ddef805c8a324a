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

// fakeLedger is an in-memory ledger that answers as ledger.Ledger does
// (ledger/post.go): a reused idempotency key with the same content returns
// the first entry; with different content it is a CodeConflict error, which
// activities/errors.go turns into a non-retryable Conflict; an entry is
// reversed at most once and a reversal is not itself reversible. Amounts are
// checked as the real ledger checks them, so a workflow cannot book what the
// real ledger would refuse.
//
// lostAcks simulates commits whose answer never reaches the caller (a
// connection reset after COMMIT): that many calls with the idempotency key
// do their work, then report CodeUnavailable.
type fakeLedger struct {
	mu       sync.Mutex
	entries  []ledger.Entry
	lostAcks map[string]int
}

func (l *fakeLedger) Post(_ context.Context, in ledger.EntryInput) (ledger.Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, err := l.post(in, 0)
	return l.ack(in.IdempotencyKey, e, err)
}

func (l *fakeLedger) Reverse(_ context.Context, id int64, key, reason string) (ledger.Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if reason == "" {
		return ledger.Entry{}, tollgate.Errorf(tollgate.CodeInvalid, "a reversal needs a reason")
	}
	idx := slices.IndexFunc(l.entries, func(e ledger.Entry) bool { return e.ID == id })
	if idx < 0 {
		return ledger.Entry{}, tollgate.Errorf(tollgate.CodeNotFound, "entry %d does not exist", id)
	}
	orig := l.entries[idx]
	if orig.ReversesID != 0 {
		return ledger.Entry{}, tollgate.Errorf(tollgate.CodeInvalid, "entry %d is itself a reversal of entry %d and cannot be reversed", orig.ID, orig.ReversesID)
	}
	in := ledger.EntryInput{IdempotencyKey: key, CycleID: orig.CycleID, Description: reason}
	for _, p := range orig.Postings {
		in.Postings = append(in.Postings, ledger.PostingInput{Account: p.Account, Amount: -p.Amount})
	}
	e, err := l.post(in, id)
	return l.ack(key, e, err)
}

// ack reports the outcome of a call with key, or loses it (see lostAcks).
func (l *fakeLedger) ack(key string, e ledger.Entry, err error) (ledger.Entry, error) {
	if err == nil && l.lostAcks[key] > 0 {
		l.lostAcks[key]--
		return ledger.Entry{}, tollgate.Errorf(tollgate.CodeUnavailable, "connection reset after commit")
	}
	return e, err
}

// post mirrors ledger.PostBatch for one entry: validate, then replay or
// refuse a known key, then enforce reversed-once, then write.
func (l *fakeLedger) post(in ledger.EntryInput, reverses int64) (ledger.Entry, error) {
	if err := fakeValidate(in); err != nil {
		return ledger.Entry{}, err
	}
	if i := slices.IndexFunc(l.entries, func(e ledger.Entry) bool { return e.IdempotencyKey == in.IdempotencyKey }); i >= 0 {
		e := l.entries[i]
		if !sameEntry(e, in, reverses) {
			return ledger.Entry{}, tollgate.Errorf(tollgate.CodeConflict, "idempotency key %q was already used for entry %d with different content", in.IdempotencyKey, e.ID)
		}
		return e, nil
	}
	if reverses != 0 {
		if i := slices.IndexFunc(l.entries, func(e ledger.Entry) bool { return e.ReversesID == reverses }); i >= 0 {
			return ledger.Entry{}, tollgate.Errorf(tollgate.CodeConflict, "entry %d is already reversed by entry %d", reverses, l.entries[i].ID)
		}
	}
	e := ledger.Entry{ID: int64(len(l.entries) + 1), IdempotencyKey: in.IdempotencyKey, CycleID: in.CycleID, Description: in.Description, ReversesID: reverses}
	for _, p := range in.Postings {
		e.Postings = append(e.Postings, ledger.Posting{Account: p.Account, Amount: p.Amount})
	}
	l.entries = append(l.entries, e)
	return e, nil
}

// fakeValidate is the part of the ledger's validation a workflow can get
// wrong: a key, at least two legs, no zero leg, balanced per currency.
func fakeValidate(in ledger.EntryInput) error {
	if in.IdempotencyKey == "" {
		return tollgate.Errorf(tollgate.CodeInvalid, "idempotency key must not be empty")
	}
	if len(in.Postings) < 2 {
		return tollgate.Errorf(tollgate.CodeInvalid, "entry %q has %d postings; at least 2 are required", in.IdempotencyKey, len(in.Postings))
	}
	sums := map[tollgate.Currency]int64{}
	for i, p := range in.Postings {
		if p.Amount == 0 {
			return tollgate.Errorf(tollgate.CodeInvalid, "entry %q posting %d has a zero amount", in.IdempotencyKey, i)
		}
		sums[p.Account.Currency] += p.Amount
	}
	for c, s := range sums {
		if s != 0 {
			return tollgate.Errorf(tollgate.CodeInvalid, "entry %q postings sum to %d minor units of %s, not zero", in.IdempotencyKey, s, c)
		}
	}
	return nil
}

// sameEntry is the ledger's sameContent: cycle, description, the entry
// reversed and the postings as a multiset.
func sameEntry(e ledger.Entry, in ledger.EntryInput, reverses int64) bool {
	if e.CycleID != in.CycleID || e.Description != in.Description || e.ReversesID != reverses || len(e.Postings) != len(in.Postings) {
		return false
	}
	type leg struct {
		account ledger.AccountKey
		amount  int64
	}
	legs := map[leg]int{}
	for _, p := range e.Postings {
		legs[leg{p.Account, p.Amount}]++
	}
	for _, p := range in.Postings {
		legs[leg{p.Account, p.Amount}]--
	}
	for _, n := range legs {
		if n != 0 {
			return false
		}
	}
	return true
}

// loseAcks makes the next n successful calls with key lose their answer.
func (l *fakeLedger) loseAcks(key string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lostAcks == nil {
		l.lostAcks = map[string]int{}
	}
	l.lostAcks[key] = n
}

func (l *fakeLedger) entry(id int64) ledger.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.entries[id-1]
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
