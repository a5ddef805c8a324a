// Package store keeps Tollgate's operational data in PostgreSQL: parties,
// contracts and their term versions, transactions with their settlement
// buckets, FX rates, dead letters and the cycle read model. The ledger has a
// package of its own.
package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/tollgate/tollgate"
)

// Store is safe for concurrent use. A Store from Tx runs every call in
// that one transaction.
type Store struct {
	pool *pgxpool.Pool
	db   dbtx
	now  func() time.Time
}

// dbtx is what the store runs SQL on: the pool, or one transaction (whose
// Begin opens a savepoint, so methods that open their own transaction nest).
type dbtx interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// New returns a store on the pool. now is the clock (time.Now in production).
func New(pool *pgxpool.Pool, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{pool: pool, db: pool, now: now}
}

// Tx runs fn with a store bound to one database transaction: a change and
// its audit row commit together or not at all.
func (s *Store) Tx(ctx context.Context, fn func(*Store) error) error {
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		return fn(&Store{pool: s.pool, db: tx, now: s.now})
	})
}

// Pool exposes the pool for health checks.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

func notFound(err error, format string, args ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return tollgate.Errorf(tollgate.CodeNotFound, format, args...)
	}
	return dbErr(err)
}

// dbErr classifies a database error: constraint violations are the caller's
// conflict, connection trouble is retryable, the rest internal.
func dbErr(err error) error {
	if err == nil {
		return nil
	}
	var te *tollgate.Error
	if errors.As(err, &te) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return tollgate.Wrap(tollgate.CodeConflict, err, "already exists")
		case "23503":
			return tollgate.Wrap(tollgate.CodeInvalid, err, "refers to something that does not exist")
		case "22021", "22P05", "22P02", "22001", "22003", "22007", "22008":
			// Text PostgreSQL cannot store (NUL, bad encoding), values out
			// of range or malformed: the caller's input, not our failure.
			return tollgate.Wrap(tollgate.CodeInvalid, err, "a value cannot be stored: %s", pe.Message)
		case "40001", "40P01", "55P03", "57P01", "53300":
			return tollgate.Wrap(tollgate.CodeUnavailable, err, "database busy; retry")
		}
	}
	if pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) {
		return tollgate.Wrap(tollgate.CodeUnavailable, err, "database timeout; retry")
	}
	return tollgate.Wrap(tollgate.CodeInternal, err, "database error")
}

// Page is the cursor pagination input shared by list queries. Cursor is
// opaque: the next cursor a list returned (tollgate.EncodeCursor), which
// only that list decodes; empty for the first page.
type Page struct {
	Cursor string
	Limit  int
}

func (p Page) limit() (int, error) {
	switch {
	case p.Limit == 0:
		return 100, nil
	case p.Limit < 0 || p.Limit > 1000:
		return 0, tollgate.Errorf(tollgate.CodeInvalid, "limit must be between 1 and 1000")
	}
	return p.Limit, nil
}

// after decodes the cursor of a list keyed by one text column: the key to
// start after, "" for the first page.
func (p Page) after(list tollgate.CursorList) (string, error) {
	key, err := tollgate.DecodeCursor(list, p.Cursor, 1)
	if err != nil || key == nil {
		return "", err
	}
	return key[0], nil
}

// cutPage trims a keyset query that fetched limit+1 rows to one page; the
// extra row's presence means there is a next page, which starts after the
// last kept item. The cursor is list's opaque cursor of that item's key
// (keyOf names it).
func cutPage[T any](items []T, limit int, list tollgate.CursorList, keyOf func(T) []string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, tollgate.EncodeCursor(list, keyOf(items[limit-1])...)
}

// cursorID is keyOf for lists keyed by an integer ID.
func cursorID(id int64) []string { return []string{strconv.FormatInt(id, 10)} }

// parseStored parses a decimal read back from the database. A stored value
// that does not parse is corruption, reported as an internal error and never
// read as zero.
func parseStored(what, s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, corrupt(what, err)
	}
	return d, nil
}

// corrupt reports a stored value that cannot be read back.
func corrupt(what string, err error) error {
	return tollgate.Wrap(tollgate.CodeInternal, err, "stored %s is corrupt", what)
}
