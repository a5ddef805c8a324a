// Command tollgate is the production binary. It never links the Temporal
// server: it talks to an external Temporal frontend and PostgreSQL.
//
//	tollgate migrate   apply database migrations
//	tollgate api       serve the HTTP API
//	tollgate worker    run the Temporal worker
//	tollgate ledger verify   check the ledger's hash chain and trial balance
//	tollgate audit verify    check the audit trail's hash chain
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/ledger"
	"github.com/tollgate/tollgate/migrations"
	"github.com/tollgate/tollgate/payouts"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/worker"
)

const usage = `usage: tollgate <command> [flags]

commands:
  migrate   apply pending database migrations and exit
  api       serve the HTTP API
  worker    run the Temporal worker (workflows and activities)
  ledger verify
            recompute the ledger's hash chain, account balances and trial
            balance on one snapshot and print a summary; needs only
            DATABASE_URL. Exit status 0: intact, 3: a break was found
            (the first one is named) or accounts hold minor units written
            before their currency's exponent changed (each is named; see
            the README changelog, issue 11), 1: the check could not run.
  audit verify
            recompute the audit trail's hash chain and name the first
            tampered row; needs only DATABASE_URL. Exit status as for
            ledger verify.

configuration (environment, overridable by flags):
  DATABASE_URL          PostgreSQL connection string (required)
  TEMPORAL_ADDRESS      Temporal frontend host:port (default 127.0.0.1:7233)
  TEMPORAL_NAMESPACE    Temporal namespace (default "default")
  TOLLGATE_API_ADDR     API listen address (default :8080)
  TOLLGATE_ADMIN_KEY    bootstrap admin API key to register at API start (optional)
  TOLLGATE_LOG_LEVEL    debug|info|warn|error (default info)
  TOLLGATE_OIDC_ISSUER, TOLLGATE_OIDC_AUDIENCE, TOLLGATE_OIDC_JWKS_URL
                        accept OIDC bearer tokens besides API keys (off when unset)
  TOLLGATE_OIDC_ROLES   claim value to role map, e.g. "fin-ops=operator,fin-leads=approver"
  TOLLGATE_OIDC_ROLE_CLAIM, TOLLGATE_OIDC_NAME_CLAIM
                        claims holding the roles (default "roles") and the identity (default "sub")
  TOLLGATE_RATE_PER_SECOND, TOLLGATE_RATE_BURST
                        per-credential request budget (default 200/s, burst 400; -1 disables)
  TOLLGATE_CORS_ORIGINS comma-separated browser origins allowed to call the API (default none)
  TOLLGATE_PAYOUT_HTTP_URL, TOLLGATE_PAYOUT_HTTP_STATUS_URL, TOLLGATE_PAYOUT_HTTP_TOKEN
                        the generic HTTP payout adapter ("http"; off when unset)
`

// config is the production binary's configuration.
type config struct {
	DatabaseURL       string
	TemporalAddress   string
	TemporalNamespace string
	APIAddr           string
	AdminKey          string
	LogLevel          slog.Level
	Security          securityConfig // api only
	PayoutHTTP        payouts.HTTPOptions
}

func loadConfig(cmd string, args []string) (config, error) {
	c := config{
		DatabaseURL:       os.Getenv("DATABASE_URL"),
		TemporalAddress:   envOr("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		TemporalNamespace: envOr("TEMPORAL_NAMESPACE", "default"),
		APIAddr:           envOr("TOLLGATE_API_ADDR", ":8080"),
		AdminKey:          os.Getenv("TOLLGATE_ADMIN_KEY"),
		PayoutHTTP: payouts.HTTPOptions{
			InitiateURL: os.Getenv("TOLLGATE_PAYOUT_HTTP_URL"),
			StatusURL:   os.Getenv("TOLLGATE_PAYOUT_HTTP_STATUS_URL"),
			Token:       os.Getenv("TOLLGATE_PAYOUT_HTTP_TOKEN"),
		},
	}
	level := envOr("TOLLGATE_LOG_LEVEL", "info")
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "PostgreSQL connection string")
	fs.StringVar(&c.TemporalAddress, "temporal-address", c.TemporalAddress, "Temporal frontend host:port")
	fs.StringVar(&c.TemporalNamespace, "temporal-namespace", c.TemporalNamespace, "Temporal namespace")
	fs.StringVar(&c.APIAddr, "addr", c.APIAddr, "API listen address")
	fs.StringVar(&level, "log-level", level, "log level")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.DatabaseURL == "" {
		return c, errors.New("DATABASE_URL (or -database-url) is required")
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return c, fmt.Errorf("log level: %w", err)
	}
	if cmd == "api" {
		var err error
		if c.Security, err = loadSecurityConfig(); err != nil {
			return c, err
		}
	}
	return c, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args, err := splitCommand(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "tollgate: %v\n\n%s", err, usage)
		os.Exit(2)
	}
	if cmd == "-h" || cmd == "--help" || cmd == "help" {
		fmt.Print(usage)
		return
	}
	cfg, err := loadConfig(cmd, args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tollgate:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "migrate":
		err = migrations.Up(ctx, cfg.DatabaseURL, os.Stdout)
	case "api":
		err = runAPI(ctx, cfg, logger)
	case "worker":
		err = runWorker(ctx, cfg, logger)
	case "audit verify":
		var intact bool
		intact, err = runAuditVerify(ctx, cfg, os.Stdout)
		if err == nil && !intact {
			os.Exit(exitAuditBroken)
		}
	case "ledger verify":
		var intact bool
		intact, err = runLedgerVerify(ctx, cfg, os.Stdout, os.Stderr)
		if err == nil && !intact {
			os.Exit(exitLedgerBroken)
		}
	default:
		fmt.Fprintf(os.Stderr, "tollgate: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		logger.Error("exit", "command", cmd, "error", err)
		os.Exit(1)
	}
}

func connect(ctx context.Context, cfg config, logger *slog.Logger) (*pgxpool.Pool, client.Client, error) {
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, fmt.Errorf("PostgreSQL: %w", err)
	}
	c, err := client.DialContext(ctx, client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
		Logger: sdklog.NewStructuredLogger(logger)})
	if err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("Temporal %s: %w", cfg.TemporalAddress, err) //nolint:staticcheck // ST1005: Temporal is a proper noun
	}
	return pool, c, nil
}

func runAPI(ctx context.Context, cfg config, logger *slog.Logger) error {
	pool, tc, err := connect(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer pool.Close()
	defer tc.Close()
	if cfg.AdminKey != "" {
		if err := api.EnsureBootstrapKey(ctx, pool, cfg.AdminKey); err != nil {
			return err
		}
	}
	sec := cfg.Security
	srv := api.New(api.Deps{Pool: pool, Store: store.New(pool, nil), Ledger: ledger.New(pool), Temporal: tc, Logger: logger,
		OIDC: sec.OIDC, RateLimit: sec.RateLimit, CORSOrigins: sec.CORSOrigins}).HTTPServer(cfg.APIAddr)
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("API listening", "addr", cfg.APIAddr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func runWorker(ctx context.Context, cfg config, logger *slog.Logger) error {
	pool, tc, err := connect(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer pool.Close()
	defer tc.Close()
	w := worker.New(tc, worker.NewActivities(pool, worker.PayoutConfig{HTTP: cfg.PayoutHTTP}))
	logger.Info("worker starting", "temporal", cfg.TemporalAddress, "namespace", cfg.TemporalNamespace)
	stopCh := make(chan any)
	go func() { <-ctx.Done(); close(stopCh) }()
	return w.Run(stopCh)
}

// splitCommand returns the command and its flags. "ledger" takes a
// subcommand, so its command is two words.
func splitCommand(args []string) (string, []string, error) {
	if len(args) == 0 {
		return "", nil, errors.New("no command given")
	}
	if args[0] != "ledger" && args[0] != "audit" {
		return args[0], args[1:], nil
	}
	if len(args) < 2 || args[1] != "verify" {
		return "", nil, fmt.Errorf("%q needs a subcommand: %s verify", args[0], args[0])
	}
	return args[0] + " verify", args[2:], nil
}

// exitLedgerBroken is the exit status of "ledger verify" when it finds a
// break, so scripts can tell a broken ledger from a check that could not run.
const exitLedgerBroken = 3

// verifyProgressEvery is how often a long verify reports that it is alive.
const verifyProgressEvery = 10 * time.Second

// runLedgerVerify runs ledger.Verify against DATABASE_URL alone and prints
// the summary to out and progress to progress. It reports whether the ledger
// is intact; an error means the check could not run.
func runLedgerVerify(ctx context.Context, cfg config, out, progress io.Writer) (bool, error) {
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return false, fmt.Errorf("PostgreSQL: %w", err)
	}
	defer pool.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = pool.Ping(pctx)
	cancel()
	if err != nil {
		return false, fmt.Errorf("PostgreSQL: %w", err)
	}

	// The head's sequence number is the chain length; Verify walks it in one
	// read-only snapshot and reports no progress of its own, so report time.
	var links int64
	if err := pool.QueryRow(ctx, `SELECT seq FROM ledger_chain_head`).Scan(&links); err != nil {
		return false, fmt.Errorf("reading the ledger chain head (has `tollgate migrate` run?): %w", err)
	}
	fmt.Fprintf(progress, "verifying %d chained entries...\n", links)
	start := time.Now()
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(verifyProgressEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				fmt.Fprintf(progress, "still verifying after %s...\n", time.Since(start).Round(time.Second))
			}
		}
	}()
	r, err := ledger.New(pool).Verify(ctx)
	close(done)
	<-stopped
	if err != nil {
		return false, err
	}
	printVerifyReport(out, r, time.Since(start))
	return r.OK && len(r.Stale) == 0, nil
}

// printVerifyReport writes the human summary of a verify run.
func printVerifyReport(w io.Writer, r ledger.VerifyReport, took time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	switch {
	case r.OK && len(r.Stale) > 0:
		fmt.Fprintln(tw, "ledger verify: OK, but ACTION NEEDED on accounts written with an old currency exponent")
	case r.OK:
		fmt.Fprintln(tw, "ledger verify: OK")
	default:
		fmt.Fprintln(tw, "ledger verify: BREAK FOUND")
	}
	if b := r.Break; b != nil {
		var where []string
		if b.EntryID != 0 {
			where = append(where, fmt.Sprintf("entry %d", b.EntryID))
		}
		if b.Seq != 0 {
			where = append(where, fmt.Sprintf("chain seq %d", b.Seq))
		}
		if b.AccountID != 0 {
			where = append(where, fmt.Sprintf("account %d", b.AccountID))
		}
		if b.Currency != "" {
			where = append(where, string(b.Currency))
		}
		fmt.Fprintf(tw, "first break:\t%s at %s\n", b.Kind, strings.Join(where, ", "))
		fmt.Fprintf(tw, "\t%s\n", b.Detail)
	}
	entries := "entries checked:"
	if r.Break != nil && r.Head == "" {
		entries = "entries checked before the break:"
	}
	fmt.Fprintf(tw, "%s\t%d\n", entries, r.Entries)
	fmt.Fprintf(tw, "accounts checked:\t%d\n", r.Accounts)
	if r.Head != "" {
		fmt.Fprintf(tw, "head hash:\t%s\n", r.Head)
	}
	curs := make([]tollgate.Currency, 0, len(r.TrialBalance))
	for c := range r.TrialBalance {
		curs = append(curs, c)
	}
	slices.Sort(curs)
	if len(curs) == 0 {
		fmt.Fprintln(tw, "trial balance:\tno accounts")
	}
	for i, c := range curs {
		label := ""
		if i == 0 {
			label = "trial balance:"
		}
		n := r.TrialBalance[c]
		amount := strconv.FormatInt(n, 10) + " minor units"
		if _, err := tollgate.ParseCurrency(string(c)); err == nil {
			amount = tollgate.FormatAmount(tollgate.FromMinorUnits(n, c), c)
		}
		verdict := "balanced"
		if n != 0 {
			verdict = "NOT ZERO"
		}
		fmt.Fprintf(tw, "%s\t%s %s\t%s\n", label, c, amount, verdict)
	}
	for i, a := range r.Stale {
		label := ""
		if i == 0 {
			label = "ACTION NEEDED:"
		}
		fmt.Fprintf(tw, "%s\taccount %d (%s %s %s), balance %d minor units as stored\n", label, a.AccountID, a.PartyID, a.Purpose, a.Currency, a.Balance)
		fmt.Fprintf(tw, "\t%s\n", a.Detail)
	}
	fmt.Fprintf(tw, "checked at:\t%s (took %s)\n", r.CheckedAt.UTC().Format(time.RFC3339), took.Round(time.Millisecond))
	_ = tw.Flush()
}
