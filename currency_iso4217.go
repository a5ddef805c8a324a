package tollgate

import (
	"slices"
	"strings"
)

// iso4217 maps every active ISO 4217 alphabetic code to its minor-unit
// exponent. It is a fact table, transcribed from ISO 4217 List One ("Current
// currency & funds code list") as amended up to the 2025 edition (amendments
// through 179: XCG replacing ANG, ZWG replacing ZWL, SLE, VED, MRU, STN, UYW
// present). It is embedded so that no build or run fetches anything; update
// it by a reviewed change when the maintenance agency publishes an amendment,
// and check the ledger for stored minor units in any currency whose exponent
// changes (docs/architecture.md §3; `tollgate ledger verify`).
//
// Scope:
//   - Every national currency in List One, including codes in a published
//     transition whose predecessor is still listed (ANG beside XCG, SLL beside
//     SLE, CUC), so rows written in them stay readable.
//   - The fund codes that have a defined number of minor units: BOV, CHE,
//     CHW, CLF (4), COU, MXV, USN, UYI (0), UYW (4). They are real units of
//     account in contracts (CLF and UYW index contracts in Chile and Uruguay).
//   - Not: codes whose minor unit is "N.A." in List One — precious metals
//     (XAU, XAG, XPD, XPT), bond-market units (XBA to XBD), XDR, XSU, XUA,
//     the testing code XTS and "no currency" XXX — and withdrawn codes (List
//     Three), which CLDR used to accept (DEM, HRK, ZWL, ...).
var iso4217 = map[Currency]int32{
	"AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2, "AUD": 2,
	"AWG": 2, "AZN": 2,
	"BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0, "BMD": 2, "BND": 2,
	"BOB": 2, "BOV": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2, "BZD": 2,
	"CAD": 2, "CDF": 2, "CHE": 2, "CHF": 2, "CHW": 2, "CLF": 4, "CLP": 0, "CNY": 2,
	"COP": 2, "COU": 2, "CRC": 2, "CUC": 2, "CUP": 2, "CVE": 2, "CZK": 2,
	"DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2,
	"EGP": 2, "ERN": 2, "ETB": 2, "EUR": 2,
	"FJD": 2, "FKP": 2,
	"GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2, "GNF": 0, "GTQ": 2, "GYD": 2,
	"HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2,
	"IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0,
	"JMD": 2, "JOD": 3, "JPY": 0,
	"KES": 2, "KGS": 2, "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2,
	"KZT": 2,
	"LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3,
	"MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2,
	"MUR": 2, "MVR": 2, "MWK": 2, "MXN": 2, "MXV": 2, "MYR": 2, "MZN": 2,
	"NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2,
	"OMR": 3,
	"PAB": 2, "PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0,
	"QAR": 2,
	"RON": 2, "RSD": 2, "RUB": 2, "RWF": 0,
	"SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2, "SLE": 2,
	"SLL": 2, "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2,
	"THB": 2, "TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2,
	"TZS": 2,
	"UAH": 2, "UGX": 0, "USD": 2, "USN": 2, "UYI": 0, "UYU": 2, "UYW": 4, "UZS": 2,
	"VED": 2, "VES": 2, "VND": 0, "VUV": 0,
	"WST": 2,
	"XAF": 0, "XCD": 2, "XCG": 2, "XOF": 0, "XPF": 0,
	"YER": 2,
	"ZAR": 2, "ZMW": 2, "ZWG": 2,
}

// cldrExponents holds, for each currency whose exponent changed when this
// table replaced the CLDR one (golang.org/x/text/currency, issue 11), the
// exponent used before. Every change was a growth, so decimal amounts stored
// before stay valid; integer minor units stored before (ledger postings and
// balances, cycles.total_minor) were scaled by the old exponent and read
// 10^(new-old) times too small now. Codes that were new in the table (MRU,
// SLE, UYW, VED, VES, XCG, ZWG) were refused before, so nothing was stored in
// them.
var cldrExponents = map[Currency]int32{
	"AFN": 0, "ALL": 0, "AMD": 0, "COP": 0, "GYD": 0, "IDR": 0, "IQD": 0, "IRR": 0,
	"KPW": 0, "LAK": 0, "LBP": 0, "MGA": 0, "MMK": 0, "MNT": 0, "MUR": 0, "PKR": 0,
	"RSD": 0, "SLL": 0, "SOS": 0, "SYP": 0, "TZS": 0, "UZS": 0, "YER": 0,
}

// ExponentChange is a currency whose minor-unit exponent changed with the
// move from CLDR to ISO 4217 (issue 11).
type ExponentChange struct {
	Currency Currency
	Old, New int32
}

// ExponentChanges lists, sorted by code, the currencies whose exponent
// changed with the move from CLDR to ISO 4217, so checks over stored minor
// units can find rows written with the old exponent.
func ExponentChanges() []ExponentChange {
	out := make([]ExponentChange, 0, len(cldrExponents))
	for c, old := range cldrExponents {
		out = append(out, ExponentChange{Currency: c, Old: old, New: iso4217[c]})
	}
	slices.SortFunc(out, func(a, b ExponentChange) int { return strings.Compare(string(a.Currency), string(b.Currency)) })
	return out
}
