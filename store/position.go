package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/settlement"
)

// Position is a contract's live provisional statement: everything ingested
// and not yet claimed by a cycle, valued with the same arithmetic a cycle
// uses, at the latest FX rates and with the carry the next cycle would take.
type Position struct {
	ContractID   string            `json:"contract_id"`
	Currency     tollgate.Currency `json:"currency"`
	NetRevenue   string            `json:"net_revenue"`
	CarryIn      string            `json:"carry_in"`
	Transactions int64             `json:"transactions"`
	Lines        []tollgate.Line   `json:"lines"`
	Total        string            `json:"total"`
	FX           []tollgate.FXUsed `json:"fx"`
	Totals       []tollgate.Totals `json:"totals"`
	AsOf         time.Time         `json:"as_of"`
}

func scanTotals(rows pgx.Rows) ([]tollgate.Totals, error) {
	defer rows.Close()
	var out []tollgate.Totals
	for rows.Next() {
		var t tollgate.Totals
		var cur, cs, ps, as string
		if err := rows.Scan(&cur, &t.Count, &t.Charges, &cs, &ps, &as); err != nil {
			return nil, err
		}
		t.Currency = tollgate.Currency(cur)
		t.ChargeSum, _ = decimal.NewFromString(cs)
		t.PayoutSum, _ = decimal.NewFromString(ps)
		t.AdjustmentSum, _ = decimal.NewFromString(as)
		out = append(out, t)
	}
	return out, rows.Err()
}

const totalsCols = `currency, sum(tx_count)::bigint, sum(charges)::bigint, sum(charge_sum)::text, sum(payout_sum)::text, sum(adjustment_sum)::text`

// Position computes the live position of a contract.
func (s *Store) Position(ctx context.Context, contractID string) (Position, error) {
	now := s.now()
	c, err := s.GetContract(ctx, contractID)
	if err != nil {
		return Position{}, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+totalsCols+` FROM bucket_totals
		WHERE contract_id = $1 AND cycle_id IS NULL GROUP BY currency ORDER BY currency`, contractID)
	if err != nil {
		return Position{}, dbErr(err)
	}
	totals, err := scanTotals(rows)
	if err != nil {
		return Position{}, dbErr(err)
	}
	bases := make([]tollgate.Currency, 0, len(totals))
	for _, t := range totals {
		bases = append(bases, t.Currency)
	}
	rates, err := s.RatesAt(ctx, c.Currency, bases, now)
	if err != nil {
		return Position{}, err
	}
	carry, _ := decimal.NewFromString(c.Carry)
	st, err := settlement.Compute(settlement.Input{Currency: c.Currency, Terms: c.Terms, Totals: totals,
		Rates: rates, CarryIn: carry, Cutoff: now})
	if err != nil {
		return Position{}, err
	}
	if totals == nil {
		totals = []tollgate.Totals{}
	}
	return Position{ContractID: c.ID, Currency: st.Currency, NetRevenue: st.NetRevenue, CarryIn: st.CarryIn,
		Transactions: st.Transactions, Lines: st.Lines, Total: st.Total, FX: st.FX, Totals: totals, AsOf: now.UTC()}, nil
}
