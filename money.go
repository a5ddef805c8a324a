package tollgate

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/shopspring/decimal"
)

// Currency is an ISO 4217 alphabetic code such as "EUR".
type Currency string

// ParseCurrency validates an ISO 4217 code. The embedded List One table
// (currency_iso4217.go) is the single source of truth for which codes exist
// and how many minor units they carry.
func ParseCurrency(code string) (Currency, error) {
	if len(code) != 3 || strings.ToUpper(code) != code {
		return "", Errorf(CodeInvalid, "currency %q is not a three-letter upper-case ISO 4217 code", code)
	}
	if _, ok := iso4217[Currency(code)]; !ok {
		return "", Errorf(CodeInvalid, "currency %q is not a known ISO 4217 code", code)
	}
	return Currency(code), nil
}

// Exponent is the number of minor-unit digits of the currency (JPY 0, EUR 2,
// KWD 3, CLF 4). Callers must pass a currency obtained from ParseCurrency.
func (c Currency) Exponent() int32 {
	e, ok := iso4217[c]
	if !ok {
		panic(fmt.Sprintf("tollgate: Exponent of unvalidated currency %q", string(c)))
	}
	return e
}

// ParseAmount reads a decimal string such as "12.34" for the given currency.
// It refuses exponents, signs other than a leading '-', and more decimals than
// the currency's minor units allow, so no input is silently rounded.
func ParseAmount(s string, c Currency) (decimal.Decimal, error) {
	return ParseDecimal(s, c.Exponent())
}

// ParseDecimal reads a plain decimal string with at most maxDecimals digits
// after the point.
func ParseDecimal(s string, maxDecimals int32) (decimal.Decimal, error) {
	if s == "" {
		return decimal.Decimal{}, Errorf(CodeInvalid, "amount is empty")
	}
	if len(s) > 40 {
		return decimal.Decimal{}, Errorf(CodeInvalid, "amount %.20q... is too long", s)
	}
	body := strings.TrimPrefix(s, "-")
	if body == "" || body[0] == '.' || body[len(body)-1] == '.' {
		return decimal.Decimal{}, Errorf(CodeInvalid, "amount %q is not a decimal number like \"12.34\"", s)
	}
	dot := false
	decimals := int32(0)
	for _, r := range body {
		switch {
		case r == '.' && !dot:
			dot = true
		case r >= '0' && r <= '9':
			if dot {
				decimals++
			}
		default:
			return decimal.Decimal{}, Errorf(CodeInvalid, "amount %q is not a decimal number like \"12.34\"", s)
		}
	}
	if decimals > maxDecimals {
		return decimal.Decimal{}, Errorf(CodeInvalid, "amount %q has %d decimals; at most %d are allowed here", s, decimals, maxDecimals)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, Errorf(CodeInvalid, "amount %q is not a decimal number", s)
	}
	return d, nil
}

// MinorUnits converts an amount that has no more decimals than the currency
// allows into integer minor units. It refuses amounts that would need rounding.
func MinorUnits(d decimal.Decimal, c Currency) (int64, error) {
	scaled := d.Shift(c.Exponent())
	if !scaled.Equal(scaled.Truncate(0)) {
		return 0, Errorf(CodeInvalid, "amount %s has more decimals than %s allows", d.String(), c)
	}
	bi := scaled.BigInt()
	if !bi.IsInt64() || bi.CmpAbs(big.NewInt(1<<62)) > 0 {
		return 0, Errorf(CodeInvalid, "amount %s is out of range", d.String())
	}
	return bi.Int64(), nil
}

// FromMinorUnits is the inverse of MinorUnits.
func FromMinorUnits(units int64, c Currency) decimal.Decimal {
	return decimal.New(units, -c.Exponent())
}

// FormatAmount renders an amount with exactly the currency's minor units.
func FormatAmount(d decimal.Decimal, c Currency) string {
	return d.StringFixed(c.Exponent())
}

// RoundMoney rounds half away from zero to the currency's minor units.
// decimal.Round rounds half away from zero, which is the rule docs/architecture.md §5 fixes.
func RoundMoney(d decimal.Decimal, c Currency) decimal.Decimal {
	return d.Round(c.Exponent())
}
