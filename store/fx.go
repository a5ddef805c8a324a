package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate/tollgate"
)

// AddRate stores a rate. Idempotent on (base, quote, as_of, source): the
// same rate again is accepted, a different rate for the same key refused.
func (s *Store) AddRate(ctx context.Context, in tollgate.FXRate) (tollgate.FXRate, error) {
	r, rate, err := in.Normalise(s.now())
	if err != nil {
		return tollgate.FXRate{}, err
	}
	var stored string
	err = s.db.QueryRow(ctx, `
		WITH ins AS (INSERT INTO fx_rates (base, quote, rate, as_of, source) VALUES ($1,$2,$3,$4,$5)
			ON CONFLICT DO NOTHING RETURNING rate::text)
		SELECT rate FROM ins UNION ALL
		SELECT rate::text FROM fx_rates WHERE base = $1 AND quote = $2 AND as_of = $4 AND source = $5 LIMIT 1`,
		r.Base, r.Quote, r.Rate, r.AsOf, r.Source).Scan(&stored)
	if err != nil {
		return tollgate.FXRate{}, dbErr(err)
	}
	sd, err := parseStored("fx rate", stored)
	if err != nil {
		return tollgate.FXRate{}, err
	}
	if !sd.Equal(rate) {
		return tollgate.FXRate{}, tollgate.Errorf(tollgate.CodeConflict, "a different rate (%s) is already recorded for %s/%s as of %s from %s",
			stored, r.Base, r.Quote, r.AsOf.Format(time.RFC3339), r.Source)
	}
	return r, nil
}

// ListRates pages through rates, newest first, optionally for one pair.
// Ties on as_of are ordered by the rest of the key, so pages never skip or
// repeat a rate.
func (s *Store) ListRates(ctx context.Context, base, quote string, page Page) ([]tollgate.FXRate, string, error) {
	limit, err := page.limit()
	if err != nil {
		return nil, "", err
	}
	key, err := tollgate.DecodeCursor(tollgate.CursorFXRates, page.Cursor, 4)
	if err != nil {
		return nil, "", err
	}
	var asOf any
	after := make([]string, 3)
	if key != nil {
		t, perr := time.Parse(time.RFC3339Nano, key[0])
		if perr != nil {
			return nil, "", tollgate.Errorf(tollgate.CodeInvalid, "cursor %q is not one this list returned (not a time); start again without a cursor", page.Cursor)
		}
		asOf, after = t, key[1:]
	}
	rows, err := s.db.Query(ctx, `SELECT base, quote, rate::text, as_of, source FROM fx_rates
		WHERE ($1 = '' OR base = $1) AND ($2 = '' OR quote = $2)
		  AND ($3::timestamptz IS NULL OR as_of < $3 OR (as_of = $3 AND (base, quote, source) > ($4, $5, $6)))
		ORDER BY as_of DESC, base, quote, source LIMIT $7`, base, quote, asOf, after[0], after[1], after[2], limit+1)
	if err != nil {
		return nil, "", dbErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tollgate.FXRate, error) {
		var f tollgate.FXRate
		err := r.Scan(&f.Base, &f.Quote, &f.Rate, &f.AsOf, &f.Source)
		return f, err
	})
	if err != nil {
		return nil, "", dbErr(err)
	}
	out, next := cutPage(out, limit, tollgate.CursorFXRates, func(f tollgate.FXRate) []string {
		return []string{f.AsOf.UTC().Format(time.RFC3339Nano), f.Base, f.Quote, f.Source}
	})
	return out, next, nil
}

// RatesAt implements activities.CycleStore: the latest rate per base with
// as_of <= at (ties broken by the latest recorded).
func (s *Store) RatesAt(ctx context.Context, quote tollgate.Currency, bases []tollgate.Currency, at time.Time) (map[tollgate.Currency]tollgate.Rate, error) {
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
	out := map[tollgate.Currency]tollgate.Rate{}
	for rows.Next() {
		var base, rate string
		var r tollgate.Rate
		if err := rows.Scan(&base, &rate, &r.AsOf, &r.Source); err != nil {
			return nil, dbErr(err)
		}
		if r.Rate, err = parseStored("fx rate "+base+"/"+string(quote), rate); err != nil {
			return nil, err
		}
		out[tollgate.Currency(base)] = r
	}
	return out, dbErr(rows.Err())
}
