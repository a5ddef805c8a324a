package api

import (
	"context"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/settlement"
)

// PositionSource is what the live position reads: the open period and the
// rates in force.
type PositionSource interface {
	OpenPeriod(ctx context.Context, contractID string, at time.Time) (tollgate.ContractView, tollgate.Period, error)
	RatesAt(ctx context.Context, quote tollgate.Currency, bases []tollgate.Currency, at time.Time) (map[tollgate.Currency]tollgate.Rate, error)
}

// LivePosition values a contract's open period at a time with the rates in
// force then, through the same settlement.ComputePeriod a cycle's compute
// step uses.
func LivePosition(ctx context.Context, src PositionSource, contractID string, at time.Time) (tollgate.Position, error) {
	c, p, err := src.OpenPeriod(ctx, contractID, at)
	if err != nil {
		return tollgate.Position{}, err
	}
	rates := map[tollgate.Currency]tollgate.Rate{}
	if bases := p.RateBases(); len(bases) > 0 {
		if rates, err = src.RatesAt(ctx, p.Currency, bases, at); err != nil {
			return tollgate.Position{}, err
		}
	}
	st, err := settlement.ComputePeriod(p, rates, at)
	if err != nil {
		return tollgate.Position{}, err
	}
	return tollgate.NewPosition(c.ID, p, st, at), nil
}
