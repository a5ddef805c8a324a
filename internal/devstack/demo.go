package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store"
)

// demoContracts are the dev stack's sample contracts: one that settles
// itself (small totals, auto-approved), one that needs two approvers, and one
// in yen with a cap, settled on a cron schedule in Tokyo time.
var demoContracts = []string{
	`{"id":"demo-arcade-studio","operator_id":"demo-arcade","provider_id":"demo-studio","currency":"EUR","timezone":"Europe/Berlin",
	  "schedule":{"every":"1h"},"grace_period":"1m",
	  "terms":{"effective_from":"2026-01-01T00:00:00Z","revenue_share":[{"up_to":"1000.00","rate":"0.05"},{"up_to":null,"rate":"0.03"}],
	           "fee_per_charge":"0.002","minimum_guarantee":"0","cap":null,"carry_negative":true},
	  "approval":{"auto_approve_limit":"10000.00","approvals_required":1,"approval_timeout":"24h"},
	  "payout":{"adapter":"simulated"}}`,
	`{"id":"demo-arcade-music","operator_id":"demo-arcade","provider_id":"demo-music","currency":"EUR","timezone":"UTC",
	  "schedule":{"every":"24h"},"grace_period":"5m",
	  "terms":{"effective_from":"2026-01-01T00:00:00Z","revenue_share":[{"up_to":"100000.00","rate":"0.10"},{"up_to":null,"rate":"0.08"}],
	           "fee_per_charge":"0.01","minimum_guarantee":"500.00","cap":null,"carry_negative":true},
	  "approval":{"auto_approve_limit":"100.00","approvals_required":2,"approval_timeout":"48h"},
	  "payout":{"adapter":"simulated"}}`,
	`{"id":"demo-kiosk-studio","operator_id":"demo-kiosk","provider_id":"demo-studio","currency":"JPY","timezone":"Asia/Tokyo",
	  "schedule":{"cron":"0 6 * * *"},"grace_period":"0s",
	  "terms":{"effective_from":"2026-01-01T00:00:00Z","revenue_share":[{"up_to":null,"rate":"0.15"}],
	           "fee_per_charge":"1","minimum_guarantee":"0","cap":"5000000","carry_negative":false},
	  "approval":{"auto_approve_limit":"100000","approvals_required":1,"approval_timeout":"24h"},
	  "payout":{"adapter":"simulated"}}`,
}

// SeedDemo fills an empty database with sample parties, contracts, FX rates
// and a day of transactions, so a new developer sees positions and can run
// cycles at once. It does nothing when the demo parties already exist.
func SeedDemo(ctx context.Context, st *store.Store, now time.Time, progress io.Writer) error {
	if _, err := st.GetParty(ctx, "demo-arcade"); err == nil {
		return nil
	}
	for _, p := range []tollgate.Party{
		{ID: "demo-arcade", Kind: "operator", Name: "Demo Arcade (operator)", Currency: "EUR"},
		{ID: "demo-kiosk", Kind: "operator", Name: "Demo Kiosk Japan (operator)", Currency: "JPY"},
		{ID: "demo-studio", Kind: "provider", Name: "Demo Game Studio (provider)", Currency: "EUR"},
		{ID: "demo-music", Kind: "provider", Name: "Demo Music Label (provider)", Currency: "EUR"},
	} {
		if _, err := st.CreateParty(ctx, p); err != nil {
			return fmt.Errorf("demo party %s: %w", p.ID, err)
		}
	}
	for _, raw := range demoContracts {
		var c tollgate.Contract
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			return err
		}
		if _, err := st.CreateContract(ctx, c, "demo"); err != nil {
			return fmt.Errorf("demo contract %s: %w", c.ID, err)
		}
	}
	asOf := now.Add(-48 * time.Hour).Truncate(time.Hour)
	for _, r := range []tollgate.FXRate{
		{Base: "USD", Quote: "EUR", Rate: "0.92", AsOf: asOf, Source: "demo"},
		{Base: "GBP", Quote: "EUR", Rate: "1.17", AsOf: asOf, Source: "demo"},
		{Base: "USD", Quote: "JPY", Rate: "151.3", AsOf: asOf, Source: "demo"},
	} {
		if _, err := st.AddRate(ctx, r); err != nil {
			return err
		}
	}
	// A day of traffic, deterministic so every developer sees the same.
	rnd := rand.New(rand.NewPCG(2026, 11)) //nolint:gosec // G404: seeded on purpose, the demo data is the same for everyone
	type pair struct{ op, pv, cur string }
	pairs := []pair{{"demo-arcade", "demo-studio", "EUR"}, {"demo-arcade", "demo-music", "EUR"}, {"demo-kiosk", "demo-studio", "JPY"}}
	var rows []json.RawMessage
	start := now.Add(-24 * time.Hour).Truncate(time.Minute)
	for i := 0; i < 3000; i++ {
		p := pairs[i%len(pairs)]
		cur := p.cur
		if p.cur == "EUR" && rnd.IntN(5) == 0 {
			cur = []string{"USD", "GBP"}[rnd.IntN(2)]
		}
		kind := []string{"charge", "charge", "charge", "charge", "payout", "adjustment"}[rnd.IntN(6)]
		units := rnd.Int64N(5000) + 50
		if kind == "adjustment" && rnd.IntN(2) == 0 {
			units = -units
		}
		c := tollgate.Currency(cur)
		amount := tollgate.FormatAmount(tollgate.FromMinorUnits(units, c), c)
		b, _ := json.Marshal(map[string]string{"provider_id": p.pv, "operator_id": p.op, "external_id": fmt.Sprintf("demo-%05d", i),
			"kind": kind, "amount": amount, "currency": cur,
			"occurred_at": start.Add(time.Duration(i) * 24 * time.Hour / 3000).Format(time.RFC3339)})
		rows = append(rows, b)
	}
	res, err := st.Ingest(ctx, rows, "demo", "")
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "tollgate-dev: demo data: 4 parties, %d contracts, %d transactions (%d rejected)\n",
		len(demoContracts), res.Accepted, len(res.Rejected))
	return nil
}

// seedDemo seeds the demo data. The contracts' schedules are left to the
// developer (PUT /v1/contracts/{id}/schedule) so cycles only run when asked.
func seedDemo(ctx context.Context, st *Stack, progress io.Writer) error {
	return SeedDemo(ctx, store.New(st.Pool, nil), time.Now(), progress)
}
