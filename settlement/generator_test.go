package settlement_test

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"

	"pgregory.net/rapid"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/settlement"
)

// Exponents 0, 2 and 3 all appear, as settlement and as transaction currencies.
var currencies = []tollgate.Currency{"EUR", "USD", "GBP", "JPY", "KWD", "BHD"}

// apiDigits is the most digits an amount can have and still be accepted:
// ParseDecimal refuses strings over 40 characters, one of which is the
// decimal point when the currency has minor units.
func apiDigits(cur tollgate.Currency) int {
	if exponents[cur] == 0 {
		return 40
	}
	return 39
}

func fits(n *big.Int, places int) bool { return len(decimalText(n, places)) <= 40 }

// gen draws amounts either of everyday size or near the limits the API
// accepts, as the scenario's magnitude says.
type gen struct {
	t     *rapid.T
	large bool
}

// digits draws a number of minDigits to maxDigits digits, sometimes all nines.
func (g gen) digits(label string, minDigits, maxDigits int) *big.Int {
	n := rapid.IntRange(max(1, minDigits), maxDigits).Draw(g.t, label+"_digits")
	if rapid.Bool().Draw(g.t, label+"_all_nines") {
		return new(big.Int).Sub(pow10(n), big.NewInt(1))
	}
	v := new(big.Int)
	for n > 0 {
		k := min(n, 18)
		chunk := rapid.Int64Range(0, pow10(k).Int64()-1).Draw(g.t, label)
		v.Mul(v, pow10(k)).Add(v, big.NewInt(chunk))
		n -= k
	}
	return v
}

// amount draws a non-negative amount in minor units of cur: up to
// wholeUnits whole units, or, when large, an amount a few digits short of
// (or at) the API's limit, less `headroom` digits.
func (g gen) amount(label string, cur tollgate.Currency, wholeUnits int64, headroom int) *big.Int {
	if g.large {
		top := apiDigits(cur) - headroom
		return g.digits(label, top-3, top)
	}
	return big.NewInt(rapid.Int64Range(0, wholeUnits*pow10(exponents[cur]).Int64()).Draw(g.t, label))
}

// signed draws an amount that is negative a quarter of the time.
func (g gen) signed(label string, cur tollgate.Currency, wholeUnits int64) *big.Int {
	n := g.amount(label, cur, wholeUnits, 1)
	if rapid.IntRange(0, 3).Draw(g.t, label+"_negative") == 0 {
		n.Neg(n)
	}
	return n
}

// halfRates times an odd number of minor units often leave exactly half a
// minor unit, where rounding rules differ.
var halfRates = []string{"0.5", "0.25", "0.125", "0.05", "0.005", "0.0625", "0.15"}

// tierRate draws a rate in [0, 1] with 0 to 10 decimals.
func (g gen) tierRate() (*big.Rat, string) {
	if rapid.IntRange(0, 3).Draw(g.t, "half_rate") == 3 {
		text := rapid.SampledFrom(halfRates).Draw(g.t, "rate")
		r, _ := new(big.Rat).SetString(text)
		return r, text
	}
	places := rapid.IntRange(0, 10).Draw(g.t, "rate_decimals")
	var r int64
	switch {
	case rapid.IntRange(0, 7).Draw(g.t, "zero_rate") == 7:
	case places == 0:
		r = 1
	default:
		r = rapid.Int64Range(1, pow10(places).Int64()).Draw(g.t, "rate")
	}
	n := big.NewInt(r)
	return ratMinor(n, places), decimalText(n, places)
}

// fee draws a fee per charge with 0 to 6 decimals; an empty string is 0.
// Some fees end in half a minor unit, so an odd number of charges rounds
// an exact half.
func (g gen) fee(cur tollgate.Currency) (*big.Rat, string) {
	places := rapid.IntRange(0, 6).Draw(g.t, "fee_decimals")
	switch rapid.IntRange(0, 3).Draw(g.t, "fee_kind") {
	case 3:
		e := exponents[cur]
		f := big.NewInt(5 + 10*rapid.Int64Range(0, 1000).Draw(g.t, "fee"))
		return ratMinor(f, e+1), decimalText(f, e+1)
	case 2:
		places = 6
	}
	var f *big.Int
	if g.large {
		f = g.digits("fee", 1, 39-places)
	} else {
		f = big.NewInt(rapid.Int64Range(0, 10*pow10(places).Int64()).Draw(g.t, "fee"))
	}
	text := decimalText(f, places)
	if f.Sign() == 0 && rapid.Bool().Draw(g.t, "fee_empty") {
		text = ""
	}
	return ratMinor(f, places), text
}

// fxRate draws a positive rate with 0 to 12 decimals (what FXRate accepts)
// and returns its integer numerator m and decimals, rate = m × 10^-places.
func (g gen) fxRate() (*big.Rat, string, *big.Int, int) {
	places := rapid.IntRange(0, 12).Draw(g.t, "fx_decimals")
	var m *big.Int
	if g.large {
		m = g.digits("fx_rate", places+1, 40-min(places, 1))
		m.Add(m, big.NewInt(1))
		if !fits(m, places) {
			m.Sub(m, big.NewInt(1))
		}
	} else {
		m = big.NewInt(rapid.Int64Range(1, pow10(min(places+3, 18)).Int64()).Draw(g.t, "fx_rate"))
	}
	return ratMinor(m, places), decimalText(m, places), m, places
}

// totals draws one currency's totals whose net revenue is exactly nr.
func (g gen) totals(cur tollgate.Currency, nr *big.Int) modelTotals {
	payout := g.amount("payout_sum", cur, 10_000_000, 1)
	adj := g.amount("adjustment_sum", cur, 1_000_000, 2)
	if rapid.Bool().Draw(g.t, "adjustment_negative") {
		adj.Neg(adj)
	}
	charge := new(big.Int).Add(nr, payout)
	charge.Sub(charge, adj)
	if charge.Sign() < 0 {
		payout.Sub(payout, charge)
		charge.SetInt64(0)
	}
	maxCharges := int64(1_000_000)
	if g.large {
		maxCharges = 1_000_000_000_000_000
	}
	charges := rapid.Int64Range(0, maxCharges).Draw(g.t, "charges")
	return modelTotals{
		cur: cur, chargeSum: charge, payoutSum: payout, adjSum: adj,
		charges: charges, count: charges + rapid.Int64Range(1, 1000).Draw(g.t, "other_rows"),
	}
}

// align makes n (minor units of a transaction currency with exponent ec)
// times m × 10^-places a whole number of minor units of exponent es, so a
// draw can still land the effective net revenue on an exact figure.
func align(n, m *big.Int, places, ec, es int) *big.Int {
	k := places + ec - es
	if k <= 0 {
		return n
	}
	p := pow10(k)
	return new(big.Int).Mul(n, new(big.Int).Quo(p, new(big.Int).GCD(nil, nil, m, p)))
}

// Targets for the effective net revenue.
const (
	targetBound    = "tier bound ±1"
	targetZero     = "zero ±1"
	targetNegative = "negative"
	targetFree     = "free"
)

// genScenario draws one statement's inputs. Most draws aim the effective
// net revenue (NR_eff) at a figure — a tier bound or a bound ± one minor
// unit, zero ± one minor unit, a loss — and solve the settlement currency's
// totals so NR_eff lands on it exactly, foreign exchange and carry
// included. The rest draw every total freely, so FX leaves fractions of a
// minor unit. An eighth of the draws use amounts at the API's limits.
func genScenario(t *rapid.T) scenario {
	cur := rapid.SampledFrom(currencies).Draw(t, "settlement_currency")
	e := exponents[cur]
	sc := scenario{
		cur:           cur,
		large:         rapid.IntRange(0, 7).Draw(t, "magnitude") == 7,
		carryNegative: rapid.Bool().Draw(t, "carry_negative"),
		rates:         map[tollgate.Currency]modelRate{},
	}
	g := gen{t: t, large: sc.large}
	switch k := rapid.IntRange(0, 19).Draw(t, "target"); {
	case k < 8:
		sc.target = targetBound
	case k < 11:
		sc.target = targetZero
	case k < 13:
		sc.target = targetNegative
	default:
		sc.target = targetFree
	}

	minTiers := 1
	if sc.target == targetBound {
		minTiers = 2
	}
	n := rapid.IntRange(minTiers, 4).Draw(t, "tiers")
	bound := new(big.Int)
	for i := range n {
		var tier modelTier
		tier.rate, tier.text = g.tierRate()
		if i < n-1 {
			bound = new(big.Int).Add(bound, new(big.Int).Add(g.amount("width", cur, 1_000_000, 1), big.NewInt(1)))
			tier.upTo = bound
		}
		sc.tiers = append(sc.tiers, tier)
	}
	if sc.large && n > 1 && rapid.Bool().Draw(t, "top_bound_at_limit") {
		sc.tiers[n-2].upTo = new(big.Int).Sub(pow10(apiDigits(cur)), big.NewInt(1))
	}
	sc.fee, sc.feeText = g.fee(cur)

	// Transaction currencies other than the settlement currency.
	aligned := sc.target != targetFree
	nr := new(big.Rat)
	others := slices.DeleteFunc(slices.Clone(currencies), func(c tollgate.Currency) bool { return c == cur })
	// Free draws convert two or three currencies, so what each leaves
	// beyond the minor unit can add up across a rounding step.
	minForeign := 0
	if !aligned {
		minForeign = 2
	}
	foreign := rapid.SliceOfNDistinct(rapid.SampledFrom(others), minForeign, 3, rapid.ID).Draw(t, "foreign")
	for _, c := range foreign {
		rate, text, m, places := g.fxRate()
		sc.rates[c] = modelRate{rate: rate, text: text}
		nrC := g.signed("foreign_net_revenue", c, 10_000_000)
		if aligned {
			nrC = align(nrC, m, places, exponents[c], e)
		}
		sc.totals = append(sc.totals, g.totals(c, nrC))
		nr.Add(nr, new(big.Rat).Mul(ratMinor(nrC, exponents[c]), rate))
	}

	sc.carryIn = new(big.Int).Neg(g.amount("carry_in", cur, 1_000_000, 1))
	if sc.carryNegative {
		nr.Add(nr, ratMinor(sc.carryIn, e))
	}

	// The settlement currency's own totals: free, or whatever lands NR_eff
	// on the target.
	var target *big.Int
	switch sc.target {
	case targetBound:
		i := rapid.IntRange(0, n-2).Draw(t, "target_tier")
		target = new(big.Int).Add(sc.tiers[i].upTo, big.NewInt(int64(rapid.IntRange(-1, 1).Draw(t, "target_offset"))))
	case targetZero:
		target = big.NewInt(int64(rapid.IntRange(-1, 1).Draw(t, "target_offset")))
	case targetNegative:
		target = new(big.Int).Neg(new(big.Int).Add(g.amount("target_loss", cur, 1_000_000, 1), big.NewInt(1)))
	}
	switch {
	case target != nil:
		need := new(big.Rat).Sub(ratMinor(target, e), nr)
		need.Mul(need, new(big.Rat).SetInt(pow10(e)))
		if !need.IsInt() {
			panic(fmt.Sprintf("generator: aligned foreign revenue leaves %s minor units", need.RatString()))
		}
		sc.totals = append(sc.totals, g.totals(cur, need.Num()))
	case rapid.Bool().Draw(t, "settlement_currency_totals"):
		sc.totals = append(sc.totals, g.totals(cur, g.signed("net_revenue", cur, 10_000_000)))
	}
	sc.totals = rapid.Permutation(sc.totals).Draw(t, "totals_order")

	// A currency with no rows needs no rate; a rate for the settlement
	// currency itself is ignored.
	if unrated := slices.DeleteFunc(slices.Clone(others), func(c tollgate.Currency) bool { return slices.Contains(foreign, c) }); len(unrated) > 0 && rapid.Bool().Draw(t, "empty_totals") {
		sc.totals = append(sc.totals, modelTotals{cur: rapid.SampledFrom(unrated).Draw(t, "empty_currency"), chargeSum: new(big.Int), payoutSum: new(big.Int), adjSum: new(big.Int)})
	}
	if rapid.Bool().Draw(t, "rate_for_settlement_currency") {
		sc.rates[cur] = modelRate{rate: big.NewRat(7, 1), text: "7"}
	}

	genGuaranteeAndCap(g, &sc)
	return sc
}

// genGuaranteeAndCap draws the minimum guarantee and the cap, often within
// one minor unit of what the revenue share and fees earn, where the top-up
// and the cap start to bite.
func genGuaranteeAndCap(g gen, sc *scenario) {
	e := exponents[sc.cur]
	limit := new(big.Int).Sub(pow10(apiDigits(sc.cur)), big.NewInt(1))
	sc.mg = new(big.Int)
	earned := model(*sc).earned
	offset := func(label string) *big.Int {
		return big.NewInt(int64(rapid.IntRange(-1, 1).Draw(g.t, label)))
	}
	switch rapid.IntRange(0, 3).Draw(g.t, "guarantee") {
	case 1:
		sc.mg = g.amount("minimum_guarantee", sc.cur, 100_000, 0)
	case 2, 3:
		sc.mg = bigMax(new(big.Int), new(big.Int).Add(earned, offset("guarantee_offset")))
	}
	if !fits(sc.mg, e) {
		sc.mg = limit
	}
	sc.mgText = decimalText(sc.mg, e)
	if sc.mg.Sign() == 0 && rapid.Bool().Draw(g.t, "guarantee_empty") {
		sc.mgText = ""
	}

	switch rapid.IntRange(0, 3).Draw(g.t, "cap") {
	case 1:
		if g.large {
			sc.cap = limit
		} else {
			sc.cap = new(big.Int).Add(sc.mg, g.amount("cap_headroom", sc.cur, 1_000_000, 0))
		}
	case 2, 3:
		sc.cap = bigMax(sc.mg, new(big.Int).Add(bigMax(earned, sc.mg), offset("cap_offset")))
	}
	if sc.cap != nil && !fits(sc.cap, e) {
		sc.cap = limit
	}
}

// genInput draws a valid input: every transaction currency with money has
// a rate.
func genInput(t *rapid.T) settlement.Input { return genScenario(t).input() }

// coverage counts what the draws reached.
type coverage struct {
	draws                      int
	positiveShare, notPositive int
	onBound, nearBound         int
	exponent                   [4]int
	fx, large, ties, fineFees  int
	topup, capped, carryOut    int
	longest                    int // characters of the longest terms amount in a large draw
}

func (c *coverage) add(sc scenario, o outcome) {
	c.draws++
	e := exponents[sc.cur]
	c.exponent[e]++
	if o.lines[0].Sign() > 0 {
		c.positiveShare++
	}
	minor := ratMinor(big.NewInt(1), e)
	near, on := false, false
	for _, tier := range sc.tiers {
		if tier.upTo == nil {
			continue
		}
		diff := new(big.Rat).Sub(o.nrEff, ratMinor(tier.upTo, e))
		on = on || diff.Sign() == 0
		near = near || diff.Sign() == 0 || new(big.Rat).Abs(diff).Cmp(minor) == 0
	}
	c.onBound += b2i(on)
	c.nearBound += b2i(near)
	c.notPositive += b2i(o.nrEff.Sign() <= 0)
	c.large += b2i(sc.large)
	c.ties += b2i(o.ties > 0)
	c.topup += b2i(o.lines[2].Sign() > 0)
	c.capped += b2i(o.lines[3].Sign() < 0)
	c.carryOut += b2i(o.carryOut.Sign() < 0)
	foreign := false
	for _, tot := range sc.totals {
		foreign = foreign || (tot.cur != sc.cur && tot.count > 0)
	}
	c.fx += b2i(foreign)
	fees := new(big.Rat).Mul(sc.fee, new(big.Rat).SetInt64(o.charges))
	c.fineFees += b2i(!fees.Mul(fees, new(big.Rat).SetInt(pow10(e))).IsInt())
	if sc.large {
		for _, s := range []string{decimalText(sc.mg, e), sc.feeText} {
			c.longest = max(c.longest, len(s))
		}
		for _, tier := range sc.tiers {
			if tier.upTo != nil {
				c.longest = max(c.longest, len(decimalText(tier.upTo, e)))
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (c *coverage) String() string {
	pct := func(n int) string { return strconv.Itoa(n*100/max(c.draws, 1)) + "%" }
	return fmt.Sprintf("%d draws: revenue share > 0 %s; NR_eff on a tier bound %s, on or ±1 minor unit %s; NR_eff <= 0 %s; "+
		"exponent 0/2/3 %s/%s/%s; FX %s; at the API's limits %s (longest terms amount %d chars); exact halves rounded %s; "+
		"fees beyond the minor unit %s; top-up > 0 %s; cap reduction %s; carry_out < 0 %s",
		c.draws, pct(c.positiveShare), pct(c.onBound), pct(c.nearBound), pct(c.notPositive),
		pct(c.exponent[0]), pct(c.exponent[2]), pct(c.exponent[3]), pct(c.fx), pct(c.large), c.longest, pct(c.ties),
		pct(c.fineFees), pct(c.topup), pct(c.capped), pct(c.carryOut))
}
