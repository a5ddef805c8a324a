// Package tollgate holds the domain types and error codes of Tollgate, a
// real-time settlement back office. It imports nothing from the project;
// every adapter (store, ledger, API, workflows) depends on it.
//
// Where to look first:
//   - workflows/  the settlement cycle as a Temporal workflow
//   - settlement/ the statement arithmetic (pure, no I/O)
//   - ledger/     the double-entry ledger on PostgreSQL
package tollgate
