package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate/tollgate"
)

const totalsCols = `currency, sum(tx_count)::bigint, sum(charges)::bigint, sum(charge_sum)::text, sum(payout_sum)::text, sum(adjustment_sum)::text`

// scanTotalsRow reads one row of totalsCols (and any extra columns after
// them). A stored sum that does not parse is reported, never read as zero.
func scanTotalsRow(row pgx.Row, what string, extra ...any) (tollgate.Totals, error) {
	var t tollgate.Totals
	var cur, cs, ps, as string
	if err := row.Scan(append([]any{&cur, &t.Count, &t.Charges, &cs, &ps, &as}, extra...)...); err != nil {
		return t, err
	}
	t.Currency = tollgate.Currency(cur)
	var err error
	if t.ChargeSum, err = parseStored(what+" "+cur+" charge_sum", cs); err != nil {
		return t, err
	}
	if t.PayoutSum, err = parseStored(what+" "+cur+" payout_sum", ps); err != nil {
		return t, err
	}
	if t.AdjustmentSum, err = parseStored(what+" "+cur+" adjustment_sum", as); err != nil {
		return t, err
	}
	if err := t.Validate(); err != nil {
		return t, corrupt(what+" "+cur+" totals", err)
	}
	return t, nil
}

// OpenPeriod reads what a contract's open period holds at a time: the
// contract with the terms in force then, the aggregates of every slot no
// cycle has claimed yet, and the carry the next cycle would take. It is the
// live position's input; a cycle's close reads the same from its snapshot.
func (s *Store) OpenPeriod(ctx context.Context, contractID string, at time.Time) (tollgate.ContractView, tollgate.Period, error) {
	c, err := s.contractAt(ctx, s.db, contractID, at)
	if err != nil {
		return tollgate.ContractView{}, tollgate.Period{}, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+totalsCols+` FROM bucket_totals
		WHERE contract_id = $1 AND cycle_id IS NULL GROUP BY currency ORDER BY currency`, contractID)
	if err != nil {
		return tollgate.ContractView{}, tollgate.Period{}, dbErr(err)
	}
	totals, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tollgate.Totals, error) {
		return scanTotalsRow(r, "contract "+contractID+" buckets")
	})
	if err != nil {
		return tollgate.ContractView{}, tollgate.Period{}, dbErr(err)
	}
	if totals == nil {
		totals = []tollgate.Totals{}
	}
	return c, tollgate.Period{Currency: c.Currency, Terms: c.Terms, Totals: totals, CarryIn: c.Carry}, nil
}
