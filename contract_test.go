package tollgate

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// issueContract is the example contract of the public API documentation.
const issueContract = `{"id":"c-1","operator_id":"op-1","provider_id":"pv-1","currency":"EUR","timezone":"UTC",
 "schedule":{"every":"24h"},
 "grace_period":"0s",
 "terms":{"effective_from":"2026-01-01T00:00:00Z",
          "revenue_share":[{"up_to":"100000.00","rate":"0.10"},{"up_to":null,"rate":"0.08"}],
          "fee_per_charge":"0.01","minimum_guarantee":"500.00","cap":null,"carry_negative":true},
 "approval":{"auto_approve_limit":"1000.00","approvals_required":2,"approval_timeout":"48h"},
 "payout":{"adapter":"simulated"}}`

func validContract(t *testing.T) Contract {
	t.Helper()
	var c Contract
	require.NoError(t, json.Unmarshal([]byte(issueContract), &c))
	return c
}

func ptr(s string) *string { return &s }

func TestContractJSONMatchesPublicShape(t *testing.T) {
	t.Parallel()
	c := validContract(t)
	require.NoError(t, c.Validate())
	require.Equal(t, "c-1", c.ID)
	require.Equal(t, Currency("EUR"), c.Currency)
	require.Equal(t, 24*time.Hour, c.Schedule.Every.Std())
	require.Equal(t, 48*time.Hour, c.Approval.ApprovalTimeout.Std())
	require.Equal(t, 2, c.Approval.ApprovalsRequired)
	require.Nil(t, c.Terms.Cap)
	require.Nil(t, c.Terms.RevenueShare[1].UpTo)

	out, err := json.Marshal(c)
	require.NoError(t, err)
	require.JSONEq(t, issueContract, string(out), "a contract read from the wire is written back unchanged")
}

func TestDurationJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
		out  string
	}{
		{`"24h"`, 24 * time.Hour, `"24h"`},
		{`"0s"`, 0, `"0s"`},
		{`"5m"`, 5 * time.Minute, `"5m"`},
		{`"1h30m"`, 90 * time.Minute, `"1h30m"`},
		{`"90s"`, 90 * time.Second, `"1m30s"`},
		{`"1.5s"`, 1500 * time.Millisecond, `"1.5s"`},
	} {
		var d Duration
		require.NoError(t, json.Unmarshal([]byte(tc.in), &d), tc.in)
		require.Equal(t, tc.want, d.Std(), tc.in)
		out, err := json.Marshal(d)
		require.NoError(t, err)
		require.Equal(t, tc.out, string(out), tc.in)
	}
	for _, bad := range []string{`"1 day"`, `86400`, `""`, `"h"`} {
		var d Duration
		err := json.Unmarshal([]byte(bad), &d)
		require.Error(t, err, bad)
	}
}

func TestContractValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mutate func(c *Contract)
		want   string // substring of the error; empty means valid
	}{
		{"example is valid", func(c *Contract) {}, ""},
		{"id required", func(c *Contract) { c.ID = "" }, "id is required"},
		{"id url-safe", func(c *Contract) { c.ID = "c 1/x" }, "id: \"c 1/x\" may only contain"},
		{"id length", func(c *Contract) { c.ID = string(make([]byte, 65)) }, "longer than 64"},
		{"operator required", func(c *Contract) { c.OperatorID = "" }, "operator_id is required"},
		{"provider required", func(c *Contract) { c.ProviderID = "" }, "provider_id is required"},
		{"unknown currency", func(c *Contract) { c.Currency = "ZZZ" }, "currency: currency \"ZZZ\" is not a known"},
		{"lower-case currency", func(c *Contract) { c.Currency = "eur" }, "currency: currency \"eur\""},
		{"empty timezone", func(c *Contract) { c.Timezone = "" }, "timezone: \"\" is not an IANA"},
		{"Local timezone", func(c *Contract) { c.Timezone = "Local" }, "timezone: \"Local\""},
		{"unknown timezone", func(c *Contract) { c.Timezone = "Mars/Olympus" }, "timezone: \"Mars/Olympus\""},
		{"IANA timezone", func(c *Contract) { c.Timezone = "Europe/Paris" }, ""},
		{"schedule missing", func(c *Contract) { c.Schedule = Schedule{} }, "schedule: set exactly one"},
		{"schedule both", func(c *Contract) { c.Schedule.Cron = "0 0 * * *" }, "not both"},
		{"every too short", func(c *Contract) { c.Schedule.Every = Duration(30 * time.Second) }, "schedule.every: \"30s\" must be at least 1m"},
		{"every negative", func(c *Contract) { c.Schedule.Every = Duration(-time.Hour) }, "schedule.every"},
		{"every 1m", func(c *Contract) { c.Schedule.Every = Duration(time.Minute) }, ""},
		{"cron", func(c *Contract) { c.Schedule = Schedule{Cron: "0 0 * * *"} }, ""},
		{"grace negative", func(c *Contract) { c.GracePeriod = Duration(-time.Second) }, "grace_period: \"-1s\" must not be negative"},
		{"grace positive", func(c *Contract) { c.GracePeriod = Duration(2 * time.Hour) }, ""},
		{"approvals zero", func(c *Contract) { c.Approval.ApprovalsRequired = 0 }, "approval.approvals_required: 0 must be at least 1"},
		{"approval timeout negative", func(c *Contract) { c.Approval.ApprovalTimeout = Duration(-time.Hour) }, "approval.approval_timeout"},
		{"approval timeout zero", func(c *Contract) { c.Approval.ApprovalTimeout = 0 }, ""},
		{"auto limit empty means zero", func(c *Contract) { c.Approval.AutoApproveLimit = "" }, ""},
		{"auto limit too precise", func(c *Contract) { c.Approval.AutoApproveLimit = "1.001" }, "approval.auto_approve_limit: \"1.001\" must be a plain decimal string with at most 2 decimals"},
		{"auto limit negative", func(c *Contract) { c.Approval.AutoApproveLimit = "-1" }, "approval.auto_approve_limit: \"-1\" must not be negative"},
		{"payout adapter", func(c *Contract) { c.Payout.Adapter = "" }, "payout.adapter is required"},
		{"terms checked", func(c *Contract) { c.Terms.RevenueShare = nil }, "terms.revenue_share needs at least one tier"},
		{"terms in JPY minor units", func(c *Contract) {
			c.Currency = "JPY"
			c.Approval.AutoApproveLimit = "1000"
		}, "terms.revenue_share[0].up_to: \"100000.00\" must be a plain decimal string with at most 0 decimals"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := validContract(t)
			tc.mutate(&c)
			err := c.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, CodeInvalid, ErrorCode(err))
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestScheduleCron pins the accepted set: the library's standard parser
// minus what Temporal's scheduler refuses or reads differently (see
// validateCron; internal/devtemporal checks these lists against the server).
func TestScheduleCron(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cron string
		want string // "" when valid, else a part of the message
	}{
		{"0 2 * * *", ""},
		{"*/15 * * * *", ""},
		{"0 0 1 * *", ""},
		{"0 0 * * *", ""},
		{"0,15,30,45 8-18 * * 1-5", ""},
		{"0 0 1 1-12/3 *", ""},
		{"59 23 31 12 *", ""},
		{"0 0 * * 6", ""},
		{"0 0 * * 0", ""},
		{"  0  0 * * *  ", ""},
		{"0\t0 * * *", ""},
		{"5/15 * * * *", ""}, // 5-59/15, in both readers
		{"*/61 * * * *", ""}, // a step beyond the range fires once: minute 0
		{"0 6 * JAN-MAR,dec MON-fri", ""},
		{"0 0 * * */2", ""},   // 0,2,4,6 in both readers
		{"0 0 * * 1-6/2", ""}, // a closed step in day of week
		{"005 +6 * * *", ""},  // both readers take any decimal number in range
		{"@daily", ""},
		{"@midnight", ""},
		{"@hourly", ""},
		{"@weekly", ""},
		{"@monthly", ""},
		{"@yearly", ""},
		{"@annually", ""},
		{" @daily ", ""},

		{"", "set exactly one"},
		{"   ", "must have 5 fields"},
		{"\x00", "must have 5 fields"},
		{"0 0 * * *\x00", "day of week field \"*\\x00\": failed to parse int from *\ufffd:"},
		{"garbage", "must have 5 fields"},
		{"* * *", "must have 5 fields"},
		{"0 0 * *", "must have 5 fields"},
		{"0 0 * * * *", "must have 5 fields"},      // Temporal: a year
		{"0 0 0 * * * 2030", "must have 5 fields"}, // Temporal: seconds and a year
		{"61 * * * *", "minute field \"61\": end of range (61) above maximum (59)"},
		{"60 0 * * *", "minute field \"60\""},
		{"0 24 * * *", "hour field \"24\""},
		{"0 0 0 * *", "day of month field \"0\": beginning of range (0) below minimum (1)"},
		{"0 0 32 * *", "day of month field \"32\""},
		{"0 0 * 13 *", "month field \"13\""},
		{"0 0 * * 7", "day of week field \"7\": end of range (7) above maximum (6)"}, // Temporal: Sunday
		{"0 0 * * 1-7", "day of week field \"1-7\""},
		{"0 0 * * Tu", "day of week field \"Tu\""},       // Temporal: Tuesday
		{"0 0 * January *", "month field \"January\""},   // Temporal: January
		{"0 0 * * MON#2", "day of week field \"MON#2\""}, // Temporal: a comment
		{"0 0 * * * # nightly", "must have 5 fields"},
		{"0 0 * JAN 1 *", "must have 5 fields"},
		{"*/0 * * * *", "minute field \"*/0\": step of range should be a positive number"},
		{"5-1 * * * *", "minute field \"5-1\": beginning of range (5) beyond end of range (1)"},
		{"1-x * * * *", "minute field \"1-x\""},
		{"-5 * * * *", "minute field \"-5\""},
		{"1-2-3 * * * *", "too many hyphens"},
		{"1/2/3 * * * *", "too many slashes"},
		{"L * * * *", "minute field \"L\""},
		{"0 0 ? * 1", "day of month field \"?\": \"?\" is not understood by Temporal"},
		{"0 0 * * ?", "day of week field \"?\""},
		{"1,,2 * * * *", "minute field \"1,,2\": has an empty list item"},
		{",5 * * * *", "has an empty list item"},
		{"5, * * * *", "has an empty list item"},
		{"*-5 * * * *", "minute field \"*-5\": \"*-5\": \"*\" cannot start a range"},
		{"0 0 * * 1/2", "day of week field \"1/2\": \"1/2\": give the step an end, e.g. \"1-6/2\""},
		{"0 0 * * MON/3", "give the step an end"},
		{"0 0 1 * 1", "restricts both day of month and day of week"},
		{"0 0 1-7 * MON", "restricts both day of month and day of week"},
		{"0 0 */2 * 1-5", "restricts both day of month and day of week"},
		{"@every 1h", "is an interval: use schedule.every"},
		{"@every -1s", "is an interval"},
		{"@daily # nightly", "is not a cron descriptor"},
		{"@DAILY", "is not a cron descriptor"},
		{"@reboot", "is not a cron descriptor"},
		{"@", "is not a cron descriptor"},
		{"CRON_TZ=Europe/Paris 0 0 * * *", "must not name a time zone"},
		{"TZ=UTC 0 0 * * *", "must not name a time zone"},
		{"CRON_TZ=UTC", "must not name a time zone"}, // the library panics on this one
		{"CRON_TZ=Mars/Olympus * * * * *", "must not name a time zone"},
	} {
		err := Schedule{Cron: tc.cron}.Validate()
		if tc.want == "" {
			require.NoError(t, err, "%q", tc.cron)
			continue
		}
		require.Error(t, err, "%q", tc.cron)
		require.Equal(t, CodeInvalid, ErrorCode(err), "%q", tc.cron)
		if tc.cron != "" {
			require.Contains(t, err.Error(), "schedule.cron: "+strconv.Quote(tc.cron), "the message names the field and the expression")
		}
		require.Contains(t, err.Error(), tc.want, "%q", tc.cron)
	}
}

func validTerms() Terms {
	return Terms{
		EffectiveFrom:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		RevenueShare:     []Tier{{UpTo: ptr("100000.00"), Rate: "0.10"}, {UpTo: ptr("500000.00"), Rate: "0.08"}, {Rate: "0.05"}},
		FeePerCharge:     "0.01",
		MinimumGuarantee: "500.00",
		Cap:              ptr("100000.00"),
		CarryNegative:    true,
	}
}

func TestTermsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		cur    Currency
		mutate func(t *Terms)
		want   string
	}{
		{"valid", "EUR", func(t *Terms) {}, ""},
		{"single unbounded tier", "EUR", func(t *Terms) { t.RevenueShare = []Tier{{Rate: "0.1"}} }, ""},
		{"invalid settlement currency", "XXXX", func(t *Terms) {}, "currency:"},
		{"effective_from required", "EUR", func(t *Terms) { t.EffectiveFrom = time.Time{} }, "terms.effective_from is required"},
		{"no tiers", "EUR", func(t *Terms) { t.RevenueShare = nil }, "terms.revenue_share needs at least one tier"},
		{"rate above 1", "EUR", func(t *Terms) { t.RevenueShare[1].Rate = "1.5" }, `terms.revenue_share[1].rate: "1.5" must be between 0 and 1`},
		{"rate negative", "EUR", func(t *Terms) { t.RevenueShare[0].Rate = "-0.1" }, `terms.revenue_share[0].rate: "-0.1" must be between 0 and 1`},
		{"rate 0 and 1 allowed", "EUR", func(t *Terms) { t.RevenueShare[0].Rate = "0"; t.RevenueShare[2].Rate = "1" }, ""},
		{"rate not a number", "EUR", func(t *Terms) { t.RevenueShare[2].Rate = "10%" }, `terms.revenue_share[2].rate: "10%" must be a decimal fraction`},
		{"rate empty", "EUR", func(t *Terms) { t.RevenueShare[2].Rate = "" }, `terms.revenue_share[2].rate: ""`},
		{"last tier bounded", "EUR", func(t *Terms) { t.RevenueShare[2].UpTo = ptr("900000.00") }, "terms.revenue_share[2].up_to: the last tier must be unbounded"},
		{"middle tier unbounded", "EUR", func(t *Terms) { t.RevenueShare[1].UpTo = nil }, "terms.revenue_share[1].up_to: only the last tier may be unbounded"},
		{"tiers descend", "EUR", func(t *Terms) { t.RevenueShare[1].UpTo = ptr("50000.00") }, `terms.revenue_share[1].up_to: "50000.00" must be greater than the previous bound 100000.00`},
		{"tiers equal", "EUR", func(t *Terms) { t.RevenueShare[1].UpTo = ptr("100000") }, "must be greater than the previous bound"},
		{"first bound zero", "EUR", func(t *Terms) { t.RevenueShare[0].UpTo = ptr("0") }, "terms.revenue_share[0].up_to: \"0\" must be greater than the previous bound 0.00"},
		{"bound negative", "EUR", func(t *Terms) { t.RevenueShare[0].UpTo = ptr("-1") }, "must not be negative"},
		{"bound too precise EUR", "EUR", func(t *Terms) { t.RevenueShare[0].UpTo = ptr("100.001") }, "terms.revenue_share[0].up_to: \"100.001\" must be a plain decimal string with at most 2 decimals"},
		{"bound three decimals KWD", "KWD", func(t *Terms) {
			t.RevenueShare[0].UpTo = ptr("100.001")
			t.MinimumGuarantee = "1.000"
		}, ""},
		{"bound empty", "EUR", func(t *Terms) { t.RevenueShare[0].UpTo = ptr("") }, "terms.revenue_share[0].up_to: \"\""},
		{"bound exponent", "EUR", func(t *Terms) { t.RevenueShare[0].UpTo = ptr("1e5") }, "terms.revenue_share[0].up_to: \"1e5\""},
		{"fee six decimals", "EUR", func(t *Terms) { t.FeePerCharge = "0.000001" }, ""},
		{"fee seven decimals", "EUR", func(t *Terms) { t.FeePerCharge = "0.0000001" }, `terms.fee_per_charge: "0.0000001" must be a plain decimal string with at most 6 decimals`},
		{"fee negative", "EUR", func(t *Terms) { t.FeePerCharge = "-0.01" }, `terms.fee_per_charge: "-0.01" must not be negative`},
		{"fee empty is zero", "EUR", func(t *Terms) { t.FeePerCharge = "" }, ""},
		{"fee decimals in JPY", "JPY", func(t *Terms) {
			t.RevenueShare = []Tier{{Rate: "0.1"}}
			t.FeePerCharge = "0.5"
			t.MinimumGuarantee = "500"
			t.Cap = nil
		}, ""},
		{"minimum guarantee too precise JPY", "JPY", func(t *Terms) {
			t.RevenueShare = []Tier{{Rate: "0.1"}}
			t.MinimumGuarantee = "500.5"
			t.Cap = nil
		}, `terms.minimum_guarantee: "500.5" must be a plain decimal string with at most 0 decimals`},
		{"minimum guarantee negative", "EUR", func(t *Terms) { t.MinimumGuarantee = "-1.00" }, "terms.minimum_guarantee: \"-1.00\" must not be negative"},
		{"minimum guarantee empty is zero", "EUR", func(t *Terms) { t.MinimumGuarantee = "" }, ""},
		{"cap too precise", "EUR", func(t *Terms) { t.Cap = ptr("10.001") }, "terms.cap: \"10.001\""},
		{"cap negative", "EUR", func(t *Terms) { t.Cap = ptr("-10") }, "terms.cap: \"-10\" must not be negative"},
		{"cap empty string", "EUR", func(t *Terms) { t.Cap = ptr("") }, "terms.cap: \"\""},
		{"cap below minimum guarantee", "EUR", func(t *Terms) { t.Cap = ptr("499.99") }, `terms.cap: "499.99" is below terms.minimum_guarantee "500.00"`},
		{"cap equal to minimum guarantee", "EUR", func(t *Terms) { t.Cap = ptr("500") }, ""},
		{"no cap", "EUR", func(t *Terms) { t.Cap = nil }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			terms := validTerms()
			tc.mutate(&terms)
			err := terms.Validate(tc.cur)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, CodeInvalid, ErrorCode(err))
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestTermsParse(t *testing.T) {
	t.Parallel()
	p, err := validTerms().Parse("EUR")
	require.NoError(t, err)
	d := decimal.RequireFromString
	require.Len(t, p.Tiers, 3)
	require.True(t, p.Tiers[0].From.IsZero())
	require.True(t, p.Tiers[0].UpTo.Equal(d("100000")))
	require.True(t, p.Tiers[1].From.Equal(d("100000")))
	require.True(t, p.Tiers[1].UpTo.Equal(d("500000")))
	require.True(t, p.Tiers[2].From.Equal(d("500000")))
	require.True(t, p.Tiers[2].Unbounded)
	require.False(t, p.Tiers[1].Unbounded)
	require.True(t, p.Tiers[1].Rate.Equal(d("0.08")))
	require.Equal(t, "0.08", p.Tiers[1].RateText)
	require.True(t, p.FeePerCharge.Equal(d("0.01")))
	require.True(t, p.MinimumGuarantee.Equal(d("500")))
	require.True(t, p.HasCap)
	require.True(t, p.Cap.Equal(d("100000")))
	require.True(t, p.CarryNegative)

	terms := validTerms()
	terms.Cap = nil
	terms.FeePerCharge = ""
	p, err = terms.Parse("EUR")
	require.NoError(t, err)
	require.False(t, p.HasCap)
	require.True(t, p.FeePerCharge.IsZero())
}

func TestApprovalLimit(t *testing.T) {
	t.Parallel()
	limit, err := ApprovalPolicy{AutoApproveLimit: "1000.50"}.Limit("EUR")
	require.NoError(t, err)
	require.True(t, limit.Equal(decimal.RequireFromString("1000.5")))
	_, err = ApprovalPolicy{AutoApproveLimit: "1000.5"}.Limit("JPY")
	require.ErrorContains(t, err, "approval.auto_approve_limit")
}
