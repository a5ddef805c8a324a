package api_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A change and its audit row commit together: when the audit row cannot be
// written, the change is not made either.
func TestChangeAndAuditRowAreAtomic(t *testing.T) {
	t.Parallel()
	f := newIngestFixture(t)
	_, err := f.pool.Exec(t.Context(), `REVOKE INSERT ON audit_log FROM CURRENT_USER`)
	require.NoError(t, err)

	f.call(t, "POST", "/v1/parties", f.admin, `{"id":"op-2","kind":"operator","name":"Op 2","currency":"EUR"}`, 500, nil)
	f.call(t, "GET", "/v1/parties/op-2", f.admin, "", 404, nil)
	f.call(t, "POST", "/v1/fx-rates", f.admin, `{"base":"USD","quote":"EUR","rate":"0.9","as_of":"2026-03-01T00:00:00Z","source":"x"}`, 500, nil)
	var rates int
	require.NoError(t, f.pool.QueryRow(t.Context(), `SELECT count(*) FROM fx_rates`).Scan(&rates))
	require.Zero(t, rates)

	_, err = f.pool.Exec(t.Context(), `GRANT INSERT ON audit_log TO CURRENT_USER`)
	require.NoError(t, err)
	f.call(t, "POST", "/v1/parties", f.admin, `{"id":"op-2","kind":"operator","name":"Op 2","currency":"EUR"}`, 201, nil)
	var after int
	require.NoError(t, f.pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'party.create' AND object_id = 'op-2' AND at > $1`,
		time.Time{}).Scan(&after))
	require.Equal(t, 1, after)
}
