// Package devstack boots the whole of Tollgate in one process: a managed
// PostgreSQL (or an external one), an embedded Temporal server with its Web
// UI, the migrations, the worker and the API. cmd/tollgate-dev runs it with
// fixed ports and data under .data/; the end-to-end tests run it on random
// ports with in-memory Temporal.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/tollgate/tollgate/activities"
	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/internal/devtemporal"
	"github.com/tollgate/tollgate/internal/pgserver"
	"github.com/tollgate/tollgate/ledger"
	"github.com/tollgate/tollgate/migrations"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/worker"
	"github.com/tollgate/tollgate/workflows"
)

// Config is the dev stack's configuration.
type Config struct {
	// DataDir holds the PostgreSQL cluster and the Temporal SQLite file.
	// Empty means ephemeral: Temporal in memory (tests).
	DataDir string
	// DatabaseURL uses an existing PostgreSQL instead of a managed one.
	DatabaseURL string
	// PostgresPort is the managed cluster's port (0 = any free port).
	PostgresPort int
	// Demo seeds sample parties, contracts, FX rates and a day of
	// transactions into an empty database.
	Demo bool
	// FastPostgres turns fsync off on the managed cluster (tests only).
	FastPostgres bool
	APIAddr      string // "127.0.0.1:0" picks a port
	TemporalPort int    // 0 picks a port
	UIPort       int    // 0 disables the Web UI
	AdminKey     string
	// Payouts configures the payout adapters (the simulated bank by default).
	Payouts worker.PayoutConfig
	Logger  *slog.Logger
	// Progress receives one line per start-up step.
	Progress io.Writer
}

// Stack is the running dev stack.
type Stack struct {
	cfg         Config
	PG          *pgserver.Server // nil when DatabaseURL was given
	DatabaseURL string
	Pool        *pgxpool.Pool
	Temporal    *devtemporal.Server
	Client      client.Client
	Worker      sdkworker.Worker
	Activities  *activities.Activities
	API         *api.Server
	APIURL      string
	httpServer  *http.Server
	httpDone    chan error
}

// Start brings every part up in dependency order; on failure it stops what
// it started and returns an error naming the part.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	st := &Stack{cfg: cfg}
	defer func() {
		if err != nil {
			st.Stop()
		}
	}()
	step := func(format string, args ...any) { fmt.Fprintf(cfg.Progress, "tollgate-dev: "+format+"\n", args...) }

	// Check the fixed ports before starting anything, so a taken port fails
	// fast with its name instead of after PostgreSQL has booted.
	ln, err := net.Listen("tcp", cfg.APIAddr)
	if err != nil {
		return nil, fmt.Errorf("API address %s is not available (set TOLLGATE_API_ADDR to use another): %w", cfg.APIAddr, err)
	}
	for name, port := range map[string]int{"TOLLGATE_TEMPORAL_PORT": cfg.TemporalPort, "TOLLGATE_UI_PORT": cfg.UIPort, "TOLLGATE_PG_PORT": cfg.PostgresPort} {
		if port > 0 {
			if perr := pgserver.PortFree(port); perr != nil {
				ln.Close()
				return nil, fmt.Errorf("%w (set %s to use another)", perr, name)
			}
		}
	}

	st.DatabaseURL = cfg.DatabaseURL
	if st.DatabaseURL == "" {
		dir := filepath.Join(cfg.DataDir, "postgres")
		step("starting PostgreSQL (cluster %s) ...", dir)
		st.PG, err = pgserver.Start(ctx, pgserver.Options{DataDir: dir, Port: cfg.PostgresPort, Fast: cfg.FastPostgres})
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("PostgreSQL: %w", err)
		}
		if err = st.PG.EnsureDatabase(ctx, "tollgate"); err != nil {
			ln.Close()
			return nil, fmt.Errorf("PostgreSQL: %w", err)
		}
		st.DatabaseURL = st.PG.URL("tollgate")
	}
	step("applying migrations ...")
	if err = migrations.Up(ctx, st.DatabaseURL, cfg.Progress); err != nil {
		ln.Close()
		return nil, err
	}
	if st.Pool, err = pgxpool.New(ctx, st.DatabaseURL); err != nil {
		ln.Close()
		return nil, fmt.Errorf("PostgreSQL pool: %w", err)
	}

	step("starting Temporal server ...")
	tOpts := devtemporal.Options{FrontendPort: cfg.TemporalPort, UIPort: cfg.UIPort,
		SearchAttributes: workflows.SearchAttributes(), Logger: cfg.Logger}
	if cfg.DataDir != "" {
		tOpts.DatabaseFile = filepath.Join(cfg.DataDir, "temporal.sqlite")
	}
	if st.Temporal, err = devtemporal.Start(ctx, tOpts); err != nil {
		ln.Close()
		return nil, err
	}
	if st.Client, err = client.DialContext(ctx, client.Options{HostPort: st.Temporal.HostPort(),
		Namespace: st.Temporal.Namespace(), Logger: sdklog.NewStructuredLogger(cfg.Logger)}); err != nil {
		ln.Close()
		return nil, fmt.Errorf("temporal client: %w", err)
	}

	step("starting worker ...")
	st.Activities = worker.NewActivities(st.Pool, cfg.Payouts)
	st.Worker = worker.New(st.Client, st.Activities)
	if err = st.Worker.Start(); err != nil {
		ln.Close()
		return nil, fmt.Errorf("worker: %w", err)
	}

	if cfg.AdminKey != "" {
		if err = api.EnsureBootstrapKey(ctx, st.Pool, cfg.AdminKey); err != nil {
			ln.Close()
			return nil, err
		}
	}
	if cfg.Demo {
		if err = seedDemo(ctx, st, cfg.Progress); err != nil {
			ln.Close()
			return nil, fmt.Errorf("demo data: %w", err)
		}
	}
	st.API = api.New(api.Deps{Pool: st.Pool, Store: store.New(st.Pool, nil), Ledger: ledger.New(st.Pool), Temporal: st.Client, Logger: cfg.Logger})
	st.httpServer = st.API.HTTPServer(ln.Addr().String())
	st.APIURL = "http://" + ln.Addr().String()
	st.httpDone = make(chan error, 1)
	go func() { st.httpDone <- st.httpServer.Serve(ln) }()
	return st, nil
}

// Stop stops every part in reverse order. Safe on a partly started stack.
func (st *Stack) Stop() {
	if st.httpServer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = st.httpServer.Shutdown(ctx)
		cancel()
		if err := <-st.httpDone; err != nil && !errors.Is(err, http.ErrServerClosed) {
			st.cfg.Logger.Warn("API server", "error", err)
		}
	}
	if st.Worker != nil {
		st.Worker.Stop()
	}
	if st.Client != nil {
		st.Client.Close()
	}
	if st.Temporal != nil {
		st.Temporal.Stop()
	}
	if st.Pool != nil {
		st.Pool.Close()
	}
	if st.PG != nil {
		_ = st.PG.Stop()
	}
}
