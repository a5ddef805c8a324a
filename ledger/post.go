package ledger

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tollgate/tollgate"
)

// Post commits one entry. A retry with the same idempotency key and content
// returns the original entry and writes nothing; the same key with different
// content is a CodeConflict error.
func (l *Ledger) Post(ctx context.Context, in EntryInput) (Entry, error) {
	out, err := l.PostBatch(ctx, []EntryInput{in})
	if err != nil {
		return Entry{}, err
	}
	return out[0], nil
}

// PostBatch commits entries atomically in one transaction and one round trip,
// which is how bulk writers reach high throughput. Each entry keeps its own
// idempotency key: entries already posted are returned as they are, and only
// the others are written. The result is in input order.
func (l *Ledger) PostBatch(ctx context.Context, ins []EntryInput) ([]Entry, error) {
	if len(ins) > MaxBatch {
		return nil, tollgate.Errorf(tollgate.CodeTooLarge, "batch has %d entries; at most %d are allowed", len(ins), MaxBatch)
	}
	first := map[string]int{}
	var keys []AccountKey
	for i, in := range ins {
		if err := validate(in); err != nil {
			return nil, err
		}
		if j, ok := first[in.IdempotencyKey]; ok {
			if !sameInput(ins[j], in) {
				return nil, tollgate.Errorf(tollgate.CodeConflict, "idempotency key %q is used twice in the batch with different content", in.IdempotencyKey)
			}
			continue
		}
		first[in.IdempotencyKey] = i
		for _, p := range in.Postings {
			keys = append(keys, p.Account)
		}
	}
	if len(ins) == 0 {
		return nil, nil
	}
	ids, err := l.accountIDs(ctx, keys)
	if err != nil {
		return nil, err
	}
	// The first attempt assumes the keys are new, which is the common case,
	// and saves a round trip. If a key exists, or a concurrent writer of the
	// same key wins, the unique index aborts the transaction; the next
	// attempt looks the keys up first and replays or refuses them.
	for attempt := 1; ; attempt++ {
		out, err := l.postOnce(ctx, ins, ids, attempt > 1)
		if errors.Is(err, errRetry) && attempt < 5 {
			continue
		}
		if errors.Is(err, errRetry) {
			return nil, tollgate.Wrap(tollgate.CodeUnavailable, err, "posting kept racing with concurrent writers")
		}
		return out, err
	}
}

var errRetry = errors.New("ledger: transient conflict")

// pending is an entry about to be written.
type pending struct {
	in       EntryInput
	postings []canonicalPosting
	hash     [32]byte
	id       int64
}

func (l *Ledger) postOnce(ctx context.Context, ins []EntryInput, ids map[AccountKey]int64, lookup bool) ([]Entry, error) {
	existing := map[string]Entry{}
	if lookup {
		keys := make([]string, 0, len(ins))
		for _, in := range ins {
			keys = append(keys, in.IdempotencyKey)
		}
		var err error
		if existing, err = l.entriesByKey(ctx, keys); err != nil {
			return nil, err
		}
	}
	for _, in := range ins {
		if e, ok := existing[in.IdempotencyKey]; ok && !sameContent(e, in) {
			return nil, tollgate.Errorf(tollgate.CodeConflict, "idempotency key %q was already used for entry %d with different content", in.IdempotencyKey, e.ID)
		}
	}

	// Microseconds: what timestamptz stores, so the hash recomputes exactly.
	now := l.now().UTC().Truncate(time.Microsecond)
	var todo []*pending
	byKey := map[string]*pending{}
	deltas := map[int64]int64{}
	for _, in := range ins {
		if _, ok := existing[in.IdempotencyKey]; ok {
			continue
		}
		if _, ok := byKey[in.IdempotencyKey]; ok {
			continue
		}
		p := &pending{in: in}
		for _, pi := range in.Postings {
			id := ids[pi.Account]
			p.postings = append(p.postings, canonicalPosting{accountID: id, currency: string(pi.Account.Currency), amount: pi.Amount})
			deltas[id] += pi.Amount
		}
		p.hash = contentHash(in.IdempotencyKey, in.CycleID, in.Description, in.reverses, now, p.postings)
		todo = append(todo, p)
		byKey[in.IdempotencyKey] = p
	}

	if len(todo) > 0 {
		if err := l.write(ctx, todo, deltas, now, lookup); err != nil {
			return nil, err
		}
	}

	out := make([]Entry, len(ins))
	for i, in := range ins {
		if e, ok := existing[in.IdempotencyKey]; ok {
			out[i] = e
			continue
		}
		p := byKey[in.IdempotencyKey]
		e := Entry{
			ID: p.id, IdempotencyKey: in.IdempotencyKey, CycleID: in.CycleID, Description: in.Description,
			ReversesID: in.reverses, PostedAt: now, ContentHash: hex.EncodeToString(p.hash[:]),
		}
		for j, pi := range in.Postings {
			e.Postings = append(e.Postings, Posting{AccountID: p.postings[j].accountID, Account: pi.Account, Amount: pi.Amount})
		}
		out[i] = e
	}
	return out, nil
}

const insertEntrySQL = `
INSERT INTO ledger_entries (idempotency_key, cycle_id, description, reverses_id, posted_at, content_hash)
VALUES ($1, NULLIF($2, ''), $3, NULLIF($4::bigint, 0), $5, $6)
RETURNING id`

// The entry ID comes from the sequence's session value, so the postings can
// be pipelined with the entry insert instead of waiting for its result.
const insertPostingsSQL = `
INSERT INTO ledger_postings (entry_id, account_id, currency, amount, posted_at)
SELECT currval(pg_get_serial_sequence('ledger_entries', 'id')), u.a, u.c, u.m, $4
FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(a, c, m)`

const updateBalanceSQL = `
UPDATE ledger_accounts SET balance = balance + $2, updated_at = greatest(updated_at, $3)
WHERE id = $1`

// write inserts the entries and then moves the balances. Balance updates
// come last and in ascending account ID order: the account row locks are the
// only locks writers of a hot account wait on, so they are held for as short
// a time as possible, and the stable order means no two writers can wait on
// each other in a cycle. The chain head is locked later still, at commit.
func (l *Ledger) write(ctx context.Context, todo []*pending, deltas map[int64]int64, now time.Time, lookedUp bool) error {
	accts := make([]int64, 0, len(deltas))
	for id, d := range deltas {
		if d != 0 {
			accts = append(accts, id)
		}
	}
	slices.Sort(accts)

	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, p := range todo {
			b.Queue(insertEntrySQL, p.in.IdempotencyKey, p.in.CycleID, p.in.Description, p.in.reverses, now, p.hash[:])
			a := make([]int64, len(p.postings))
			c := make([]string, len(p.postings))
			m := make([]int64, len(p.postings))
			for i, pp := range p.postings {
				a[i], c[i], m[i] = pp.accountID, pp.currency, pp.amount
			}
			b.Queue(insertPostingsSQL, a, c, m, now)
		}
		for _, id := range accts {
			b.Queue(updateBalanceSQL, id, deltas[id], now)
		}
		br := tx.SendBatch(ctx, b)
		defer br.Close() //nolint:errcheck // error paths only; the success path returns br.Close()'s error below
		for _, p := range todo {
			if err := br.QueryRow().Scan(&p.id); err != nil {
				return err
			}
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		for _, id := range accts {
			tag, err := br.Exec()
			if err != nil {
				return err
			}
			if tag.RowsAffected() != 1 {
				return tollgate.Errorf(tollgate.CodeInternal, "ledger: account %d vanished", id)
			}
		}
		return br.Close()
	})
	return l.classify(ctx, err, todo, lookedUp)
}

// classify turns database errors from a write into application errors.
// lookedUp says whether the idempotency keys were checked first; if not, a
// unique violation may just mean the entry is a replay.
func (l *Ledger) classify(ctx context.Context, err error, todo []*pending, lookedUp bool) error {
	if err == nil {
		return nil
	}
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		var app *tollgate.Error
		if errors.As(err, &app) {
			return err
		}
		if ctx.Err() != nil {
			return tollgate.Wrap(tollgate.CodeUnavailable, err, "posting interrupted")
		}
		return tollgate.Wrap(tollgate.CodeInternal, err, "posting failed")
	}
	switch {
	case pg.Code == "23505" && pg.ConstraintName == "ledger_entries_idempotency_key_key":
		return errRetry
	case pg.Code == "40P01":
		// Locks are taken in a stable order, so this is a bug; it is
		// surfaced rather than retried so tests catch it.
		return tollgate.Wrap(tollgate.CodeUnavailable, err, "posting deadlocked")
	case pg.Code == "23505" && pg.ConstraintName == "ledger_entries_reversed_once" && !lookedUp:
		return errRetry
	case pg.Code == "23505" && pg.ConstraintName == "ledger_entries_reversed_once":
		for _, p := range todo {
			if p.in.reverses != 0 {
				if by, ok := l.reversedBy(ctx, p.in.reverses); ok {
					return tollgate.Errorf(tollgate.CodeConflict, "entry %d is already reversed by entry %d", p.in.reverses, by)
				}
			}
		}
		return tollgate.Wrap(tollgate.CodeConflict, err, "entry is already reversed")
	case pg.Code == "22003":
		return tollgate.Wrap(tollgate.CodeInvalid, err, "an account balance would leave the representable range")
	case pg.Code == "23514" || pg.Code == "23503" || pg.Code == "23502":
		return tollgate.Wrap(tollgate.CodeInvalid, err, "the database refused the entry")
	}
	return tollgate.Wrap(tollgate.CodeInternal, err, "posting failed")
}

// Reverse posts the mirror of entry entryID, linked to it. An entry is
// reversed at most once (a unique index backs this); a retry with the same
// idempotency key returns the same reversal. Reversals are not themselves
// reversible: to undo one, post a new entry.
func (l *Ledger) Reverse(ctx context.Context, entryID int64, idempotencyKey, reason string) (Entry, error) {
	if reason == "" {
		return Entry{}, tollgate.Errorf(tollgate.CodeInvalid, "a reversal needs a reason")
	}
	orig, err := l.GetEntry(ctx, entryID)
	if err != nil {
		return Entry{}, err
	}
	if orig.ReversesID != 0 {
		return Entry{}, tollgate.Errorf(tollgate.CodeInvalid, "entry %d is itself a reversal of entry %d and cannot be reversed", orig.ID, orig.ReversesID)
	}
	in := EntryInput{IdempotencyKey: idempotencyKey, CycleID: orig.CycleID, Description: reason, reverses: orig.ID}
	for _, p := range orig.Postings {
		in.Postings = append(in.Postings, PostingInput{Account: p.Account, Amount: -p.Amount})
	}
	return l.Post(ctx, in)
}

func (l *Ledger) reversedBy(ctx context.Context, id int64) (int64, bool) {
	var by int64
	err := l.pool.QueryRow(ctx, `SELECT id FROM ledger_entries WHERE reverses_id = $1`, id).Scan(&by)
	return by, err == nil
}

// sameInput compares two inputs as multisets of postings.
func sameInput(a, b EntryInput) bool {
	return a.CycleID == b.CycleID && a.Description == b.Description && a.reverses == b.reverses &&
		slices.Equal(sortedLegs(a.Postings), sortedLegs(b.Postings))
}

// sameContent reports whether a stored entry is what in asks to post.
func sameContent(e Entry, in EntryInput) bool {
	legs := make([]PostingInput, len(e.Postings))
	for i, p := range e.Postings {
		legs[i] = PostingInput{Account: p.Account, Amount: p.Amount}
	}
	return sameInput(EntryInput{CycleID: e.CycleID, Description: e.Description, reverses: e.ReversesID, Postings: legs}, in)
}

func sortedLegs(ps []PostingInput) []PostingInput {
	s := slices.Clone(ps)
	slices.SortFunc(s, func(a, b PostingInput) int {
		if a.Account != b.Account {
			if a.Account.less(b.Account) {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Amount, b.Amount)
	})
	return s
}
