package settlement

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/tollgate/tollgate"
)

// line is a statement line before rendering; amount is already rounded.
type line struct {
	typ         tollgate.LineType
	amount      decimal.Decimal
	basis       string
	rate        string
	explanation string
}

// calc holds what every line needs: the settlement currency, the parsed
// terms and the effective net revenue after carryover.
type calc struct {
	cur     tollgate.Currency
	terms   tollgate.ParsedTerms
	nrEff   decimal.Decimal
	carryIn decimal.Decimal
}

func (c calc) round(d decimal.Decimal) decimal.Decimal { return tollgate.RoundMoney(d, c.cur) }

// money renders with exactly the currency's minor units, rounding half away
// from zero first so full-precision figures display the way lines round.
func (c calc) money(d decimal.Decimal) string { return tollgate.FormatAmount(c.round(d), c.cur) }

// revenueShare is step 4: marginal tiers, like tax brackets, on NR_eff.
func (c calc) revenueShare() line {
	l := line{typ: tollgate.LineRevenueShare, basis: c.money(c.nrEff), amount: decimal.Zero}
	subject := "net revenue " + c.money(c.nrEff) + " " + string(c.cur)
	if !c.carryIn.IsZero() {
		subject += " after carry-in " + c.money(c.carryIn)
	}
	if !c.nrEff.IsPositive() {
		l.explanation = "no revenue share: " + subject + " is not positive"
		return l
	}
	sum := decimal.Zero
	var parts []string
	used := 0
	for i, t := range c.terms.Tiers {
		portion := c.nrEff.Sub(t.From)
		if !t.Unbounded {
			portion = decimal.Min(portion, t.UpTo.Sub(t.From))
		}
		if !portion.IsPositive() {
			break
		}
		used++
		sum = sum.Add(portion.Mul(t.Rate))
		full := !t.Unbounded && portion.Equal(t.UpTo.Sub(t.From))
		switch {
		case i == 0 && full:
			parts = append(parts, percent(t.Rate)+" of the first "+c.money(portion))
		case i == 0:
			parts = append(parts, percent(t.Rate)+" of "+c.money(portion))
		default:
			parts = append(parts, percent(t.Rate)+" of "+c.money(portion)+" above "+c.money(t.From))
		}
	}
	l.amount = c.round(sum)
	if used == 1 {
		// Only then is the line literally basis × rate.
		l.rate = c.terms.Tiers[0].RateText
	}
	l.explanation = strings.Join(parts, " + ") + " (" + subject + ")"
	return l
}

// chargeFees is step 5; the basis is the number of charges.
func (c calc) chargeFees(charges int64) line {
	fee := c.terms.FeePerCharge
	return line{
		typ:         tollgate.LineChargeFees,
		amount:      c.round(fee.Mul(decimal.NewFromInt(charges))),
		basis:       strconv.FormatInt(charges, 10),
		rate:        fee.String(),
		explanation: fmt.Sprintf("%d %s × %s %s", charges, plural(charges, "charge", "charges"), fee.String(), c.cur),
	}
}

// topup is step 6, on the already rounded revenue share and fees.
func (c calc) topup(rs, fees decimal.Decimal) line {
	earned := rs.Add(fees)
	mg := c.terms.MinimumGuarantee
	l := line{typ: tollgate.LineMinimumGuaranteeTopup, basis: c.money(earned)}
	l.amount = c.round(decimal.Max(decimal.Zero, mg.Sub(earned)))
	switch {
	case mg.IsZero():
		l.explanation = "no minimum guarantee"
	case l.amount.IsPositive():
		l.explanation = fmt.Sprintf("minimum guarantee %s %s − revenue share and fees %s", c.money(mg), c.cur, c.money(earned))
	default:
		l.explanation = fmt.Sprintf("revenue share and fees %s meet the minimum guarantee %s %s", c.money(earned), c.money(mg), c.cur)
	}
	return l
}

// capReduction is step 7, on the rounded sum of the three lines above.
func (c calc) capReduction(subtotal decimal.Decimal) line {
	l := line{typ: tollgate.LineCapReduction, basis: c.money(subtotal), amount: decimal.Zero}
	if !c.terms.HasCap {
		l.explanation = "no cap"
		return l
	}
	capAmount := c.terms.Cap
	l.amount = c.round(decimal.Min(decimal.Zero, capAmount.Sub(subtotal)))
	if l.amount.IsNegative() {
		l.explanation = fmt.Sprintf("capped at %s %s: %s reduced by %s", c.money(capAmount), c.cur, c.money(subtotal), c.money(l.amount.Neg()))
	} else {
		l.explanation = fmt.Sprintf("%s is within the cap %s %s", c.money(subtotal), c.money(capAmount), c.cur)
	}
	return l
}

// percent renders a rate such as 0.085 as "8.5%" without leaving decimals.
func percent(rate decimal.Decimal) string {
	return rate.Shift(2).String() + "%"
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
