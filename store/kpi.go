package store

import (
	"context"
	"time"

	"github.com/tollgate/tollgate"
)

// KPIs is the executive summary finance managers read.
type KPIs struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Settled is, per settlement currency, what completed cycles in the
	// window moved (period end within [from, to)).
	Settled []SettledKPI `json:"settled"`
	// Cycles counts every cycle by current status, whatever its period.
	Cycles map[string]int64 `json:"cycles"`
	// OldestAwaitingApproval is when the longest-waiting cycle last changed
	// status, or null when none waits.
	OldestAwaitingApproval *time.Time `json:"oldest_awaiting_approval"`
	ActiveContracts        int64      `json:"active_contracts"`
	UnsettledTransactions  int64      `json:"unsettled_transactions"`
	OpenDeadLetters        int64      `json:"open_dead_letters"`
}

// SettledKPI is one currency's settled total.
type SettledKPI struct {
	Currency string `json:"currency"`
	Cycles   int64  `json:"cycles"`
	Total    string `json:"total"`
}

// KPIs computes the summary over [from, to).
func (s *Store) KPIs(ctx context.Context, from, to time.Time) (KPIs, error) {
	k := KPIs{From: from.UTC(), To: to.UTC(), Settled: []SettledKPI{}, Cycles: map[string]int64{}}
	rows, err := s.db.Query(ctx, `SELECT record->'Statement'->>'currency', count(*), COALESCE(sum(total_minor), 0)::bigint
		FROM cycles WHERE status = 'completed' AND period_end >= $1 AND period_end < $2 AND record->'Statement' IS NOT NULL
		  AND jsonb_typeof(record->'Statement') = 'object'
		GROUP BY 1 ORDER BY 1`, from, to)
	if err != nil {
		return KPIs{}, dbErr(err)
	}
	for rows.Next() {
		var cur string
		var n, minor int64
		if err := rows.Scan(&cur, &n, &minor); err != nil {
			rows.Close()
			return KPIs{}, dbErr(err)
		}
		c, err := tollgate.ParseCurrency(cur)
		if err != nil {
			continue // a statement without a valid currency is not money
		}
		k.Settled = append(k.Settled, SettledKPI{Currency: cur, Cycles: n, Total: tollgate.FormatAmount(tollgate.FromMinorUnits(minor, c), c)})
	}
	if err := rows.Err(); err != nil {
		return KPIs{}, dbErr(err)
	}
	rows, err = s.db.Query(ctx, `SELECT status, count(*) FROM cycles GROUP BY status`)
	if err != nil {
		return KPIs{}, dbErr(err)
	}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return KPIs{}, dbErr(err)
		}
		k.Cycles[st] = n
	}
	if err := rows.Err(); err != nil {
		return KPIs{}, dbErr(err)
	}
	err = s.db.QueryRow(ctx, `SELECT
			(SELECT min(updated_at) FROM cycles WHERE status = 'awaiting_approval'),
			(SELECT count(*) FROM contracts WHERE status = 'active'),
			(SELECT COALESCE(sum(tx_count), 0)::bigint FROM bucket_totals WHERE NOT settled),
			(SELECT count(*) FROM dead_letters WHERE status = 'open')`).
		Scan(&k.OldestAwaitingApproval, &k.ActiveContracts, &k.UnsettledTransactions, &k.OpenDeadLetters)
	return k, dbErr(err)
}
