package ledger

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate/tollgate"
)

// Page sizes for the list calls.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// accountIDs returns the ID of every key, creating missing accounts. Creation
// is committed on its own, before the posting transaction: an empty account
// is harmless if the posting then fails, and the posting transaction then
// takes no insert locks that could order differently between writers.
func (l *Ledger) accountIDs(ctx context.Context, keys []AccountKey) (map[AccountKey]int64, error) {
	out := make(map[AccountKey]int64, len(keys))
	var missing []AccountKey
	l.mu.RLock()
	for _, k := range keys {
		if id, ok := l.ids[k]; ok {
			out[k] = id
		} else if !slices.Contains(missing, k) {
			missing = append(missing, k)
		}
	}
	l.mu.RUnlock()
	if len(missing) == 0 {
		return out, nil
	}
	// Byte order, matching COLLATE "C" below, so concurrent creators of
	// overlapping key sets insert in the same order.
	slices.SortFunc(missing, func(a, b AccountKey) int {
		if a == b {
			return 0
		}
		if a.less(b) {
			return -1
		}
		return 1
	})
	parties := make([]string, len(missing))
	purposes := make([]string, len(missing))
	currencies := make([]string, len(missing))
	for i, k := range missing {
		parties[i], purposes[i], currencies[i] = k.PartyID, string(k.Purpose), string(k.Currency)
	}
	now := l.now().UTC().Truncate(time.Microsecond)
	_, err := l.pool.Exec(ctx, `
INSERT INTO ledger_accounts (party_id, purpose, currency, created_at, updated_at)
SELECT u.p, u.r, u.c, $4, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS u(p, r, c)
ORDER BY u.p COLLATE "C", u.r COLLATE "C", u.c COLLATE "C"
ON CONFLICT (party_id, purpose, currency) DO NOTHING`, parties, purposes, currencies, now)
	if err != nil {
		return nil, tollgate.Wrap(tollgate.CodeInternal, err, "creating accounts")
	}
	rows, err := l.pool.Query(ctx, `
SELECT a.id, a.party_id, a.purpose, a.currency FROM ledger_accounts a
JOIN unnest($1::text[], $2::text[], $3::text[]) AS u(p, r, c)
  ON a.party_id = u.p AND a.purpose = u.r AND a.currency = u.c`, parties, purposes, currencies)
	if err != nil {
		return nil, tollgate.Wrap(tollgate.CodeInternal, err, "reading accounts")
	}
	defer rows.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	for rows.Next() {
		var id int64
		var k AccountKey
		if err := rows.Scan(&id, &k.PartyID, &k.Purpose, &k.Currency); err != nil {
			return nil, tollgate.Wrap(tollgate.CodeInternal, err, "reading accounts")
		}
		out[k] = id
		l.ids[k] = id
	}
	if err := rows.Err(); err != nil {
		return nil, tollgate.Wrap(tollgate.CodeInternal, err, "reading accounts")
	}
	return out, nil
}

const accountCols = `id, party_id, purpose, currency, balance, created_at, updated_at`

func scanAccount(row pgx.Row) (Account, error) {
	var a Account
	err := row.Scan(&a.ID, &a.Key.PartyID, &a.Key.Purpose, &a.Key.Currency, &a.Balance, &a.CreatedAt, &a.UpdatedAt)
	return a, err
}

// GetAccount returns one account with its current balance.
func (l *Ledger) GetAccount(ctx context.Context, id int64) (Account, error) {
	a, err := scanAccount(l.pool.QueryRow(ctx, `SELECT `+accountCols+` FROM ledger_accounts WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, tollgate.Errorf(tollgate.CodeNotFound, "account %d does not exist", id)
	}
	if err != nil {
		return Account{}, tollgate.Wrap(tollgate.CodeInternal, err, "reading account %d", id)
	}
	return a, nil
}

// AccountByKey returns the account named by key; it does not create it.
func (l *Ledger) AccountByKey(ctx context.Context, key AccountKey) (Account, error) {
	a, err := scanAccount(l.pool.QueryRow(ctx, `SELECT `+accountCols+` FROM ledger_accounts
WHERE party_id = $1 AND purpose = $2 AND currency = $3`, key.PartyID, string(key.Purpose), string(key.Currency)))
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, tollgate.Errorf(tollgate.CodeNotFound, "account %s/%s/%s does not exist", key.PartyID, key.Purpose, key.Currency)
	}
	if err != nil {
		return Account{}, tollgate.Wrap(tollgate.CodeInternal, err, "reading account")
	}
	return a, nil
}

// AccountFilter selects accounts; zero fields do not filter.
type AccountFilter struct {
	PartyID  string
	Purpose  Purpose
	Currency tollgate.Currency
	Cursor   string // from a previous page; empty for the first
	Limit    int    // 0 means DefaultLimit
}

// ListAccounts returns accounts in ID order and the cursor of the next page,
// empty on the last.
func (l *Ledger) ListAccounts(ctx context.Context, f AccountFilter) ([]Account, string, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, "", err
	}
	after, err := tollgate.DecodeCursorID(tollgate.CursorLedgerAccounts, f.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := `SELECT ` + accountCols + ` FROM ledger_accounts WHERE id > $1
  AND ($2 = '' OR party_id = $2) AND ($3 = '' OR purpose = $3) AND ($4 = '' OR currency = $4)
ORDER BY id LIMIT $5`
	rows, err := l.pool.Query(ctx, q, after, f.PartyID, string(f.Purpose), string(f.Currency), limit+1)
	if err != nil {
		return nil, "", tollgate.Wrap(tollgate.CodeInternal, err, "listing accounts")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Account, error) { return scanAccount(r) })
	if err != nil {
		return nil, "", tollgate.Wrap(tollgate.CodeInternal, err, "listing accounts")
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = tollgate.EncodeCursorID(tollgate.CursorLedgerAccounts, out[limit-1].ID)
	}
	return out, next, nil
}

// Balance is an account's balance in minor units of its currency.
type Balance struct {
	AccountID int64
	Currency  tollgate.Currency
	Amount    int64
	AsOf      *time.Time // nil for the current balance
}

// Balance returns the current balance (asOf nil) or the sum of the postings
// stamped at or before asOf. An as-of time in the last moments may still
// change as in-flight entries commit.
func (l *Ledger) Balance(ctx context.Context, accountID int64, asOf *time.Time) (Balance, error) {
	b := Balance{AccountID: accountID, AsOf: asOf}
	var err error
	if asOf == nil {
		err = l.pool.QueryRow(ctx, `SELECT currency, balance FROM ledger_accounts WHERE id = $1`, accountID).Scan(&b.Currency, &b.Amount)
	} else {
		err = l.pool.QueryRow(ctx, `SELECT a.currency, coalesce((SELECT sum(p.amount) FROM ledger_postings p
WHERE p.account_id = a.id AND p.posted_at <= $2), 0)::bigint FROM ledger_accounts a WHERE a.id = $1`,
			accountID, *asOf).Scan(&b.Currency, &b.Amount)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return Balance{}, tollgate.Errorf(tollgate.CodeNotFound, "account %d does not exist", accountID)
	}
	if err != nil {
		return Balance{}, tollgate.Wrap(tollgate.CodeInternal, err, "reading balance of account %d", accountID)
	}
	return b, nil
}

const entryCols = `e.id, e.idempotency_key, coalesce(e.cycle_id, ''), e.description, coalesce(e.reverses_id, 0), e.posted_at, e.content_hash`

// queryEntries runs a query selecting entryCols and attaches the postings.
func (l *Ledger) queryEntries(ctx context.Context, q string, args ...any) ([]Entry, error) {
	rows, err := l.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) {
		var e Entry
		var h []byte
		err := r.Scan(&e.ID, &e.IdempotencyKey, &e.CycleID, &e.Description, &e.ReversesID, &e.PostedAt, &h)
		e.ContentHash = hex.EncodeToString(h)
		e.PostedAt = e.PostedAt.UTC()
		return e, err
	})
	if err != nil || len(entries) == 0 {
		return entries, err
	}
	ids := make([]int64, len(entries))
	at := make(map[int64]int, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
		at[e.ID] = i
	}
	rows, err = l.pool.Query(ctx, `
SELECT p.entry_id, p.account_id, a.party_id, a.purpose, a.currency, p.amount
FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id
WHERE p.entry_id = ANY($1) ORDER BY p.entry_id, p.id`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var eid int64
		var p Posting
		if err := rows.Scan(&eid, &p.AccountID, &p.Account.PartyID, &p.Account.Purpose, &p.Account.Currency, &p.Amount); err != nil {
			return nil, err
		}
		e := &entries[at[eid]]
		e.Postings = append(e.Postings, p)
	}
	return entries, rows.Err()
}

func (l *Ledger) entriesByKey(ctx context.Context, keys []string) (map[string]Entry, error) {
	es, err := l.queryEntries(ctx, `SELECT `+entryCols+` FROM ledger_entries e WHERE e.idempotency_key = ANY($1)`, keys)
	if err != nil {
		return nil, tollgate.Wrap(tollgate.CodeInternal, err, "looking up idempotency keys")
	}
	out := make(map[string]Entry, len(es))
	for _, e := range es {
		out[e.IdempotencyKey] = e
	}
	return out, nil
}

// GetEntry returns one entry with its postings.
func (l *Ledger) GetEntry(ctx context.Context, id int64) (Entry, error) {
	es, err := l.queryEntries(ctx, `SELECT `+entryCols+` FROM ledger_entries e WHERE e.id = $1`, id)
	if err != nil {
		return Entry{}, tollgate.Wrap(tollgate.CodeInternal, err, "reading entry %d", id)
	}
	if len(es) == 0 {
		return Entry{}, tollgate.Errorf(tollgate.CodeNotFound, "entry %d does not exist", id)
	}
	return es[0], nil
}

// EntryFilter selects entries; zero fields do not filter. From is inclusive
// and To exclusive, on posted_at.
type EntryFilter struct {
	AccountID int64
	CycleID   string
	From, To  time.Time
	Cursor    string
	Limit     int
}

// ListEntries returns entries in ID order with their postings, and the cursor
// of the next page, empty on the last.
func (l *Ledger) ListEntries(ctx context.Context, f EntryFilter) ([]Entry, string, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, "", err
	}
	after, err := tollgate.DecodeCursorID(tollgate.CursorLedgerEntries, f.Cursor)
	if err != nil {
		return nil, "", err
	}
	args := []any{after}
	where := []string{"e.id > $1"}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.AccountID != 0 {
		n := arg(f.AccountID)
		where = append(where, fmt.Sprintf("e.id IN (SELECT entry_id FROM ledger_postings WHERE account_id = %s AND entry_id > $1)", n))
	}
	if f.CycleID != "" {
		where = append(where, "e.cycle_id = "+arg(f.CycleID))
	}
	if !f.From.IsZero() {
		where = append(where, "e.posted_at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "e.posted_at < "+arg(f.To))
	}
	q := `SELECT ` + entryCols + ` FROM ledger_entries e WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY e.id LIMIT ` + arg(limit+1)
	out, err := l.queryEntries(ctx, q, args...)
	if err != nil {
		return nil, "", tollgate.Wrap(tollgate.CodeInternal, err, "listing entries")
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = tollgate.EncodeCursorID(tollgate.CursorLedgerEntries, out[limit-1].ID)
	}
	return out, next, nil
}

func pageLimit(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultLimit, nil
	case n < 0 || n > MaxLimit:
		return 0, tollgate.Errorf(tollgate.CodeInvalid, "limit must be between 1 and %d", MaxLimit)
	}
	return n, nil
}
