// Command tollgate-dev runs the whole Tollgate stack in one process for
// local development: managed PostgreSQL, embedded Temporal server and Web UI,
// migrations, worker and API. Data lives under .data/ and is reused by the
// next run. Ctrl-C stops every part.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/internal/devstack"
)

// config is everything tollgate-dev reads from its environment.
type config struct {
	DataDir      string
	DatabaseURL  string
	APIAddr      string
	TemporalPort int
	UIPort       int
	PGPort       int
	AdminKey     string
	LogLevel     slog.Level
	Demo         bool
}

func loadConfig() (config, error) {
	c := config{
		DataDir:     envOr("TOLLGATE_DATA_DIR", ".data"),
		DatabaseURL: os.Getenv("DATABASE_URL"),
		APIAddr:     envOr("TOLLGATE_API_ADDR", "127.0.0.1:8080"),
		AdminKey:    os.Getenv("TOLLGATE_ADMIN_KEY"),
		Demo:        os.Getenv("TOLLGATE_DEMO") != "0",
	}
	var err error
	for _, p := range []struct {
		name string
		def  int
		dst  *int
	}{{"TOLLGATE_TEMPORAL_PORT", 7233, &c.TemporalPort}, {"TOLLGATE_UI_PORT", 8233, &c.UIPort}, {"TOLLGATE_PG_PORT", 5499, &c.PGPort}} {
		if *p.dst, err = portEnv(p.name, p.def); err != nil {
			return c, err
		}
	}
	if err := c.LogLevel.UnmarshalText([]byte(envOr("TOLLGATE_LOG_LEVEL", "warn"))); err != nil {
		return c, fmt.Errorf("TOLLGATE_LOG_LEVEL: %w", err)
	}
	return c, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func portEnv(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("%s=%q is not a TCP port (1-65535)", name, v)
	}
	return p, nil
}

// adminKey returns TOLLGATE_ADMIN_KEY, or the key generated on the first run
// and kept in <data>/admin-key.
func adminKey(c config) (string, error) {
	if c.AdminKey != "" {
		return c.AdminKey, nil
	}
	path := filepath.Join(c.DataDir, "admin-key")
	if b, err := os.ReadFile(path); err == nil { //nolint:gosec // G304: the admin key file in the developer's own data dir
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	key, _, _ := api.GenerateKey()
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil { //nolint:gosec // G301: the postgres user must traverse the dev data dir when run as root
		return "", err
	}
	return key, os.WriteFile(path, []byte(key+"\n"), 0o600)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tollgate-dev:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	key, err := adminKey(cfg)
	if err != nil {
		return fmt.Errorf("admin key: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil { //nolint:gosec // G301: the postgres user must traverse the dev data dir when run as root
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, err := devstack.Start(ctx, devstack.Config{
		DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL, PostgresPort: cfg.PGPort,
		APIAddr: cfg.APIAddr, TemporalPort: cfg.TemporalPort, UIPort: cfg.UIPort,
		AdminKey: key, Logger: logger, Progress: os.Stdout, Demo: cfg.Demo,
	})
	if err != nil {
		return err
	}
	pg := "external (DATABASE_URL)"
	if st.PG != nil {
		pg = fmt.Sprintf("127.0.0.1:%d (data %s)", st.PG.Port(), filepath.Join(cfg.DataDir, "postgres"))
	}
	fmt.Printf(`
Tollgate dev stack is up.
  API            %s   (try: curl %s/readyz)
  Temporal       %s   (namespace %s)
  Temporal UI    %s
  PostgreSQL     %s
  Admin API key  %s
Press Ctrl-C to stop.
`, st.APIURL, st.APIURL, st.Temporal.HostPort(), st.Temporal.Namespace(), st.Temporal.UIURL(), pg, key)

	<-ctx.Done()
	fmt.Println("\ntollgate-dev: stopping ...")
	st.Stop()
	fmt.Println("tollgate-dev: stopped")
	return nil
}
