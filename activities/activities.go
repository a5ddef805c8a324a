// Package activities holds Tollgate's Temporal activities: thin wrappers
// that take one request struct, make one call into the store, ledger or an
// adapter, and map errors (see errors.go).
package activities

import (
	"github.com/jackc/pgx/v5/pgxpool"
)

// Activities carries the dependencies built once by the worker.
type Activities struct {
	Pool *pgxpool.Pool
}
