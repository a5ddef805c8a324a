// Command tollgate is the production binary. It never links the Temporal
// server: it talks to an external Temporal frontend and PostgreSQL.
//
//	tollgate migrate   apply database migrations
//	tollgate api       serve the HTTP API
//	tollgate worker    run the Temporal worker
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/tollgate/tollgate/activities"
	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/migrations"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/worker"
)

const usage = `usage: tollgate <command> [flags]

commands:
  migrate   apply pending database migrations and exit
  api       serve the HTTP API
  worker    run the Temporal worker (workflows and activities)

configuration (environment, overridable by flags):
  DATABASE_URL          PostgreSQL connection string (required)
  TEMPORAL_ADDRESS      Temporal frontend host:port (default 127.0.0.1:7233)
  TEMPORAL_NAMESPACE    Temporal namespace (default "default")
  TOLLGATE_API_ADDR     API listen address (default :8080)
  TOLLGATE_ADMIN_KEY    bootstrap admin API key to register at API start (optional)
  TOLLGATE_LOG_LEVEL    debug|info|warn|error (default info)
`

// config is the production binary's configuration.
type config struct {
	DatabaseURL       string
	TemporalAddress   string
	TemporalNamespace string
	APIAddr           string
	AdminKey          string
	LogLevel          slog.Level
}

func loadConfig(cmd string, args []string) (config, error) {
	c := config{
		DatabaseURL:       os.Getenv("DATABASE_URL"),
		TemporalAddress:   envOr("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		TemporalNamespace: envOr("TEMPORAL_NAMESPACE", "default"),
		APIAddr:           envOr("TOLLGATE_API_ADDR", ":8080"),
		AdminKey:          os.Getenv("TOLLGATE_ADMIN_KEY"),
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
	cmd := os.Args[1]
	if cmd == "-h" || cmd == "--help" || cmd == "help" {
		fmt.Print(usage)
		return
	}
	cfg, err := loadConfig(cmd, os.Args[2:])
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
		return nil, nil, fmt.Errorf("Temporal %s: %w", cfg.TemporalAddress, err)
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
	srv := api.New(api.Deps{Pool: pool, Store: store.New(pool, nil), Temporal: tc, Logger: logger}).HTTPServer(cfg.APIAddr)
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
	w := worker.New(tc, &activities.Activities{Pool: pool})
	logger.Info("worker starting", "temporal", cfg.TemporalAddress, "namespace", cfg.TemporalNamespace)
	stopCh := make(chan any)
	go func() { <-ctx.Done(); close(stopCh) }()
	return w.Run(stopCh)
}
