package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
)

// RatesAt picks, per base, the latest rate into the quote whose as_of is not
// after the cutoff; among rates with that as_of, the one recorded last.
func TestRatesAtTheCutoff(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	cutoff := t0.Add(time.Hour)
	// Recorded in this order: the order decides ties on as_of.
	for _, r := range []tollgate.FXRate{
		{Base: "USD", Quote: "EUR", Rate: "0.90", AsOf: cutoff, Source: "ecb"},                       // exactly at the cutoff: used
		{Base: "USD", Quote: "EUR", Rate: "0.80", AsOf: cutoff.Add(-time.Hour), Source: "ecb"},       // older, though recorded later
		{Base: "USD", Quote: "EUR", Rate: "0.70", AsOf: cutoff.Add(time.Microsecond), Source: "ecb"}, // after the cutoff
		{Base: "GBP", Quote: "EUR", Rate: "1.15", AsOf: cutoff.Add(-48 * time.Hour), Source: "ecb"},  // only rate before
		{Base: "GBP", Quote: "EUR", Rate: "1.25", AsOf: cutoff.Add(time.Hour), Source: "ecb"},
		// Two sources for one as_of: the one recorded last, whichever
		// sorts first by name.
		{Base: "CHF", Quote: "EUR", Rate: "1.01", AsOf: cutoff.Add(-time.Hour), Source: "a-feed"},
		{Base: "CHF", Quote: "EUR", Rate: "1.02", AsOf: cutoff.Add(-time.Hour), Source: "z-feed"},
		{Base: "SEK", Quote: "EUR", Rate: "0.081", AsOf: cutoff.Add(-time.Hour), Source: "z-feed"},
		{Base: "SEK", Quote: "EUR", Rate: "0.082", AsOf: cutoff.Add(-time.Hour), Source: "a-feed"},
		{Base: "NOK", Quote: "EUR", Rate: "0.085", AsOf: cutoff.Add(time.Minute), Source: "ecb"}, // only after: absent
		{Base: "JPY", Quote: "USD", Rate: "0.0067", AsOf: cutoff, Source: "ecb"},                 // another quote: absent
		{Base: "DKK", Quote: "EUR", Rate: "0.134", AsOf: cutoff, Source: "ecb"},                  // not asked for: absent
	} {
		_, err := f.st.AddRate(ctx, r)
		require.NoError(t, err)
	}

	got, err := f.st.RatesAt(ctx, "EUR", []tollgate.Currency{"CHF", "GBP", "JPY", "NOK", "SEK", "USD"}, cutoff)
	require.NoError(t, err)
	// as_of as text, so a failure shows readable times.
	type rate struct{ rate, asOf, source string }
	at := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	want := map[tollgate.Currency]rate{
		"USD": {"0.9", at(cutoff), "ecb"},
		"GBP": {"1.15", at(cutoff.Add(-48 * time.Hour)), "ecb"},
		"CHF": {"1.02", at(cutoff.Add(-time.Hour)), "z-feed"},
		"SEK": {"0.082", at(cutoff.Add(-time.Hour)), "a-feed"},
	}
	gotRates := map[tollgate.Currency]rate{}
	for c, r := range got {
		gotRates[c] = rate{r.Rate.String(), at(r.AsOf), r.Source}
	}
	require.Equal(t, want, gotRates)

	// A microsecond (timestamptz's resolution) before the cutoff the rate
	// dated at it is not in force yet; the older one is.
	got, err = f.st.RatesAt(ctx, "EUR", []tollgate.Currency{"USD"}, cutoff.Add(-time.Microsecond))
	require.NoError(t, err)
	require.Equal(t, "0.8", got["USD"].Rate.String())

	got, err = f.st.RatesAt(ctx, "EUR", []tollgate.Currency{"JPY"}, cutoff)
	require.NoError(t, err)
	require.Empty(t, got, "a base with no rate is absent, not zero")
}
