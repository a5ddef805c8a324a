package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
)

func flatTerms(from time.Time, rate string) tollgate.Terms {
	return tollgate.Terms{EffectiveFrom: from, RevenueShare: []tollgate.Tier{{Rate: rate}}}
}

// A close snapshots the terms in force just before its period end
// (docs/architecture.md §2 step 6), chosen among the contract's versions as
// TermsInForce chooses: pending and rejected versions never, the latest
// active one started by then, a later version on a tie, and the earliest
// active one for a period before them all.
func TestCloseSnapshotsTheTermsInForceBeforePeriodEnd(t *testing.T) {
	t.Parallel()
	f := newFixture(t) // version 1: effective 2026-01-01, 10% up to 100,000.00 then 8%
	ctx := t.Context()
	jan, feb, mar, apr := t0.AddDate(0, -2, 0), t0.AddDate(0, -1, 0), t0, t0.AddDate(0, 1, 0)
	add := func(terms tollgate.Terms, status string) int {
		tv, err := f.st.AddTerms(ctx, "c-1", terms, "bob")
		require.NoError(t, err)
		switch status {
		case tollgate.TermsActive:
			_, err = f.st.ApproveTerms(ctx, "c-1", tv.Version, "carol")
			require.NoError(t, err)
		case tollgate.TermsRejected:
			// No operation rejects terms yet; the status exists in the schema.
			tag, err := f.pool.Exec(ctx, `UPDATE contract_terms SET status = 'rejected' WHERE contract_id = 'c-1' AND version = $1`, tv.Version)
			require.NoError(t, err)
			require.EqualValues(t, 1, tag.RowsAffected())
		}
		return tv.Version
	}
	require.Equal(t, 2, add(flatTerms(jan.AddDate(0, -1, 0), "0.02"), tollgate.TermsPending))
	require.Equal(t, 3, add(flatTerms(feb, "0.03"), tollgate.TermsPending))
	require.Equal(t, 4, add(flatTerms(feb, "0.04"), tollgate.TermsRejected))
	require.Equal(t, 5, add(flatTerms(mar, "0.05"), tollgate.TermsActive))
	require.Equal(t, 6, add(flatTerms(mar, "0.06"), tollgate.TermsActive))
	require.Equal(t, 7, add(flatTerms(apr, "0.07"), tollgate.TermsActive))

	// Closes must move forward in time, so the cases run in order on one
	// contract.
	for i, tc := range []struct {
		name      string
		periodEnd time.Time
		wantFrom  time.Time
		wantRate  string
	}{
		{"before every effective_from: the earliest active, not the earlier pending", jan.AddDate(0, 0, -14), jan, "0.10"},
		{"a pending and a rejected version started: neither applies", feb.AddDate(0, 0, 14), jan, "0.10"},
		{"a period ending exactly at an effective_from: the terms before it", mar, jan, "0.10"},
		{"a minute later: the tie on effective_from goes to version 6", mar.Add(time.Minute), mar, "0.06"},
		{"a future-dated version, up to its date: not yet", apr, mar, "0.06"},
		{"a future-dated version, after its date", apr.Add(time.Minute), apr, "0.07"},
	} {
		f.now = tc.periodEnd.Add(time.Hour)
		snap, err := f.st.CloseCycle(ctx, tollgate.CloseRequest{CycleID: fmt.Sprintf("cycle-%d", i), ContractID: "c-1", PeriodEnd: tc.periodEnd})
		require.NoError(t, err, tc.name)
		require.True(t, tc.wantFrom.Equal(snap.Terms.EffectiveFrom), "%s: terms effective from %s, want %s", tc.name, snap.Terms.EffectiveFrom, tc.wantFrom)
		require.Equal(t, tc.wantRate, snap.Terms.RevenueShare[0].Rate, tc.name)
	}
}

// The contract as read at a time names the version in force, with the same
// choice as a close.
func TestContractNamesTheVersionInForce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	tv, err := f.st.AddTerms(ctx, "c-1", flatTerms(f.now.Add(24*time.Hour), "0.05"), "bob")
	require.NoError(t, err)
	_, err = f.st.ApproveTerms(ctx, "c-1", tv.Version, "carol")
	require.NoError(t, err)

	c, err := f.st.GetContract(ctx, "c-1")
	require.NoError(t, err)
	require.Equal(t, 1, c.Version, "version 2 starts tomorrow")
	require.Equal(t, "0.10", c.Terms.RevenueShare[0].Rate)

	f.now = f.now.Add(24 * time.Hour)
	c, err = f.st.GetContract(ctx, "c-1")
	require.NoError(t, err)
	require.Equal(t, 2, c.Version)
	require.Equal(t, "0.05", c.Terms.RevenueShare[0].Rate)
}
