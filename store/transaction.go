package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/tollgate/tollgate"
)

// TransactionFilter narrows a transaction listing.
type TransactionFilter struct {
	ProviderID, OperatorID, ContractID, CycleID string
	From, To                                    time.Time
	Page
}

// ListTransactions pages through transactions by (provider_id, external_id).
func (s *Store) ListTransactions(ctx context.Context, f TransactionFilter) ([]tollgate.Transaction, string, error) {
	limit, err := f.limit()
	if err != nil {
		return nil, "", err
	}
	var afterP, afterE string
	key, err := tollgate.DecodeCursor(tollgate.CursorTransactions, f.Cursor, 2)
	if err != nil {
		return nil, "", err
	}
	if key != nil {
		afterP, afterE = key[0], key[1]
	}
	var from, to any
	if !f.From.IsZero() {
		from = f.From
	}
	if !f.To.IsZero() {
		to = f.To
	}
	rows, err := s.db.Query(ctx, `SELECT t.provider_id, t.external_id, t.operator_id, t.contract_id, t.kind, t.amount::text,
			t.currency, t.occurred_at, t.metadata, t.late, COALESCE(b.cycle_id, ''), t.received_at
		FROM transactions t
		LEFT JOIN bucket_totals b ON b.contract_id = t.contract_id AND b.slot = t.slot AND b.currency = t.currency
		WHERE ($1 = '' OR t.provider_id = $1) AND ($2 = '' OR t.operator_id = $2) AND ($3 = '' OR t.contract_id = $3)
		  AND ($4 = '' OR b.cycle_id = $4)
		  AND ($5::timestamptz IS NULL OR t.occurred_at >= $5) AND ($6::timestamptz IS NULL OR t.occurred_at < $6)
		  AND (t.provider_id, t.external_id) > ($7, $8)
		ORDER BY t.provider_id, t.external_id LIMIT $9`,
		f.ProviderID, f.OperatorID, f.ContractID, f.CycleID, from, to, afterP, afterE, limit+1)
	if err != nil {
		return nil, "", dbErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tollgate.Transaction, error) {
		var t tollgate.Transaction
		var meta []byte
		err := r.Scan(&t.ProviderID, &t.ExternalID, &t.OperatorID, &t.ContractID, &t.Kind, &t.Amount, &t.Currency,
			&t.OccurredAt, &meta, &t.Late, &t.CycleID, &t.ReceivedAt)
		if meta != nil {
			t.Metadata = meta
		}
		// Amounts are stored normalised ("12.3"); show the currency's minor units.
		if d, perr := decimal.NewFromString(t.Amount); perr == nil {
			if c, cerr := tollgate.ParseCurrency(t.Currency); cerr == nil {
				t.Amount = tollgate.FormatAmount(d, c)
			}
		}
		return t, err
	})
	if err != nil {
		return nil, "", dbErr(err)
	}
	out, next := cutPage(out, limit, tollgate.CursorTransactions, func(t tollgate.Transaction) []string {
		return []string{t.ProviderID, t.ExternalID}
	})
	return out, next, nil
}
