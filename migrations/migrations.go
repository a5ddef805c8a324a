// Package migrations holds Tollgate's numbered SQL migrations, embedded in
// the binary and applied with goose. Files are never edited once landed; a
// change is a new numbered file.
package migrations

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"sort"

	"github.com/pressly/goose/v3"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for goose
)

//go:embed *.sql
var files embed.FS

// FS is the embedded migration set.
func FS() fs.FS { return files }

// Up applies every pending migration to the database at url and reports each
// one applied on progress.
func Up(ctx context.Context, url string, progress io.Writer) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	return UpDB(ctx, db, progress)
}

// UpDB is Up on an open database handle.
func UpDB(ctx context.Context, db *sql.DB, progress io.Writer) error {
	p, err := goose.NewProvider(goose.DialectPostgres, db, files)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	results, err := p.Up(ctx)
	for _, r := range results {
		if progress != nil {
			fmt.Fprintf(progress, "migrate: applied %s (%s)\n", r.Source.Path, r.Duration.Round(1e6))
		}
	}
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// Hash identifies the migration set; test templates are keyed by it.
func Hash() (string, error) {
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
