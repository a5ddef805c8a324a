package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate/tollgate"
)

// CreateContract validates and stores a contract; its first terms are active
// at once. One active contract per (operator, provider).
func (s *Store) CreateContract(ctx context.Context, c tollgate.Contract, by string) (tollgate.ContractView, error) {
	if err := c.Validate(); err != nil {
		return tollgate.ContractView{}, err
	}
	if err := c.Payout.CheckAdapter(tollgate.PayoutAdapters); err != nil {
		return tollgate.ContractView{}, err
	}
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		var opKind, pvKind string
		err := tx.QueryRow(ctx, `SELECT COALESCE((SELECT kind FROM parties WHERE id = $1), ''), COALESCE((SELECT kind FROM parties WHERE id = $2), '')`,
			c.OperatorID, c.ProviderID).Scan(&opKind, &pvKind)
		if err != nil && err != pgx.ErrNoRows {
			return dbErr(err)
		}
		if opKind != "operator" {
			return tollgate.Errorf(tollgate.CodeInvalid, "operator_id: %q is not an operator party", c.OperatorID)
		}
		if pvKind != "provider" {
			return tollgate.Errorf(tollgate.CodeInvalid, "provider_id: %q is not a provider party", c.ProviderID)
		}
		sched, _ := json.Marshal(c.Schedule)
		appr, _ := json.Marshal(c.Approval)
		pay, _ := json.Marshal(c.Payout)
		_, err = tx.Exec(ctx, `INSERT INTO contracts (id, operator_id, provider_id, currency, timezone, schedule, grace_period, approval, payout, created_by)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`, c.ID, c.OperatorID, c.ProviderID, string(c.Currency), c.Timezone,
			sched, c.GracePeriod.String(), appr, pay, by)
		if err != nil {
			if e := dbErr(err); tollgate.ErrorCode(e) == tollgate.CodeConflict {
				return tollgate.Errorf(tollgate.CodeConflict, "contract %q already exists, or %s and %s already have an active contract", c.ID, c.OperatorID, c.ProviderID)
			}
			return dbErr(err)
		}
		terms, _ := json.Marshal(c.Terms)
		_, err = tx.Exec(ctx, `INSERT INTO contract_terms (contract_id, version, terms, effective_from, status, created_by, approved_by, approved_at)
			VALUES ($1, 1, $2, $3, 'active', $4, $4, now())`, c.ID, terms, c.Terms.EffectiveFrom, by)
		return dbErr(err)
	})
	if err != nil {
		return tollgate.ContractView{}, err
	}
	return s.GetContract(ctx, c.ID)
}

// GetContract returns the contract with the terms in force now.
func (s *Store) GetContract(ctx context.Context, id string) (tollgate.ContractView, error) {
	return s.contractAt(ctx, s.db, id, s.now())
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// contractAt returns the contract with the terms effective at t: the active
// version with the latest effective_from <= t (or the first version when t is
// before every effective_from).
func (s *Store) contractAt(ctx context.Context, q querier, id string, at time.Time) (tollgate.ContractView, error) {
	var v tollgate.ContractView
	var sched, appr, pay []byte
	var grace, cur, carry string
	var closed *time.Time
	err := q.QueryRow(ctx, `SELECT id, operator_id, provider_id, currency, timezone, schedule, grace_period, approval, payout,
		status, created_at, closed_through, carry::text FROM contracts WHERE id = $1`, id).
		Scan(&v.ID, &v.OperatorID, &v.ProviderID, &cur, &v.Timezone, &sched, &grace, &appr, &pay, &v.Status, &v.CreatedAt, &closed, &carry)
	if err != nil {
		return tollgate.ContractView{}, notFound(err, "contract %q not found", id)
	}
	v.Currency = tollgate.Currency(cur)
	what := "contract " + id
	if err := json.Unmarshal(sched, &v.Schedule); err != nil {
		return tollgate.ContractView{}, corrupt(what+" schedule", err)
	}
	if err := json.Unmarshal(appr, &v.Approval); err != nil {
		return tollgate.ContractView{}, corrupt(what+" approval policy", err)
	}
	if err := json.Unmarshal(pay, &v.Payout); err != nil {
		return tollgate.ContractView{}, corrupt(what+" payout", err)
	}
	d, err := time.ParseDuration(grace)
	if err != nil {
		return tollgate.ContractView{}, corrupt(what+" grace period", err)
	}
	v.GracePeriod = tollgate.Duration(d)
	v.ClosedThrough = closed
	// The carry is kept at the settlement currency's minor unit and is
	// never positive: anything else was not written by a cycle.
	co, err := parseStored(what+" carry", carry)
	if err != nil {
		return tollgate.ContractView{}, err
	}
	if co.IsPositive() || !tollgate.RoundMoney(co, v.Currency).Equal(co) {
		return tollgate.ContractView{}, corrupt(what+" carry", fmt.Errorf("%s is not a balance <= 0 in minor units of %s", carry, v.Currency))
	}
	v.Carry = carry
	rows, err := q.Query(ctx, `SELECT version, status, terms, created_by, COALESCE(approved_by, ''), created_at
		FROM contract_terms WHERE contract_id = $1 ORDER BY version`, id)
	if err != nil {
		return tollgate.ContractView{}, dbErr(err)
	}
	v.Versions, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (tollgate.TermsVersion, error) {
		var t tollgate.TermsVersion
		var raw []byte
		if err := r.Scan(&t.Version, &t.Status, &raw, &t.CreatedBy, &t.ApprovedBy, &t.CreatedAt); err != nil {
			return t, err
		}
		if err := json.Unmarshal(raw, &t.Terms); err != nil {
			return t, corrupt(fmt.Sprintf("%s terms version %d", what, t.Version), err)
		}
		if _, err := t.Terms.Parse(v.Currency); err != nil {
			return t, corrupt(fmt.Sprintf("%s terms version %d", what, t.Version), err)
		}
		return t, nil
	})
	if err != nil {
		return tollgate.ContractView{}, dbErr(err)
	}
	best := tollgate.TermsInForce(v.Versions, at)
	if best != nil {
		v.Terms, v.Version = best.Terms, best.Version
	}
	return v, nil
}

// ListContracts pages through contracts by id.
func (s *Store) ListContracts(ctx context.Context, providerID, operatorID string, page Page) ([]tollgate.ContractView, string, error) {
	limit, err := page.limit()
	if err != nil {
		return nil, "", err
	}
	after, err := page.after(tollgate.CursorContracts)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.db.Query(ctx, `SELECT id FROM contracts WHERE id > $1 AND ($2 = '' OR provider_id = $2)
		AND ($3 = '' OR operator_id = $3) ORDER BY id LIMIT $4`, after, providerID, operatorID, limit+1)
	if err != nil {
		return nil, "", dbErr(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, "", dbErr(err)
	}
	ids, next := cutPage(ids, limit, tollgate.CursorContracts, func(id string) []string { return []string{id} })
	out := make([]tollgate.ContractView, 0, len(ids))
	for _, id := range ids {
		c, err := s.GetContract(ctx, id)
		if err != nil {
			return nil, "", err
		}
		out = append(out, c)
	}
	return out, next, nil
}

// AddTerms stores a new terms version as pending: it takes effect only once
// another user approves it (maker-checker).
func (s *Store) AddTerms(ctx context.Context, contractID string, t tollgate.Terms, by string) (tollgate.TermsVersion, error) {
	c, err := s.GetContract(ctx, contractID)
	if err != nil {
		return tollgate.TermsVersion{}, err
	}
	if err := t.Validate(c.Currency); err != nil {
		return tollgate.TermsVersion{}, err
	}
	raw, _ := json.Marshal(t)
	tv := tollgate.TermsVersion{Status: "pending", Terms: t, CreatedBy: by}
	err = s.db.QueryRow(ctx, `INSERT INTO contract_terms (contract_id, version, terms, effective_from, status, created_by)
		SELECT $1, COALESCE(max(version), 0) + 1, $2, $3, 'pending', $4 FROM contract_terms WHERE contract_id = $1
		RETURNING version, created_at`, contractID, raw, t.EffectiveFrom, by).Scan(&tv.Version, &tv.CreatedAt)
	if err != nil {
		return tollgate.TermsVersion{}, dbErr(err)
	}
	return tv, nil
}

// ApproveTerms activates a pending version. The approver must not be its
// author. Approving an already active version again is a no-op.
func (s *Store) ApproveTerms(ctx context.Context, contractID string, version int, by string) (tollgate.TermsVersion, error) {
	var tv tollgate.TermsVersion
	var raw []byte
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT version, status, terms, created_by, COALESCE(approved_by, ''), created_at
			FROM contract_terms WHERE contract_id = $1 AND version = $2 FOR UPDATE`, contractID, version).
			Scan(&tv.Version, &tv.Status, &raw, &tv.CreatedBy, &tv.ApprovedBy, &tv.CreatedAt)
		if err != nil {
			return notFound(err, "contract %q has no terms version %d", contractID, version)
		}
		switch {
		case tv.Status == "active":
			return nil
		case tv.Status != "pending":
			return tollgate.Errorf(tollgate.CodeConflict, "terms version %d is %s, not pending", version, tv.Status)
		case tv.CreatedBy == by:
			return tollgate.Errorf(tollgate.CodeForbidden, "maker-checker: %q wrote terms version %d and cannot approve it", by, version)
		}
		tv.Status, tv.ApprovedBy = "active", by
		_, err = tx.Exec(ctx, `UPDATE contract_terms SET status = 'active', approved_by = $3, approved_at = now()
			WHERE contract_id = $1 AND version = $2`, contractID, version, by)
		return dbErr(err)
	})
	if err != nil {
		return tollgate.TermsVersion{}, err
	}
	if err := json.Unmarshal(raw, &tv.Terms); err != nil {
		return tollgate.TermsVersion{}, corrupt(fmt.Sprintf("contract %s terms version %d", contractID, version), err)
	}
	return tv, nil
}
