package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate/ledger"
)

func requireSQLState(t *testing.T, err error, code string) {
	t.Helper()
	var pg *pgconn.PgError
	require.True(t, errors.As(err, &pg), "want SQLSTATE %s, got %v", code, err)
	require.Equal(t, code, pg.Code, pg.Message)
}

// rawEntry writes an entry by hand in one transaction, the way a buggy
// writer or an operator at a psql prompt might, and returns the commit error.
func rawEntry(ctx context.Context, pool *pgxpool.Pool, key string, legs map[int64]int64) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO ledger_entries (idempotency_key, description, posted_at, content_hash)
VALUES ($1, 'raw', now(), decode(repeat('00', 32), 'hex')) RETURNING id`, key).Scan(&id); err != nil {
			return err
		}
		for acct, amt := range legs {
			if _, err := tx.Exec(ctx, `INSERT INTO ledger_postings (entry_id, account_id, currency, amount, posted_at)
SELECT $1, id, currency, $3, now() FROM ledger_accounts WHERE id = $2`, id, acct, amt); err != nil {
				return err
			}
		}
		return nil
	})
}

func accountID(t *testing.T, l *ledger.Ledger, k ledger.AccountKey) int64 {
	t.Helper()
	a, err := l.AccountByKey(t.Context(), k)
	require.NoError(t, err)
	return a.ID
}

func TestDatabaseRefusesUnbalancedEntries(t *testing.T) {
	t.Parallel()
	l, pool, _ := newLedger(t)
	ctx := t.Context()
	e, err := l.Post(ctx, transfer("seed", opEUR, provEUR, 100))
	require.NoError(t, err)
	_, err = l.Post(ctx, transfer("seed-jpy", opJPY, fxJPY, 100))
	require.NoError(t, err)
	op, prov, jpy := accountID(t, l, opEUR), accountID(t, l, provEUR), accountID(t, l, opJPY)

	requireSQLState(t, rawEntry(ctx, pool, "r1", map[int64]int64{op: -100, prov: 99}), "23514")
	requireSQLState(t, rawEntry(ctx, pool, "r2", map[int64]int64{op: -100}), "23514")
	requireSQLState(t, rawEntry(ctx, pool, "r3", nil), "23514")
	// Balanced in count but not per currency.
	requireSQLState(t, rawEntry(ctx, pool, "r4", map[int64]int64{op: -100, jpy: 100}), "23514")

	// A posting whose currency is not its account's is refused outright.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO ledger_postings (entry_id, account_id, currency, amount, posted_at)
VALUES ((SELECT max(id) FROM ledger_entries), $1, 'USD', 1, now())`, op)
		return err
	})
	require.Error(t, err)

	// Postings cannot be added to a committed entry, even balanced ones.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO ledger_postings (entry_id, account_id, currency, amount, posted_at)
VALUES ($1, $2, 'EUR', 5, now()), ($1, $3, 'EUR', -5, now())`, e.ID, op, prov)
		return err
	})
	requireSQLState(t, err, "23001")

	// A balanced hand-written entry is accepted and chained, but its made-up
	// content hash is caught by Verify.
	require.NoError(t, rawEntry(ctx, pool, "r5", map[int64]int64{op: -1, prov: 1}))
	r, err := l.Verify(ctx)
	require.NoError(t, err)
	require.NotNil(t, r.Break)
	require.Equal(t, ledger.BreakContent, r.Break.Kind)
	require.Equal(t, int64(3), r.Break.Seq)
}

func TestDatabaseRefusesChanges(t *testing.T) {
	t.Parallel()
	l, pool, _ := newLedger(t)
	ctx := t.Context()
	e, err := l.Post(ctx, transfer("seed", opEUR, provEUR, 100))
	require.NoError(t, err)
	_, err = l.Reverse(ctx, e.ID, "seed/rev", "test")
	require.NoError(t, err)

	for _, stmt := range []string{
		`UPDATE ledger_entries SET description = 'edited'`,
		`UPDATE ledger_entries SET posted_at = posted_at - interval '1 day'`,
		`DELETE FROM ledger_entries`,
		`TRUNCATE ledger_entries CASCADE`,
		`UPDATE ledger_postings SET amount = amount * 2`,
		`DELETE FROM ledger_postings`,
		`TRUNCATE ledger_postings`,
		`UPDATE ledger_chain SET hash = sha256(hash)`,
		`DELETE FROM ledger_chain`,
		`TRUNCATE ledger_chain`,
		`DELETE FROM ledger_accounts`,
		`UPDATE ledger_accounts SET party_id = 'someone-else'`,
		`UPDATE ledger_accounts SET currency = 'USD'`,
	} {
		_, err := pool.Exec(ctx, stmt)
		requireSQLState(t, err, "23001")
	}

	// An entry is reversed at most once, whoever writes the second one.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO ledger_entries (idempotency_key, description, reverses_id, posted_at, content_hash)
VALUES ('again', 'raw', $1, now(), decode(repeat('00', 32), 'hex'))`, e.ID)
		return err
	})
	requireSQLState(t, err, "23505")

	got, err := l.GetEntry(ctx, e.ID)
	require.NoError(t, err)
	require.Equal(t, e, got)
	requireVerified(t, l)
}

// tamper edits rows behind the triggers' backs, as only the owner can.
func tamper(t *testing.T, pool *pgxpool.Pool, table, stmt string, args ...any) {
	t.Helper()
	ctx := t.Context()
	_, err := pool.Exec(ctx, fmt.Sprintf(`ALTER TABLE %s DISABLE TRIGGER USER`, table))
	require.NoError(t, err)
	tag, err := pool.Exec(ctx, stmt, args...)
	require.NoError(t, err)
	require.Positive(t, tag.RowsAffected())
	_, err = pool.Exec(ctx, fmt.Sprintf(`ALTER TABLE %s ENABLE TRIGGER USER`, table))
	require.NoError(t, err)
}

func TestVerifyNamesTamperedEntry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		table string
		stmt  string
		kind  ledger.BreakKind
	}{
		{"amount", "ledger_postings", `UPDATE ledger_postings SET amount = amount + 1 WHERE id = (SELECT min(id) FROM ledger_postings WHERE entry_id = $1)`, ledger.BreakUnbalanced},
		{"both legs", "ledger_postings", `UPDATE ledger_postings SET amount = -amount WHERE entry_id = $1`, ledger.BreakContent},
		{"account", "ledger_postings", `UPDATE ledger_postings SET account_id = (SELECT id FROM ledger_accounts WHERE purpose = 'payout_clearing') WHERE id = (SELECT max(id) FROM ledger_postings WHERE entry_id = $1)`, ledger.BreakContent},
		{"description", "ledger_entries", `UPDATE ledger_entries SET description = 'nothing to see' WHERE id = $1`, ledger.BreakContent},
		{"time", "ledger_entries", `UPDATE ledger_entries SET posted_at = posted_at - interval '1 day' WHERE id = $1`, ledger.BreakContent},
		{"content hash", "ledger_entries", `UPDATE ledger_entries SET content_hash = sha256(content_hash) WHERE id = $1`, ledger.BreakContent},
		{"link", "ledger_chain", `UPDATE ledger_chain SET hash = sha256(hash) WHERE entry_id = $1`, ledger.BreakLink},
		{"deleted link", "ledger_chain", `DELETE FROM ledger_chain WHERE entry_id = $1`, ledger.BreakSequence},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, pool, _ := newLedger(t)
			ctx := t.Context()
			var ids []int64
			for i := range 5 {
				e, err := l.Post(ctx, transfer(fmt.Sprint("e", i), opEUR, provEUR, int64(100+i)))
				require.NoError(t, err)
				ids = append(ids, e.ID)
			}
			_, err := l.Post(ctx, transfer("clr", provEUR, clrEUR, 1))
			require.NoError(t, err)
			requireVerified(t, l)

			victim := ids[2]
			tamper(t, pool, tc.table, tc.stmt, victim)
			r, err := l.Verify(ctx)
			require.NoError(t, err)
			require.False(t, r.OK)
			require.NotNil(t, r.Break)
			require.Equal(t, tc.kind, r.Break.Kind, r.Break.Detail)
			if tc.kind == ledger.BreakSequence {
				// The link after the gap is reported: the entry that lost
				// its predecessor.
				require.Equal(t, ids[3], r.Break.EntryID, r.Break.Detail)
			} else {
				require.Equal(t, victim, r.Break.EntryID, r.Break.Detail)
			}
		})
	}

	t.Run("balance", func(t *testing.T) {
		t.Parallel()
		l, pool, _ := newLedger(t)
		_, err := l.Post(t.Context(), transfer("e", opEUR, provEUR, 100))
		require.NoError(t, err)
		prov := accountID(t, l, provEUR)
		_, err = pool.Exec(t.Context(), `UPDATE ledger_accounts SET balance = balance + 1 WHERE id = $1`, prov)
		require.NoError(t, err)
		r, err := l.Verify(t.Context())
		require.NoError(t, err)
		require.Equal(t, ledger.BreakBalance, r.Break.Kind)
		require.Equal(t, prov, r.Break.AccountID)
	})
}
