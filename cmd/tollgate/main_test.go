package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/internal/testdb"
	"github.com/tollgate/tollgate/ledger"
)

// The production binary talks to an external Temporal cluster; linking the
// server would bloat it and blur the dev/prod line.
func TestProductionBinaryDoesNotLinkTemporalServer(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	for _, dep := range strings.Split(string(out), "\n") {
		require.False(t, strings.HasPrefix(dep, "go.temporal.io/server"), "cmd/tollgate imports %s", dep)
	}
}

func TestConfigRequiresDatabaseURL(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	_, err := loadConfig("api", nil)
	require.ErrorContains(t, err, "DATABASE_URL")
	t.Setenv("DATABASE_URL", "postgres://x")
	c, err := loadConfig("api", []string{"-addr", ":9999"})
	require.NoError(t, err)
	require.Equal(t, ":9999", c.APIAddr)
}

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func TestSplitCommand(t *testing.T) {
	t.Parallel()
	cmd, args, err := splitCommand([]string{"ledger", "verify", "-database-url", "postgres://x"})
	require.NoError(t, err)
	require.Equal(t, "ledger verify", cmd)
	require.Equal(t, []string{"-database-url", "postgres://x"}, args)
	cmd, args, err = splitCommand([]string{"api", "-addr", ":1"})
	require.NoError(t, err)
	require.Equal(t, "api", cmd)
	require.Equal(t, []string{"-addr", ":1"}, args)
	for _, bad := range [][]string{{"ledger"}, {"ledger", "-database-url", "x"}, {"ledger", "check"}} {
		_, _, err := splitCommand(bad)
		require.ErrorContains(t, err, "ledger verify", bad)
	}
}

func TestLedgerVerifyCommand(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := testdb.URL(t)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	cfg := config{DatabaseURL: url}

	// An empty ledger is intact.
	var out, progress bytes.Buffer
	ok, err := runLedgerVerify(ctx, cfg, &out, &progress)
	require.NoError(t, err)
	require.True(t, ok, out.String())
	require.Contains(t, out.String(), "ledger verify: OK")
	require.Contains(t, out.String(), "no accounts")

	l := ledger.New(pool)
	acct := func(party string, p ledger.Purpose, cur tollgate.Currency) ledger.AccountKey {
		return ledger.AccountKey{PartyID: party, Purpose: p, Currency: cur}
	}
	var ids []int64
	for i, cur := range []tollgate.Currency{"EUR", "EUR", "JPY", "KWD"} {
		e, err := l.Post(ctx, ledger.EntryInput{IdempotencyKey: fmt.Sprint("e", i), Description: "test",
			Postings: []ledger.PostingInput{
				{Account: acct("op", ledger.PurposeOperatorPayable, cur), Amount: -int64(100 + i)},
				{Account: acct("prov", ledger.PurposeProviderReceivable, cur), Amount: int64(100 + i)},
			}})
		require.NoError(t, err)
		ids = append(ids, e.ID)
	}

	out.Reset()
	progress.Reset()
	ok, err = runLedgerVerify(ctx, cfg, &out, &progress)
	require.NoError(t, err)
	require.True(t, ok, out.String())
	require.Equal(t, "verifying 4 chained entries...\n", progress.String())
	r, err := l.Verify(ctx)
	require.NoError(t, err)
	for _, want := range []string{
		"ledger verify: OK",
		"entries checked: 4",
		"accounts checked: 6",
		"head hash: " + r.Head,
		"trial balance: EUR 0.00 balanced",
		"JPY 0 balanced",
		"KWD 0.000 balanced",
	} {
		require.Contains(t, squeeze(out.String()), want)
	}
	require.NotContains(t, out.String(), "break")

	// Edit a posted description behind the triggers' backs (as the owner).
	victim := ids[1]
	_, err = pool.Exec(ctx, `ALTER TABLE ledger_entries DISABLE TRIGGER USER`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE ledger_entries SET description = 'edited' WHERE id = $1`, victim)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `ALTER TABLE ledger_entries ENABLE TRIGGER USER`)
	require.NoError(t, err)

	out.Reset()
	ok, err = runLedgerVerify(ctx, cfg, &out, &progress)
	require.NoError(t, err)
	require.False(t, ok)
	require.Contains(t, out.String(), "ledger verify: BREAK FOUND")
	require.Contains(t, squeeze(out.String()), fmt.Sprintf("first break: content at entry %d, chain seq 2", victim))
	require.Contains(t, squeeze(out.String()), fmt.Sprintf("entry %d content hashes to", victim))
	require.Contains(t, squeeze(out.String()), "entries checked before the break: 1")
	require.NotContains(t, out.String(), "head hash")
}

// squeeze collapses the summary's column padding to single spaces.
func squeeze(s string) string {
	return regexp.MustCompile(` {2,}`).ReplaceAllString(s, " ")
}

func TestLedgerVerifyCommandCannotRun(t *testing.T) {
	t.Parallel()
	var out, progress bytes.Buffer
	_, err := runLedgerVerify(t.Context(), config{DatabaseURL: "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"}, &out, &progress)
	require.ErrorContains(t, err, "PostgreSQL")
	require.Empty(t, out.String())
}

// Postings in a currency whose exponent changed (issue 11), written before
// the change reached the database, are named and fail the command.
func TestLedgerVerifyCommandNamesStaleAccounts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := testdb.URL(t)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	var effective time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT effective_at FROM currency_exponent_changes WHERE currency = 'IQD'`).Scan(&effective))
	l := ledger.New(pool, ledger.WithClock(func() time.Time { return effective.Add(-time.Hour) }))
	_, err = l.Post(ctx, ledger.EntryInput{IdempotencyKey: "old-iqd", Description: "test",
		Postings: []ledger.PostingInput{
			{Account: ledger.AccountKey{PartyID: "op", Purpose: ledger.PurposeOperatorPayable, Currency: "IQD"}, Amount: -1500},
			{Account: ledger.AccountKey{PartyID: "prov", Purpose: ledger.PurposeProviderReceivable, Currency: "IQD"}, Amount: 1500},
		}})
	require.NoError(t, err)

	var out, progress bytes.Buffer
	ok, err := runLedgerVerify(ctx, config{DatabaseURL: url}, &out, &progress)
	require.NoError(t, err)
	require.False(t, ok, out.String())
	got := squeeze(out.String())
	require.Contains(t, got, "ledger verify: OK, but ACTION NEEDED")
	require.Contains(t, got, "ACTION NEEDED: account")
	require.Contains(t, got, "(op operator_payable IQD), balance -1500 minor units as stored")
	require.Contains(t, got, "used IQD exponent 0; it is 3 now, so they read 10^3 times too small")
}
