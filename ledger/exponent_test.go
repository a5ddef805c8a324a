package ledger_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate/ledger"
)

// Verify names the accounts holding postings written before their
// currency's exponent changed (issue 11), and accounts in codes the ISO 4217
// table no longer knows; postings written after the change and unchanged
// currencies are not named, and neither breaks the chain.
func TestVerifyReportsStaleExponents(t *testing.T) {
	t.Parallel()
	l, pool, c := newLedger(t)
	ctx := t.Context()
	var effective time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT effective_at FROM currency_exponent_changes WHERE currency = 'IQD'`).Scan(&effective))

	opIQD := acct("op-1", ledger.PurposeOperatorPayable, "IQD")
	provIQD := acct("prov-1", ledger.PurposeProviderReceivable, "IQD")
	newOpIQD := acct("op-2", ledger.PurposeOperatorPayable, "IQD")
	newProvIQD := acct("prov-2", ledger.PurposeProviderReceivable, "IQD")

	c.t = effective.Add(-time.Hour)
	_, err := l.Post(ctx, transfer("old-iqd", opIQD, provIQD, 1500))
	require.NoError(t, err)
	_, err = l.Post(ctx, transfer("old-eur", opEUR, provEUR, 1500))
	require.NoError(t, err)
	c.t = effective.Add(time.Hour)
	_, err = l.Post(ctx, transfer("new-iqd", newOpIQD, newProvIQD, 1_500_000))
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO ledger_accounts (party_id, purpose, currency, created_at, updated_at)
VALUES ('op-3', 'operator_payable', 'HRK', now(), now())`)
	require.NoError(t, err)

	r := requireVerified(t, l)
	var got []string
	for _, s := range r.Stale {
		got = append(got, s.PartyID+" "+string(s.Currency))
	}
	require.Equal(t, []string{"op-1 IQD", "prov-1 IQD", "op-3 HRK"}, got)
	require.Equal(t, int64(1), r.Stale[0].Postings)
	require.Equal(t, int64(-1500), r.Stale[0].Balance)
	require.Contains(t, r.Stale[0].Detail, "IQD exponent 0; it is 3 now")
	require.Contains(t, r.Stale[2].Detail, "HRK is not in the ISO 4217 table")

	// Once an operator has corrected the IQD accounts and acknowledged the
	// change, verify stops naming them.
	_, err = pool.Exec(ctx, `UPDATE currency_exponent_changes SET acknowledged_at = now() WHERE currency = 'IQD'`)
	require.NoError(t, err)
	r = requireVerified(t, l)
	require.Len(t, r.Stale, 1)
	require.Equal(t, "op-3", r.Stale[0].PartyID)
}
