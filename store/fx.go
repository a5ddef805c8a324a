package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/settlement"
)

// FXRate is 1 Base = Rate Quote, as of a time, from a source.
type FXRate struct {
	Base   string    `json:"base"`
	Quote  string    `json:"quote"`
	Rate   string    `json:"rate"`
	AsOf   time.Time `json:"as_of"`
	Source string    `json:"source"`
}

// AddRate stores a rate. Idempotent on (base, quote, as_of, source): the
// same rate again is accepted, a different rate for the same key refused.
func (s *Store) AddRate(ctx context.Context, r FXRate) (FXRate, error) {
	base, err := tollgate.ParseCurrency(r.Base)
	if err != nil {
		return FXRate{}, tollgate.Errorf(tollgate.CodeInvalid, "base: %v", err)
	}
	quote, err := tollgate.ParseCurrency(r.Quote)
	if err != nil {
		return FXRate{}, tollgate.Errorf(tollgate.CodeInvalid, "quote: %v", err)
	}
	if base == quote {
		return FXRate{}, tollgate.Errorf(tollgate.CodeInvalid, "base and quote are both %s", base)
	}
	rate, err := tollgate.ParseDecimal(r.Rate, 12)
	if err != nil || !rate.IsPositive() {
		return FXRate{}, tollgate.Errorf(tollgate.CodeInvalid, "rate: %q must be a positive decimal string with at most 12 decimals", r.Rate)
	}
	if r.AsOf.IsZero() {
		return FXRate{}, tollgate.Errorf(tollgate.CodeInvalid, "as_of: required (RFC 3339)")
	}
	if r.AsOf.After(s.now().Add(FutureTolerance)) {
		return FXRate{}, tollgate.Errorf(tollgate.CodeInvalid, "as_of: %s is in the future", r.AsOf.Format(time.RFC3339))
	}
	if r.Source == "" || len(r.Source) > 100 {
		return FXRate{}, tollgate.Errorf(tollgate.CodeInvalid, "source: required, at most 100 characters")
	}
	var stored string
	err = s.db.QueryRow(ctx, `
		WITH ins AS (INSERT INTO fx_rates (base, quote, rate, as_of, source) VALUES ($1,$2,$3,$4,$5)
			ON CONFLICT DO NOTHING RETURNING rate::text)
		SELECT rate FROM ins UNION ALL
		SELECT rate::text FROM fx_rates WHERE base = $1 AND quote = $2 AND as_of = $4 AND source = $5 LIMIT 1`,
		string(base), string(quote), rate.String(), r.AsOf, r.Source).Scan(&stored)
	if err != nil {
		return FXRate{}, dbErr(err)
	}
	if sd, _ := decimal.NewFromString(stored); !sd.Equal(rate) {
		return FXRate{}, tollgate.Errorf(tollgate.CodeConflict, "a different rate (%s) is already recorded for %s/%s as of %s from %s",
			stored, base, quote, r.AsOf.Format(time.RFC3339), r.Source)
	}
	return FXRate{Base: string(base), Quote: string(quote), Rate: rate.String(), AsOf: r.AsOf.UTC(), Source: r.Source}, nil
}

// ListRates returns rates, newest first, optionally for one pair.
func (s *Store) ListRates(ctx context.Context, base, quote string, limit int) ([]FXRate, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.db.Query(ctx, `SELECT base, quote, rate::text, as_of, source FROM fx_rates
		WHERE ($1 = '' OR base = $1) AND ($2 = '' OR quote = $2) ORDER BY as_of DESC, base, quote LIMIT $3`, base, quote, limit)
	if err != nil {
		return nil, dbErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FXRate, error) {
		var f FXRate
		err := r.Scan(&f.Base, &f.Quote, &f.Rate, &f.AsOf, &f.Source)
		return f, err
	})
	return out, dbErr(err)
}

// RatesAt implements activities.CycleStore: the latest rate per base with
// as_of <= at (ties broken by the latest recorded).
func (s *Store) RatesAt(ctx context.Context, quote tollgate.Currency, bases []tollgate.Currency, at time.Time) (map[tollgate.Currency]settlement.Rate, error) {
	names := make([]string, len(bases))
	for i, b := range bases {
		names[i] = string(b)
	}
	rows, err := s.db.Query(ctx, `SELECT DISTINCT ON (base) base, rate::text, as_of, source FROM fx_rates
		WHERE quote = $1 AND base = ANY($2) AND as_of <= $3 ORDER BY base, as_of DESC, created_at DESC`, string(quote), names, at)
	if err != nil {
		return nil, dbErr(err)
	}
	defer rows.Close()
	out := map[tollgate.Currency]settlement.Rate{}
	for rows.Next() {
		var base, rate string
		var r settlement.Rate
		if err := rows.Scan(&base, &rate, &r.AsOf, &r.Source); err != nil {
			return nil, dbErr(err)
		}
		r.Rate, _ = decimal.NewFromString(rate)
		out[tollgate.Currency(base)] = r
	}
	return out, dbErr(rows.Err())
}
