package tollgate

import (
	"time"

	"github.com/shopspring/decimal"
)

// FXRate is 1 Base = Rate Quote, as of a time, from a source, as the API
// takes and shows it.
type FXRate struct {
	Base   string    `json:"base"`
	Quote  string    `json:"quote"`
	Rate   string    `json:"rate"`
	AsOf   time.Time `json:"as_of"`
	Source string    `json:"source"`
}

// Normalise validates a rate and returns it in stored form (currencies
// checked, rate in shortest decimal form, as_of in UTC) with the parsed rate.
// now bounds as_of: a rate cannot be dated in the future.
func (r FXRate) Normalise(now time.Time) (FXRate, decimal.Decimal, error) {
	base, err := ParseCurrency(r.Base)
	if err != nil {
		return FXRate{}, decimal.Zero, Errorf(CodeInvalid, "base: %v", err)
	}
	quote, err := ParseCurrency(r.Quote)
	if err != nil {
		return FXRate{}, decimal.Zero, Errorf(CodeInvalid, "quote: %v", err)
	}
	if base == quote {
		return FXRate{}, decimal.Zero, Errorf(CodeInvalid, "base and quote are both %s", base)
	}
	rate, err := ParseDecimal(r.Rate, 12)
	if err != nil || !rate.IsPositive() {
		return FXRate{}, decimal.Zero, Errorf(CodeInvalid, "rate: %q must be a positive decimal string with at most 12 decimals", r.Rate)
	}
	if r.AsOf.IsZero() {
		return FXRate{}, decimal.Zero, Errorf(CodeInvalid, "as_of: required (RFC 3339)")
	}
	if r.AsOf.After(now.Add(FutureTolerance)) {
		return FXRate{}, decimal.Zero, Errorf(CodeInvalid, "as_of: %s is in the future", r.AsOf.Format(time.RFC3339))
	}
	if r.Source == "" || len(r.Source) > 100 {
		return FXRate{}, decimal.Zero, Errorf(CodeInvalid, "source: required, at most 100 characters")
	}
	return FXRate{Base: string(base), Quote: string(quote), Rate: rate.String(), AsOf: r.AsOf.UTC(), Source: r.Source}, rate, nil
}

// Rate converts one unit of a transaction currency (the base) into the
// settlement currency (the quote): what a statement is computed with.
type Rate struct {
	Rate   decimal.Decimal
	AsOf   time.Time
	Source string
}
