// Package testdb gives each test an isolated, fully migrated PostgreSQL
// database cloned from a template (pgtestdb), so tests run in parallel
// against a real server.
//
// The server is TEST_DATABASE_URL when set (make test starts one private
// cluster per run and sets it); otherwise this package starts a private
// cluster once per test binary and stops it when the binary exits.
package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/peterldowns/pgtestdb"

	"github.com/tollgate/tollgate/internal/pgserver"
	"github.com/tollgate/tollgate/migrations"
)

var (
	once    sync.Once
	baseCfg pgtestdb.Config
	onceErr error
	server  *pgserver.Server
	tmpDir  string
)

// Main wraps testing.M.Run so a private cluster started for this binary is
// stopped afterwards. Use it from TestMain: os.Exit(testdb.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if server != nil {
		_ = server.Stop()
		_ = os.RemoveAll(tmpDir)
	}
	return code
}

func setup() {
	raw := os.Getenv("TEST_DATABASE_URL")
	if raw == "" {
		tmpDir, onceErr = os.MkdirTemp("", "tollgate-testpg-")
		if onceErr != nil {
			return
		}
		server, onceErr = pgserver.Start(context.Background(), pgserver.Options{
			DataDir: filepath.Join(tmpDir, "data"), Fast: true,
		})
		if onceErr != nil {
			return
		}
		raw = server.URL("postgres")
	}
	u, err := url.Parse(raw)
	if err != nil {
		onceErr = fmt.Errorf("TEST_DATABASE_URL: %w", err)
		return
	}
	pw, _ := u.User.Password()
	db := u.Path
	if len(db) > 0 && db[0] == '/' {
		db = db[1:]
	}
	if db == "" {
		db = "postgres"
	}
	baseCfg = pgtestdb.Config{
		DriverName:                "pgx",
		Host:                      u.Hostname(),
		Port:                      u.Port(),
		User:                      u.User.Username(),
		Password:                  pw,
		Database:                  db,
		Options:                   "sslmode=disable",
		ForceTerminateConnections: true,
	}
}

type migrator struct{}

func (migrator) Hash() (string, error) { return migrations.Hash() }

func (migrator) Migrate(ctx context.Context, db *sql.DB, _ pgtestdb.Config) error {
	return migrations.UpDB(ctx, db, nil)
}

// URL returns the connection string of a fresh migrated database that is
// dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(setup)
	if onceErr != nil {
		t.Fatalf("testdb: no PostgreSQL for tests: %v", onceErr)
	}
	return pgtestdb.Custom(t, baseCfg, migrator{}).URL()
}

// Pool returns a pgx pool on a fresh migrated database, closed when the
// test ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}
