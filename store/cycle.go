package store

import (
	"context"
	"encoding/json"
	"errors"

	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/tollgate/tollgate"
)

// CloseCycle claims every unclaimed, unsettled slot of the contract before
// the period end for the cycle, advances the contract's closed_through, and
// takes the contract's carry. It locks the contract row FOR NO KEY UPDATE
// (not FOR UPDATE, which would also block the key-share locks that foreign
// keys from the cycle read model take, and deadlock with it), which
// waits for in-flight ingest batches of the contract (they hold FOR SHARE)
// and makes later batches see the new closed_through, so no row is lost
// between periods. Idempotent: a retry returns the stored snapshot.
func (s *Store) CloseCycle(ctx context.Context, req tollgate.CloseRequest) (tollgate.CycleSnapshot, error) {
	if !req.PeriodEnd.Equal(req.PeriodEnd.Truncate(time.Minute)) {
		return tollgate.CycleSnapshot{}, tollgate.Errorf(tollgate.CodeInvalid, "period_end %s must be on a whole minute", req.PeriodEnd.Format(time.RFC3339Nano))
	}
	var snap tollgate.CycleSnapshot
	err := retryBusy(ctx, func() error {
		return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
			stored := func() (bool, error) {
				var raw []byte
				err := tx.QueryRow(ctx, `SELECT snapshot FROM cycles WHERE id = $1 AND snapshot IS NOT NULL`, req.CycleID).Scan(&raw)
				if errors.Is(err, pgx.ErrNoRows) {
					return false, nil
				} else if err != nil {
					return false, err
				}
				return true, json.Unmarshal(raw, &snap)
			}
			if done, err := stored(); done || err != nil {
				return err
			}
			closed, status, err := lockContractRow(ctx, tx, req.ContractID)
			if err != nil {
				return err
			}
			// Under the contract lock: an overlapping attempt may have
			// closed this cycle meanwhile (return its snapshot, never
			// overwrite it, even if later cycles closed since), or the cycle
			// may have been released while this attempt waited (claim
			// nothing for an ended cycle).
			if done, err := stored(); done || err != nil {
				return err
			}
			c, err := s.closableContract(ctx, tx, req.ContractID, req.PeriodEnd, closed, status)
			if err != nil {
				return err
			}
			var released bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM released_cycles WHERE id = $1)`, req.CycleID).Scan(&released); err != nil {
				return err
			}
			if released {
				return tollgate.Errorf(tollgate.CodeConflict, "cycle %s was released (rejected or cancelled); it claims no transactions", req.CycleID)
			}
			rows, err := tx.Query(ctx, `WITH claimed AS (
					UPDATE bucket_totals SET cycle_id = $2
					WHERE contract_id = $1 AND cycle_id IS NULL AND NOT settled AND slot < $3
					RETURNING currency, tx_count, charges, charge_sum, payout_sum, adjustment_sum, late_count)
				SELECT `+totalsCols+`, sum(late_count)::bigint FROM claimed GROUP BY currency ORDER BY currency`,
				req.ContractID, req.CycleID, req.PeriodEnd)
			if err != nil {
				return err
			}
			snap = tollgate.CycleSnapshot{CycleID: req.CycleID, ContractID: c.ID, OperatorID: c.OperatorID,
				ProviderID: c.ProviderID, Currency: c.Currency, Terms: c.Terms, Approval: c.Approval, Payout: c.Payout,
				CarryIn: c.Carry, PeriodEnd: req.PeriodEnd.UTC(), ClosedAt: s.now().UTC(), Totals: []tollgate.Totals{}}
			for rows.Next() {
				var late int64
				t, err := scanTotalsRow(rows, "contract "+req.ContractID+" buckets", &late)
				if err != nil {
					rows.Close()
					return err
				}
				snap.Totals = append(snap.Totals, t)
				snap.Transactions += t.Count
				snap.Late += late
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE contracts SET closed_through = greatest(closed_through, $2), carry = 0 WHERE id = $1`,
				req.ContractID, req.PeriodEnd); err != nil {
				return err
			}
			raw, _ := json.Marshal(snap)
			tag, err := tx.Exec(ctx, `INSERT INTO cycles (id, contract_id, period_end, status, snapshot, carry_in, carry_state)
				VALUES ($1, $2, $3, 'collecting', $4, $5, 'held')
				ON CONFLICT (id) DO UPDATE SET snapshot = EXCLUDED.snapshot, carry_in = EXCLUDED.carry_in, carry_state = 'held'
				WHERE cycles.snapshot IS NULL`,
				req.CycleID, req.ContractID, req.PeriodEnd, raw, c.Carry)
			if err == nil && tag.RowsAffected() != 1 {
				return tollgate.Errorf(tollgate.CodeConflict, "cycle %s was closed concurrently", req.CycleID)
			}
			return err
		})
	})
	return snap, dbErr(err)
}

// lockContractRow takes the contract lock a close (and a release) takes.
func lockContractRow(ctx context.Context, tx pgx.Tx, id string) (closed *time.Time, status string, err error) {
	err = tx.QueryRow(ctx, `SELECT closed_through, status FROM contracts WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&closed, &status)
	if err != nil {
		return nil, "", notFound(err, "contract %q not found", id)
	}
	return closed, status, nil
}

// closableContract checks a locked contract can close a period ending at
// periodEnd and reads it with the terms effective then.
func (s *Store) closableContract(ctx context.Context, tx pgx.Tx, id string, periodEnd time.Time, closed *time.Time, status string) (tollgate.ContractView, error) {
	if status != "active" {
		return tollgate.ContractView{}, tollgate.Errorf(tollgate.CodeConflict, "contract %q is %s", id, status)
	}
	if closed != nil && periodEnd.Before(*closed) {
		return tollgate.ContractView{}, tollgate.Errorf(tollgate.CodeConflict,
			"contract %q is already closed through %s; a new cycle must end later", id, closed.Format(time.RFC3339))
	}
	return s.contractAt(ctx, tx, id, periodEnd.Add(-time.Nanosecond))
}

// ReleaseCycle hands a cycle's slots back (they are settled by the next
// cycle) and returns the carry it took. Idempotent.
func (s *Store) ReleaseCycle(ctx context.Context, cycleID, contractID string) error {
	return dbErr(retryBusy(ctx, func() error {
		return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
			// Take the contract lock a close takes, then leave the
			// tombstone: a close of this cycle either committed before (and
			// its claim is released below) or runs after and claims nothing.
			if contractID != "" {
				if _, _, err := lockContractRow(ctx, tx, contractID); err != nil && tollgate.ErrorCode(err) != tollgate.CodeNotFound {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO released_cycles (id) VALUES ($1) ON CONFLICT DO NOTHING`, cycleID); err != nil {
				return err
			}
			var contractID, state, carryIn string
			err := tx.QueryRow(ctx, `SELECT contract_id, carry_state, carry_in::text FROM cycles WHERE id = $1 FOR UPDATE`, cycleID).
				Scan(&contractID, &state, &carryIn)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil // never closed: nothing to release
			} else if err != nil {
				return err
			}
			if state == "settled" {
				return tollgate.Errorf(tollgate.CodeConflict, "cycle %q is settled and cannot be released", cycleID)
			}
			if _, err := tx.Exec(ctx, `UPDATE bucket_totals SET cycle_id = NULL WHERE cycle_id = $1 AND NOT settled`, cycleID); err != nil {
				return err
			}
			if state == "held" {
				if _, err := tx.Exec(ctx, `UPDATE contracts SET carry = carry + $2::numeric WHERE id = $1`, contractID, carryIn); err != nil {
					return err
				}
				_, err = tx.Exec(ctx, `UPDATE cycles SET carry_state = 'returned' WHERE id = $1`, cycleID)
			}
			return err
		})
	}))
}

// CompleteCycle marks the cycle's transactions settled and records its
// carry_out for the next cycle. Idempotent.
func (s *Store) CompleteCycle(ctx context.Context, cycleID string, carryOut string) error {
	co, err := decimal.NewFromString(carryOut)
	if err != nil || co.IsPositive() {
		return tollgate.Errorf(tollgate.CodeInvalid, "carry_out %q must be a decimal <= 0", carryOut)
	}
	return dbErr(retryBusy(ctx, func() error {
		return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
			var contractID, state string
			err := tx.QueryRow(ctx, `SELECT contract_id, carry_state FROM cycles WHERE id = $1 FOR UPDATE`, cycleID).Scan(&contractID, &state)
			if err != nil {
				return notFound(err, "cycle %q not found", cycleID)
			}
			if state == "settled" {
				return nil
			}
			if _, err := tx.Exec(ctx, `UPDATE bucket_totals SET settled = true WHERE cycle_id = $1`, cycleID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE contracts SET carry = carry + $2::numeric WHERE id = $1`, contractID, co.String()); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE cycles SET carry_state = 'settled' WHERE id = $1`, cycleID)
			return err
		})
	}))
}

// RecordCycle upserts the cycle read model.
func (s *Store) RecordCycle(ctx context.Context, rec tollgate.CycleRecord) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return tollgate.Wrap(tollgate.CodeInvalid, err, "cycle record")
	}
	var total *int64
	if rec.Statement != nil {
		if m, err := rec.Statement.TotalMinorUnits(); err == nil {
			total = &m
		}
	}
	_, err = s.db.Exec(ctx, `INSERT INTO cycles (id, contract_id, period_end, status, initiated_by, record, total_minor, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,now())
		ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, initiated_by = EXCLUDED.initiated_by,
			record = EXCLUDED.record, total_minor = COALESCE(EXCLUDED.total_minor, cycles.total_minor), updated_at = now()`,
		rec.CycleID, rec.ContractID, rec.PeriodEnd, rec.Status, rec.InitiatedBy, raw, total)
	return dbErr(err)
}

// RecordCycleStart writes the first read-model row of a cycle the API has
// just started, so the cycle is readable from the request that started it
// (before the workflow's first task records it). It never replaces a row:
// the workflow may already have recorded a newer status, and RecordCycle
// overwrites this one when the workflow records its own.
func (s *Store) RecordCycleStart(ctx context.Context, rec tollgate.CycleRecord) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return tollgate.Wrap(tollgate.CodeInvalid, err, "cycle record")
	}
	_, err = s.db.Exec(ctx, `INSERT INTO cycles (id, contract_id, period_end, status, initiated_by, record, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,now())
		ON CONFLICT (id) DO NOTHING`,
		rec.CycleID, rec.ContractID, rec.PeriodEnd, rec.Status, rec.InitiatedBy, raw)
	return dbErr(err)
}

// CycleRow is a cycle as the API lists it.
type CycleRow struct {
	ID         string                  `json:"id"`
	ContractID string                  `json:"contract_id"`
	PeriodEnd  time.Time               `json:"period_end"`
	Status     string                  `json:"status"`
	Record     tollgate.CycleRecord    `json:"-"`
	Snapshot   *tollgate.CycleSnapshot `json:"-"`
	UpdatedAt  time.Time               `json:"updated_at"`
}

// GetCycle reads one cycle's read model.
func (s *Store) GetCycle(ctx context.Context, id string) (CycleRow, error) {
	rows, err := s.db.Query(ctx, `SELECT id, contract_id, period_end, status, record, snapshot, updated_at FROM cycles WHERE id = $1`, id)
	if err != nil {
		return CycleRow{}, dbErr(err)
	}
	out, err := collectCycles(rows)
	if err != nil {
		return CycleRow{}, err
	}
	if len(out) == 0 {
		return CycleRow{}, tollgate.Errorf(tollgate.CodeNotFound, "cycle %q not found", id)
	}
	return out[0], nil
}

// ListCycles lists cycles, newest period first, filtered by contract and status.
func (s *Store) ListCycles(ctx context.Context, contractID, status string, page Page) ([]CycleRow, string, error) {
	limit, err := page.limit()
	if err != nil {
		return nil, "", err
	}
	before, err := page.after(tollgate.CursorCycles)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.db.Query(ctx, `SELECT id, contract_id, period_end, status, record, snapshot, updated_at FROM cycles
		WHERE ($1 = '' OR contract_id = $1) AND ($2 = '' OR status = $2) AND ($3 = '' OR id < $3)
		ORDER BY id DESC LIMIT $4`, contractID, status, before, limit+1)
	if err != nil {
		return nil, "", dbErr(err)
	}
	out, err := collectCycles(rows)
	if err != nil {
		return nil, "", err
	}
	out, next := cutPage(out, limit, tollgate.CursorCycles, func(c CycleRow) []string { return []string{c.ID} })
	return out, next, nil
}

func collectCycles(rows pgx.Rows) ([]CycleRow, error) {
	defer rows.Close()
	var out []CycleRow
	for rows.Next() {
		var c CycleRow
		var rec, snap []byte
		if err := rows.Scan(&c.ID, &c.ContractID, &c.PeriodEnd, &c.Status, &rec, &snap, &c.UpdatedAt); err != nil {
			return nil, dbErr(err)
		}
		if err := json.Unmarshal(rec, &c.Record); err != nil {
			return nil, corrupt("cycle "+c.ID+" record", err)
		}
		if snap != nil {
			c.Snapshot = &tollgate.CycleSnapshot{}
			if err := json.Unmarshal(snap, c.Snapshot); err != nil {
				return nil, corrupt("cycle "+c.ID+" snapshot", err)
			}
		}
		out = append(out, c)
	}
	return out, dbErr(rows.Err())
}
