// Package ledger is Tollgate's double-entry ledger on PostgreSQL.
//
// Accounts are keyed by (party, purpose, currency) and created on first use.
// Journal entries hold two or more postings in integer minor units that sum
// to zero per currency; they are immutable once committed and corrected only
// by reversal. Each entry carries an idempotency key, so a retried write
// returns the original entry. A hash chain over entries makes tampering
// evident; Verify recomputes it together with the trial balance.
//
// Every invariant checked here in Go is also enforced by the database (see
// migrations/00002_ledger.sql), so no caller and no hand-written statement
// can commit books that do not balance.
package ledger

import (
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tollgate/tollgate"
)

// Purpose says what an account is for. The set is closed so reports can rely
// on it; adding one is a code change.
type Purpose string

const (
	// PurposeOperatorPayable is what Tollgate owes an operator or, when
	// negative, what the operator owes.
	PurposeOperatorPayable Purpose = "operator_payable"
	// PurposeProviderReceivable is what a provider is due from settlement.
	PurposeProviderReceivable Purpose = "provider_receivable"
	// PurposePayoutClearing holds money between a payout instruction and its
	// confirmation by the payout adapter.
	PurposePayoutClearing Purpose = "payout_clearing"
	// PurposeFXRevaluation absorbs gains and losses from currency conversion.
	PurposeFXRevaluation Purpose = "fx_revaluation"
)

// Purposes lists every valid purpose.
var Purposes = []Purpose{PurposeOperatorPayable, PurposeProviderReceivable, PurposePayoutClearing, PurposeFXRevaluation}

// Valid reports whether p is one of the known purposes.
func (p Purpose) Valid() bool {
	for _, q := range Purposes {
		if p == q {
			return true
		}
	}
	return false
}

// AccountKey names an account. The same key always yields the same account.
type AccountKey struct {
	PartyID  string
	Purpose  Purpose
	Currency tollgate.Currency
}

func (k AccountKey) less(o AccountKey) bool {
	if k.PartyID != o.PartyID {
		return k.PartyID < o.PartyID
	}
	if k.Purpose != o.Purpose {
		return k.Purpose < o.Purpose
	}
	return k.Currency < o.Currency
}

// Account is an account with its current balance in minor units.
type Account struct {
	ID        int64
	Key       AccountKey
	Balance   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PostingInput is one leg of an entry: a signed amount in the minor units of
// the account's currency.
type PostingInput struct {
	Account AccountKey
	Amount  int64
}

// EntryInput is a journal entry to post. IdempotencyKey identifies it: a
// retry with the same key and content returns the original entry.
type EntryInput struct {
	IdempotencyKey string
	CycleID        string // optional: the settlement cycle that produced it
	Description    string
	Postings       []PostingInput

	reverses int64 // set by Reverse only
}

// Posting is a committed leg of an entry.
type Posting struct {
	AccountID int64
	Account   AccountKey
	Amount    int64
}

// Entry is a committed journal entry.
type Entry struct {
	ID             int64
	IdempotencyKey string
	CycleID        string
	Description    string
	ReversesID     int64 // the entry this one reverses, or 0
	PostedAt       time.Time
	ContentHash    string // hex SHA-256 of the canonical content
	Postings       []Posting
}

// Ledger posts and reads entries. It is safe for concurrent use.
type Ledger struct {
	pool *pgxpool.Pool
	now  func() time.Time

	// Account IDs never change once assigned, so they are cached to spare
	// the posting path a lookup.
	mu  sync.RWMutex
	ids map[AccountKey]int64
}

// Option configures a Ledger.
type Option func(*Ledger)

// WithClock sets the clock that stamps posted_at. Tests inject a fixed one.
func WithClock(now func() time.Time) Option {
	return func(l *Ledger) { l.now = now }
}

// New returns a ledger on pool.
func New(pool *pgxpool.Pool, opts ...Option) *Ledger {
	l := &Ledger{pool: pool, now: time.Now, ids: map[AccountKey]int64{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Limits keep one entry or batch within what a single transaction handles
// comfortably and keep sums of amounts far from int64 overflow.
const (
	MaxPostings   = 1000
	MaxBatch      = 1000
	MaxAmount     = int64(1) << 52
	maxKeyLen     = 200
	maxDescLen    = 1000
	maxPartyIDLen = 200
)

// validText refuses what PostgreSQL text cannot store, so it is reported as
// bad input rather than as a database failure.
func validText(field, s string) error {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return tollgate.Errorf(tollgate.CodeInvalid, "%s is not valid UTF-8 text without NUL bytes", field)
	}
	return nil
}

func validateKey(k AccountKey) error {
	if err := validText("account party ID", k.PartyID); err != nil {
		return err
	}
	if k.PartyID == "" || len(k.PartyID) > maxPartyIDLen {
		return tollgate.Errorf(tollgate.CodeInvalid, "account party ID must be 1 to %d bytes", maxPartyIDLen)
	}
	if !k.Purpose.Valid() {
		return tollgate.Errorf(tollgate.CodeInvalid, "account purpose %q is not one of %v", k.Purpose, Purposes)
	}
	if _, err := tollgate.ParseCurrency(string(k.Currency)); err != nil {
		return err
	}
	return nil
}

// validate checks an entry the way the database will, so callers get a clear
// error instead of a constraint violation at commit.
func validate(in EntryInput) error {
	if in.IdempotencyKey == "" || len(in.IdempotencyKey) > maxKeyLen {
		return tollgate.Errorf(tollgate.CodeInvalid, "idempotency key must be 1 to %d bytes", maxKeyLen)
	}
	if len(in.CycleID) > maxKeyLen {
		return tollgate.Errorf(tollgate.CodeInvalid, "cycle ID is longer than %d bytes", maxKeyLen)
	}
	if len(in.Description) > maxDescLen {
		return tollgate.Errorf(tollgate.CodeInvalid, "description is longer than %d bytes", maxDescLen)
	}
	for _, f := range []struct{ name, s string }{{"idempotency key", in.IdempotencyKey}, {"cycle ID", in.CycleID}, {"description", in.Description}} {
		if err := validText(f.name, f.s); err != nil {
			return err
		}
	}
	if len(in.Postings) < 2 {
		return tollgate.Errorf(tollgate.CodeInvalid, "entry %q has %d postings; at least 2 are required", in.IdempotencyKey, len(in.Postings))
	}
	if len(in.Postings) > MaxPostings {
		return tollgate.Errorf(tollgate.CodeTooLarge, "entry %q has %d postings; at most %d are allowed", in.IdempotencyKey, len(in.Postings), MaxPostings)
	}
	// |amount| <= 2^52 and at most 1000 postings keep every sum below 2^62.
	sums := map[tollgate.Currency]int64{}
	for i, p := range in.Postings {
		if err := validateKey(p.Account); err != nil {
			return tollgate.Wrap(tollgate.CodeInvalid, err, "entry %q posting %d", in.IdempotencyKey, i)
		}
		if p.Amount == 0 {
			return tollgate.Errorf(tollgate.CodeInvalid, "entry %q posting %d has a zero amount", in.IdempotencyKey, i)
		}
		if p.Amount > MaxAmount || p.Amount < -MaxAmount {
			return tollgate.Errorf(tollgate.CodeInvalid, "entry %q posting %d amount %d is out of range", in.IdempotencyKey, i, p.Amount)
		}
		sums[p.Account.Currency] += p.Amount
	}
	for c, s := range sums {
		if s != 0 {
			return tollgate.Errorf(tollgate.CodeInvalid, "entry %q postings sum to %s %s, not zero",
				in.IdempotencyKey, tollgate.FormatAmount(tollgate.FromMinorUnits(s, c), c), c)
		}
	}
	return nil
}
