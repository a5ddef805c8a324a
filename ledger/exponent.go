package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate/tollgate"
)

// StaleAccount is an account whose stored minor units may not mean what the
// current currency table says (issue 11): either it holds postings written
// before its currency's exponent changed (migrations/00007) and no operator
// has acknowledged the change for that currency yet, or its currency
// is no longer an ISO 4217 code the table knows.
type StaleAccount struct {
	AccountID int64
	PartyID   string
	Purpose   Purpose
	Currency  tollgate.Currency
	Balance   int64 // as stored, in minor units of whichever exponent wrote it
	// Postings is how many of the account's postings were written before the
	// change; zero for an unknown currency.
	Postings int64
	Detail   string
}

// staleAccounts lists, by account ID, the accounts verify reports as
// StaleAccounts. It reads on the caller's snapshot.
func staleAccounts(ctx context.Context, tx pgx.Tx) ([]StaleAccount, error) {
	rows, err := tx.Query(ctx, `
SELECT a.id, a.party_id, a.purpose, a.currency, a.balance, c.old_exponent, c.new_exponent, c.effective_at, p.n
FROM ledger_accounts a
JOIN currency_exponent_changes c ON c.currency = a.currency AND c.acknowledged_at IS NULL
JOIN LATERAL (SELECT count(*) AS n FROM ledger_postings p
              WHERE p.account_id = a.id AND p.posted_at < c.effective_at) p ON p.n > 0
ORDER BY a.id`)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (StaleAccount, error) {
		var s StaleAccount
		var oldExp, newExp int16
		var since time.Time
		err := row.Scan(&s.AccountID, &s.PartyID, &s.Purpose, &s.Currency, &s.Balance, &oldExp, &newExp, &since, &s.Postings)
		s.Detail = fmt.Sprintf("%d postings written before %s used %s exponent %d; it is %d now, so they read 10^%d times too small",
			s.Postings, since.UTC().Format("2006-01-02 15:04:05Z"), s.Currency, oldExp, newExp, newExp-oldExp)
		return s, err
	})
	if err != nil {
		return nil, err
	}

	rows, err = tx.Query(ctx, `SELECT id, party_id, purpose, currency, balance FROM ledger_accounts ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var unknown []StaleAccount
	for rows.Next() {
		var s StaleAccount
		if err := rows.Scan(&s.AccountID, &s.PartyID, &s.Purpose, &s.Currency, &s.Balance); err != nil {
			return nil, err
		}
		if _, err := tollgate.ParseCurrency(string(s.Currency)); err != nil {
			s.Detail = fmt.Sprintf("%s is not in the ISO 4217 table (withdrawn, or a code without minor units); its amounts cannot be read", s.Currency)
			unknown = append(unknown, s)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return append(out, unknown...), nil
}
