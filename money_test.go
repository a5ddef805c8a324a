package tollgate

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCurrencyExponents(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]int32{
		"JPY": 0, "EUR": 2, "KWD": 3, "BHD": 3, "JOD": 3, "OMR": 3, "TND": 3,
		"LYD": 3, "IQD": 3, "CLF": 4, "UYW": 4, "IDR": 2, "COP": 2, "PKR": 2,
		"ISK": 0, "KRW": 0, "VND": 0, "CLP": 0, "UGX": 0, "MRU": 2, "SLE": 2,
		"VES": 2, "USD": 2,
	} {
		c, err := ParseCurrency(code)
		require.NoError(t, err, code)
		require.Equal(t, Currency(code), c)
		require.Equal(t, want, c.Exponent(), code)
	}
}

func TestParseCurrencyRefuses(t *testing.T) {
	t.Parallel()
	for code, msg := range map[string]string{
		"":     "not a three-letter upper-case",
		"eur":  "not a three-letter upper-case",
		"Eur":  "not a three-letter upper-case",
		"EU":   "not a three-letter upper-case",
		"EURO": "not a three-letter upper-case",
		"XXX":  "not a known ISO 4217 code", // no currency
		"XTS":  "not a known ISO 4217 code", // testing code
		"XAU":  "not a known ISO 4217 code", // gold: minor units N.A.
		"XDR":  "not a known ISO 4217 code", // SDR: minor units N.A.
		"ABC":  "not a known ISO 4217 code",
		"DEM":  "not a known ISO 4217 code", // withdrawn; CLDR accepted it
		"HRK":  "not a known ISO 4217 code", // withdrawn 2023; CLDR accepted it
	} {
		_, err := ParseCurrency(code)
		require.ErrorContains(t, err, msg, code)
		require.Equal(t, CodeInvalid, ErrorCode(err), code)
	}
}

func TestExponentPanicsOnUnvalidatedCurrency(t *testing.T) {
	t.Parallel()
	require.Panics(t, func() { Currency("XXX").Exponent() })
}

// Every table entry is a three-letter upper-case code with an exponent of 0
// to 4, and ParseCurrency accepts exactly the table.
func TestISO4217TableShape(t *testing.T) {
	t.Parallel()
	require.GreaterOrEqual(t, len(iso4217), 150)
	for c, e := range iso4217 {
		_, err := ParseCurrency(string(c))
		require.NoError(t, err)
		require.GreaterOrEqual(t, e, int32(0), c)
		require.LessOrEqual(t, e, int32(4), c)
	}
}

// The explicit change set of issue 11: every currency whose exponent differs
// from the CLDR value tollgate used before (golang.org/x/text/currency
// v0.44.0, currency.Standard.Rounding). x/text is no longer a dependency, so
// the old values are written out here; a table edit that changes an exponent
// of a currency that was accepted before must extend this list, the
// README changelog and the ledger check.
func TestExponentChangesFromCLDR(t *testing.T) {
	t.Parallel()
	want := []string{
		"AFN 0->2", "ALL 0->2", "AMD 0->2", "COP 0->2", "GYD 0->2", "IDR 0->2",
		"IQD 0->3", "IRR 0->2", "KPW 0->2", "LAK 0->2", "LBP 0->2", "MGA 0->2",
		"MMK 0->2", "MNT 0->2", "MUR 0->2", "PKR 0->2", "RSD 0->2", "SLL 0->2",
		"SOS 0->2", "SYP 0->2", "TZS 0->2", "UZS 0->2", "YER 0->2",
	}
	var got []string
	for _, ch := range ExponentChanges() {
		require.Equal(t, iso4217[ch.Currency], ch.New, ch.Currency)
		require.NotEqual(t, ch.Old, ch.New, ch.Currency)
		require.Greater(t, ch.New, ch.Old, "%s shrank: stored decimal amounts would have too many decimals", ch.Currency)
		got = append(got, fmt.Sprintf("%s %d->%d", ch.Currency, ch.Old, ch.New))
	}
	require.Equal(t, want, got)

	// Codes CLDR refused that the table now accepts; nothing was stored in
	// them, so they are not exponent changes.
	for _, c := range []Currency{"MRU", "SLE", "UYW", "VED", "VES", "XCG", "ZWG"} {
		_, changed := cldrExponents[c]
		require.False(t, changed, c)
		_, err := ParseCurrency(string(c))
		require.NoError(t, err, c)
	}
}
