package testdb_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func TestIsolatedMigratedDatabases(t *testing.T) {
	t.Parallel()
	a, b := testdb.Pool(t), testdb.Pool(t)
	_, err := a.Exec(t.Context(), `INSERT INTO pings (id, message, workflow_id) VALUES ('x', 'hi', 'wf')`)
	require.NoError(t, err)
	var n int
	require.NoError(t, b.QueryRow(t.Context(), `SELECT count(*) FROM pings`).Scan(&n))
	require.Zero(t, n, "databases must be isolated")
	require.NoError(t, a.QueryRow(t.Context(), `SELECT count(*) FROM pings`).Scan(&n))
	require.Equal(t, 1, n)
}
