package tollgate

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/robfig/cron/v3"
	"github.com/shopspring/decimal"
)

// Contract binds one operator to one provider: how their net revenue is
// shared (Terms), when it is settled (Schedule), who must approve a payout
// (Approval) and how the money leaves (Payout). The JSON names are the public
// contract of the API and must never be renamed.
type Contract struct {
	ID          string         `json:"id"`
	OperatorID  string         `json:"operator_id"`
	ProviderID  string         `json:"provider_id"`
	Currency    Currency       `json:"currency"`
	Timezone    string         `json:"timezone"`
	Schedule    Schedule       `json:"schedule"`
	GracePeriod Duration       `json:"grace_period"`
	Terms       Terms          `json:"terms"`
	Approval    ApprovalPolicy `json:"approval"`
	Payout      PayoutConfig   `json:"payout"`

	// Set by the store, not by clients.
	Status    ContractStatus `json:"status,omitempty"`
	Version   int            `json:"version,omitempty"` // version of Terms, starting at 1
	CreatedAt time.Time      `json:"created_at,omitzero"`
}

// ContractStatus says whether a contract still settles. Only one active
// contract may exist per (operator, provider) pair.
type ContractStatus string

const (
	ContractActive   ContractStatus = "active"
	ContractInactive ContractStatus = "inactive"
)

// Schedule holds exactly one of Every or Cron. Cron is read in the contract's
// time zone.
type Schedule struct {
	Every Duration `json:"every,omitzero"`
	Cron  string   `json:"cron,omitempty"`
}

// ApprovalPolicy decides whether a statement pays out on its own or waits for
// people: totals up to AutoApproveLimit go through unless an anomaly is
// flagged; everything else needs ApprovalsRequired distinct approvers.
type ApprovalPolicy struct {
	AutoApproveLimit  string   `json:"auto_approve_limit"` // money; empty means "0"
	ApprovalsRequired int      `json:"approvals_required"`
	ApprovalTimeout   Duration `json:"approval_timeout"` // 0 disables reminders
}

// PayoutConfig names the payout adapter and carries its per-contract options
// (for example an account reference); the adapter validates the options.
type PayoutConfig struct {
	Adapter string            `json:"adapter"`
	Options map[string]string `json:"options,omitempty"`
}

// Terms is one version of a contract's economics, valid from EffectiveFrom.
// Money travels as decimal strings so a stored or replayed copy compares
// equal to the original; Parse turns it into decimals once.
type Terms struct {
	EffectiveFrom    time.Time `json:"effective_from"`
	RevenueShare     []Tier    `json:"revenue_share"`
	FeePerCharge     string    `json:"fee_per_charge"`    // empty means "0"
	MinimumGuarantee string    `json:"minimum_guarantee"` // empty means "0"
	Cap              *string   `json:"cap"`               // nil: no cap
	CarryNegative    bool      `json:"carry_negative"`
}

// Tier is one marginal revenue-share bracket from the previous tier's UpTo
// (or zero) to its own UpTo; the last tier has UpTo nil and is unbounded.
type Tier struct {
	UpTo *string `json:"up_to"`
	Rate string  `json:"rate"`
}

// ParsedTerms is Terms after validation, in decimals, ready for arithmetic.
type ParsedTerms struct {
	EffectiveFrom    time.Time
	Tiers            []ParsedTier
	FeePerCharge     decimal.Decimal
	MinimumGuarantee decimal.Decimal
	Cap              decimal.Decimal
	HasCap           bool
	CarryNegative    bool
}

// ParsedTier covers net revenue in (From, UpTo]; UpTo is meaningless when
// Unbounded. RateText keeps the rate as the contract spelled it.
type ParsedTier struct {
	From      decimal.Decimal
	UpTo      decimal.Decimal
	Unbounded bool
	Rate      decimal.Decimal
	RateText  string
}

const (
	// feeDecimals: a fee per charge is multiplied by a count before it is
	// rounded, so it may be finer than the currency's minor unit.
	feeDecimals = 6
	// rateDecimals bounds rates so that products stay short and readable.
	rateDecimals = 10
	minEvery     = time.Minute
	maxIDLength  = 64
)

// Validate checks a whole contract and reports the first broken rule, naming
// the field.
func (c *Contract) Validate() error {
	for _, f := range []struct{ name, value string }{
		{"id", c.ID}, {"operator_id", c.OperatorID}, {"provider_id", c.ProviderID},
	} {
		if err := validateID(f.name, f.value); err != nil {
			return err
		}
	}
	cur, err := ParseCurrency(string(c.Currency))
	if err != nil {
		return Errorf(CodeInvalid, "currency: %s", err.Error())
	}
	if c.Timezone == "" || c.Timezone == "Local" {
		return Errorf(CodeInvalid, "timezone: %q is not an IANA time zone such as \"Europe/Paris\" or \"UTC\"", c.Timezone)
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		return Errorf(CodeInvalid, "timezone: %q is not an IANA time zone such as \"Europe/Paris\" or \"UTC\"", c.Timezone)
	}
	if err := c.Schedule.Validate(); err != nil {
		return err
	}
	if c.GracePeriod < 0 {
		return Errorf(CodeInvalid, "grace_period: %q must not be negative", c.GracePeriod.String())
	}
	if err := c.Terms.Validate(cur); err != nil {
		return err
	}
	if err := c.Approval.Validate(cur); err != nil {
		return err
	}
	return c.Payout.Validate()
}

// validateID keeps identifiers short and URL-safe because cycle and workflow
// IDs are derived from them.
func validateID(field, id string) error {
	if id == "" {
		return Errorf(CodeInvalid, "%s is required", field)
	}
	if len(id) > maxIDLength {
		return Errorf(CodeInvalid, "%s: %.20q... is longer than %d characters", field, id, maxIDLength)
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return Errorf(CodeInvalid, "%s: %q may only contain letters, digits, '-', '_' and '.'", field, id)
		}
	}
	return nil
}

// Validate checks that exactly one of every and cron is set and well formed.
func (s Schedule) Validate() error {
	switch {
	case s.Every != 0 && s.Cron != "":
		return Errorf(CodeInvalid, "schedule: set either every or cron, not both")
	case s.Every == 0 && s.Cron == "":
		return Errorf(CodeInvalid, "schedule: set exactly one of every (e.g. \"24h\") or cron (e.g. \"0 0 * * *\")")
	case s.Cron != "":
		return validateCron(s.Cron)
	case s.Every < Duration(minEvery):
		return Errorf(CodeInvalid, "schedule.every: %q must be at least %s", s.Every.String(), Duration(minEvery).String())
	}
	return nil
}

// Validate checks the approval policy against the settlement currency.
func (a ApprovalPolicy) Validate(cur Currency) error {
	if _, err := a.Limit(cur); err != nil {
		return err
	}
	if a.ApprovalsRequired < 1 {
		return Errorf(CodeInvalid, "approval.approvals_required: %d must be at least 1", a.ApprovalsRequired)
	}
	if a.ApprovalTimeout < 0 {
		return Errorf(CodeInvalid, "approval.approval_timeout: %q must not be negative", a.ApprovalTimeout.String())
	}
	return nil
}

// Limit is the auto-approval limit as a decimal in the settlement currency.
func (a ApprovalPolicy) Limit(cur Currency) (decimal.Decimal, error) {
	return parseMoneyField("approval.auto_approve_limit", a.AutoApproveLimit, cur, true)
}

// Validate checks that an adapter is named.
func (p PayoutConfig) Validate() error {
	if p.Adapter == "" {
		return Errorf(CodeInvalid, "payout.adapter is required (for example \"simulated\")")
	}
	return nil
}

// Validate checks the terms against the settlement currency.
func (t Terms) Validate(cur Currency) error {
	_, err := t.Parse(cur)
	return err
}

// Parse validates the terms and returns them as decimals. The calculator
// calls it too, so terms that slipped past the API can never be computed on.
func (t Terms) Parse(cur Currency) (ParsedTerms, error) {
	if _, err := ParseCurrency(string(cur)); err != nil {
		return ParsedTerms{}, Errorf(CodeInvalid, "currency: %s", err.Error())
	}
	p := ParsedTerms{EffectiveFrom: t.EffectiveFrom, CarryNegative: t.CarryNegative}
	if t.EffectiveFrom.IsZero() {
		return p, Errorf(CodeInvalid, "terms.effective_from is required (RFC 3339, e.g. \"2026-01-01T00:00:00Z\")")
	}
	if len(t.RevenueShare) == 0 {
		return p, Errorf(CodeInvalid, "terms.revenue_share needs at least one tier, e.g. [{\"up_to\": null, \"rate\": \"0.10\"}]")
	}
	from := decimal.Zero
	for i, tier := range t.RevenueShare {
		field := "terms.revenue_share[" + strconv.Itoa(i) + "]"
		rate, err := ParseDecimal(tier.Rate, rateDecimals)
		if err != nil {
			return p, Errorf(CodeInvalid, "%s.rate: %q must be a decimal fraction between 0 and 1 such as \"0.10\"", field, tier.Rate)
		}
		if rate.IsNegative() || rate.GreaterThan(decimal.NewFromInt(1)) {
			return p, Errorf(CodeInvalid, "%s.rate: %q must be between 0 and 1", field, tier.Rate)
		}
		pt := ParsedTier{From: from, Rate: rate, RateText: tier.Rate}
		last := i == len(t.RevenueShare)-1
		switch {
		case tier.UpTo == nil && !last:
			return p, Errorf(CodeInvalid, "%s.up_to: only the last tier may be unbounded (null)", field)
		case tier.UpTo == nil:
			pt.Unbounded = true
		case last:
			return p, Errorf(CodeInvalid, "%s.up_to: the last tier must be unbounded (null), got %q", field, *tier.UpTo)
		default:
			upTo, err := parseMoneyField(field+".up_to", *tier.UpTo, cur, false)
			if err != nil {
				return p, err
			}
			if !upTo.GreaterThan(from) {
				return p, Errorf(CodeInvalid, "%s.up_to: %q must be greater than the previous bound %s (tiers ascend)", field, *tier.UpTo, FormatAmount(from, cur))
			}
			pt.UpTo = upTo
			from = upTo
		}
		p.Tiers = append(p.Tiers, pt)
	}
	var err error
	if p.FeePerCharge, err = parseDecimalField("terms.fee_per_charge", t.FeePerCharge, feeDecimals); err != nil {
		return p, err
	}
	if p.MinimumGuarantee, err = parseMoneyField("terms.minimum_guarantee", t.MinimumGuarantee, cur, true); err != nil {
		return p, err
	}
	if t.Cap != nil {
		if p.Cap, err = parseMoneyField("terms.cap", *t.Cap, cur, false); err != nil {
			return p, err
		}
		p.HasCap = true
		if p.Cap.LessThan(p.MinimumGuarantee) {
			return p, Errorf(CodeInvalid, "terms.cap: %q is below terms.minimum_guarantee %q; the two contradict each other", *t.Cap, t.MinimumGuarantee)
		}
	}
	return p, nil
}

// parseMoneyField reads a non-negative amount with at most the currency's
// minor units.
func parseMoneyField(field, s string, cur Currency, emptyIsZero bool) (decimal.Decimal, error) {
	return parseDecimalField(field, orZero(s, emptyIsZero), cur.Exponent())
}

func parseDecimalField(field, s string, maxDecimals int32) (decimal.Decimal, error) {
	d, err := ParseDecimal(orZero(s, true), maxDecimals)
	if err != nil {
		example := "12"
		if maxDecimals > 0 {
			example += "." + strings.Repeat("5", int(maxDecimals))
		}
		return d, Errorf(CodeInvalid, "%s: %q must be a plain decimal string with at most %d decimals, such as %q", field, s, maxDecimals, example)
	}
	if d.IsNegative() {
		return d, Errorf(CodeInvalid, "%s: %q must not be negative", field, s)
	}
	return d, nil
}

func orZero(s string, emptyIsZero bool) string {
	if s == "" && emptyIsZero {
		return "0"
	}
	return s
}

// Duration is a time.Duration that travels as a Go duration string ("24h",
// "0s") rather than as nanoseconds, so contracts stay readable.
type Duration time.Duration

// Std returns the standard library duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String drops trailing zero units ("24h" rather than "24h0m0s") so a value
// read from the wire is written back as the client sent it.
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a Go duration string; null leaves the value unchanged.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return Errorf(CodeInvalid, "duration %s must be a string such as \"24h\" or \"0s\"", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return Errorf(CodeInvalid, "duration %q is not a duration such as \"5m\", \"24h\" or \"0s\"", s)
	}
	*d = Duration(v)
	return nil
}

var cronFieldNames = [5]string{"minute", "hour", "day of month", "month", "day of week"}

// validateCron judges a cron expression with robfig/cron's standard parser.
// Temporal's scheduler runs it and parses the same string again by its own
// rules (the schedule spec's cron strings), so Tollgate accepts only what
// both read, and read as the same times: five fields (minute hour day-of-month
// month day-of-week) of *, numbers, lists, ranges, steps and three-letter
// month and day names (JAN, mon), or one of @yearly, @annually, @monthly,
// @weekly, @daily, @midnight and @hourly.
//
// Refused although Temporal would run them:
//   - six or seven fields (Temporal reads a year, or seconds and a year);
//   - 7 for Sunday, and names that are not three letters ("Tu", "January");
//   - "#" comments, and a TZ= or CRON_TZ= prefix: the contract's timezone
//     field sets the zone, and Temporal refuses a cron zone that differs;
//   - @every: fixed intervals are schedule.every;
//   - an open step in day of week ("1/2"): Temporal runs it on to 7, so
//     it fires on Sunday too, where the library stops at Saturday;
//   - day of month and day of week both restricted: Temporal fires on days
//     that match both, classic cron (and the library) on days that match
//     either, so the expression means different days to different readers.
//
// Refused although the library accepts them, because Temporal refuses them:
// "?" for "*", an empty list item ("1,,2") and "*" starting a range ("*-5",
// which the library reads as "*"). internal/devtemporal's tests hold both
// lists against the server's own parser.
func validateCron(expr string) error {
	spec := strings.TrimSpace(expr) // Temporal trims as well
	invalid := func(format string, args ...any) error {
		return Errorf(CodeInvalid, "schedule.cron: %q "+format, append([]any{expr}, args...)...)
	}
	switch {
	case strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ="):
		// Before the library: it panics on a zone with no fields after it.
		return invalid("must not name a time zone: the contract's timezone field sets it")
	case strings.HasPrefix(spec, "@every"):
		return invalid("is an interval: use schedule.every (e.g. \"every\": \"1h\") instead")
	case strings.HasPrefix(spec, "@"):
		if _, err := cron.ParseStandard(spec); err != nil {
			return invalid("is not a cron descriptor: use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly")
		}
		return nil
	}
	fields := strings.Fields(spec)
	if len(fields) != len(cronFieldNames) {
		return invalid("must have 5 fields (minute hour day-of-month month day-of-week), e.g. \"0 0 * * *\", or be a descriptor such as \"@daily\"")
	}
	if _, err := cron.ParseStandard(spec); err != nil {
		return invalid("%s", cronFieldError(fields, err))
	}
	for i, f := range fields {
		if why := cronTemporalRefuses(i, f); why != "" {
			return invalid("%s field %q: %s", cronFieldNames[i], f, why)
		}
	}
	if fields[2] != "*" && fields[4] != "*" {
		return invalid("restricts both day of month and day of week: Temporal runs it only on days that match both, classic cron on days that match either; restrict one and leave the other \"*\"")
	}
	return nil
}

// cronFieldError names the field the library refuses. Its parser reads
// each field on its own, so parsing one field at a time (the others "*")
// gives the same verdict as the whole expression.
func cronFieldError(fields []string, err error) string {
	for i, f := range fields {
		probe := [5]string{"*", "*", "*", "*", "*"}
		probe[i] = f
		if _, ferr := cron.ParseStandard(strings.Join(probe[:], " ")); ferr != nil {
			// The library echoes the input: no control characters in the answer.
			why := strings.Map(func(r rune) rune {
				if unicode.IsControl(r) {
					return utf8.RuneError
				}
				return r
			}, ferr.Error())
			return cronFieldNames[i] + " field " + strconv.Quote(f) + ": " + why
		}
	}
	return err.Error()
}

// cronTemporalRefuses returns why Temporal would refuse or read differently
// one field the library accepted, or "" (see the list above validateCron).
func cronTemporalRefuses(field int, f string) string {
	for _, item := range strings.Split(f, ",") {
		rng, step, hasStep := strings.Cut(item, "/")
		switch {
		case item == "":
			return "has an empty list item"
		case strings.Contains(item, "?"):
			return "\"?\" is not understood by Temporal: use \"*\""
		case strings.HasPrefix(rng, "*") && rng != "*":
			return strconv.Quote(item) + ": \"*\" cannot start a range"
		case field == 4 && hasStep && rng != "*" && !strings.Contains(rng, "-"):
			return strconv.Quote(item) + ": give the step an end, e.g. " + strconv.Quote(rng+"-6/"+step) + ": Temporal runs an open step in day of week on to Sunday"
		}
	}
	return ""
}
