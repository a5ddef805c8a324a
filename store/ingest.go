package store

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate/tollgate"
)

// placed is a valid row with the contract and minute slot it settles in.
type placed struct {
	tollgate.ValidTransaction
	contractID string
	slot       time.Time
	late       bool
}

// Ingest validates and stores a batch of transactions exactly once, updating
// the settlement buckets in the same database transaction. Bad rows never
// fail good ones; each rejected row is dead-lettered with its reason.
// onlyProvider restricts the batch to one provider (pushes, ingest keys).
func (s *Store) Ingest(ctx context.Context, raws []json.RawMessage, source, onlyProvider string) (tollgate.IngestResult, error) {
	if len(raws) > tollgate.MaxBatch {
		return tollgate.IngestResult{}, tollgate.Errorf(tollgate.CodeTooLarge, "a batch holds at most %d transactions, got %d", tollgate.MaxBatch, len(raws))
	}
	batch := tollgate.CheckBatch(raws, s.now(), onlyProvider)
	var out tollgate.IngestResult
	err := retryBusy(ctx, func() error {
		out = tollgate.IngestResult{Rejected: append([]tollgate.Rejection{}, batch.Rejected...)}
		return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
			return s.ingestTx(ctx, tx, batch, source, &out)
		})
	})
	if err != nil {
		return tollgate.IngestResult{}, err
	}
	sort.Slice(out.Rejected, func(i, j int) bool { return out.Rejected[i].Index < out.Rejected[j].Index })
	return out, nil
}

func (s *Store) ingestTx(ctx context.Context, tx pgx.Tx, batch tollgate.Batch, source string, out *tollgate.IngestResult) error {
	rows, err := s.assignContracts(ctx, tx, batch.Valid, out)
	if err != nil {
		return err
	}
	if len(rows) > 0 {
		if err := insertAndAggregate(ctx, tx, rows, source, out); err != nil {
			return err
		}
	}
	tollgate.JudgeCopies(batch.Copies, out)
	return writeDeadLetters(ctx, tx, out.Rejected, source)
}

// assignContracts finds the active contract of each row's pair and locks it
// FOR SHARE, so a concurrent close (FOR NO KEY UPDATE) waits for this batch and this
// batch sees the contract's closed_through as of the lock: no row can land
// in a period that has been closed.
func (s *Store) assignContracts(ctx context.Context, tx pgx.Tx, valid []tollgate.ValidTransaction, out *tollgate.IngestResult) ([]placed, error) {
	type pair struct{ op, pv string }
	type ci struct {
		id     string
		closed time.Time
	}
	pairs := map[pair]ci{}
	var ops, pvs []string
	for _, v := range valid {
		p := pair{v.OperatorID, v.ProviderID}
		if _, ok := pairs[p]; !ok {
			pairs[p] = ci{}
			ops, pvs = append(ops, p.op), append(pvs, p.pv)
		}
	}
	if len(ops) > 0 {
		rs, err := tx.Query(ctx, `SELECT c.id, c.operator_id, c.provider_id, c.closed_through
			FROM contracts c JOIN unnest($1::text[], $2::text[]) AS p(op, pv) ON c.operator_id = p.op AND c.provider_id = p.pv
			WHERE c.status = 'active' ORDER BY c.id FOR SHARE OF c`, ops, pvs)
		if err != nil {
			return nil, err
		}
		for rs.Next() {
			var id, op, pv string
			var closed *time.Time
			if err := rs.Scan(&id, &op, &pv, &closed); err != nil {
				rs.Close()
				return nil, err
			}
			c := ci{id: id}
			if closed != nil {
				c.closed = *closed
			}
			pairs[pair{op, pv}] = c
		}
		if err := rs.Err(); err != nil {
			return nil, err
		}
	}
	kept := make([]placed, 0, len(valid))
	for _, v := range valid {
		c := pairs[pair{v.OperatorID, v.ProviderID}]
		if c.id == "" {
			out.Rejected = append(out.Rejected, v.Reject(tollgate.ReasonNoContract,
				"no active contract between operator %q and provider %q", v.OperatorID, v.ProviderID))
			continue
		}
		p := placed{ValidTransaction: v, contractID: c.id, slot: v.OccurredAt.Truncate(time.Minute)}
		if v.OccurredAt.Before(c.closed) {
			p.slot, p.late = c.closed, true
		}
		kept = append(kept, p)
	}
	return kept, nil
}

const insertRows = `
WITH ins AS (
	INSERT INTO transactions (provider_id, external_id, operator_id, contract_id, kind, amount, currency,
		occurred_at, metadata, slot, late, content_hash, source)
	SELECT r.*, $13 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::text[],
		$8::timestamptz[], $9::jsonb[], $10::timestamptz[], $11::boolean[], $12::bytea[]) AS r
	ON CONFLICT (provider_id, external_id) DO NOTHING
	RETURNING provider_id, external_id, contract_id, slot, currency, kind, amount, late
), agg AS (
	INSERT INTO bucket_totals AS b (contract_id, slot, currency, tx_count, charges, charge_sum, payout_sum, adjustment_sum, late_count)
	SELECT contract_id, slot, currency, count(*),
		count(*) FILTER (WHERE kind = 'charge'),
		COALESCE(sum(amount) FILTER (WHERE kind = 'charge'), 0),
		COALESCE(sum(amount) FILTER (WHERE kind = 'payout'), 0),
		COALESCE(sum(amount) FILTER (WHERE kind = 'adjustment'), 0),
		count(*) FILTER (WHERE late)
	FROM ins GROUP BY contract_id, slot, currency ORDER BY contract_id, slot, currency
	ON CONFLICT (contract_id, slot, currency) DO UPDATE SET
		tx_count = b.tx_count + EXCLUDED.tx_count,
		charges = b.charges + EXCLUDED.charges,
		charge_sum = b.charge_sum + EXCLUDED.charge_sum,
		payout_sum = b.payout_sum + EXCLUDED.payout_sum,
		adjustment_sum = b.adjustment_sum + EXCLUDED.adjustment_sum,
		late_count = b.late_count + EXCLUDED.late_count
)
SELECT provider_id, external_id FROM ins`

// insertAndAggregate is step 4 of docs/architecture.md §2, in one statement: the
// batch goes in as column arrays, INSERT ... ON CONFLICT DO NOTHING keeps
// only new keys, and the inserted rows are folded into the bucket aggregates
// by one upsert. Content conflicts are then looked up only among the rows
// that were not inserted. Rows are sorted by key first so concurrent batches
// take row locks in the same order and cannot deadlock.
func insertAndAggregate(ctx context.Context, tx pgx.Tx, rows []placed, source string, out *tollgate.IngestResult) error {
	slices.SortFunc(rows, func(a, b placed) int {
		if c := strings.Compare(a.ProviderID, b.ProviderID); c != 0 {
			return c
		}
		return strings.Compare(a.ExternalID, b.ExternalID)
	})
	n := len(rows)
	pv, ext, op, ct, kind, amt, cur := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	occ, slot := make([]time.Time, n), make([]time.Time, n)
	meta := make([][]byte, n)
	late := make([]bool, n)
	hash := make([][]byte, n)
	for i, r := range rows {
		pv[i], ext[i], op[i], ct[i], kind[i], amt[i], cur[i] = r.ProviderID, r.ExternalID, r.OperatorID, r.contractID, r.Kind, r.AmountText, r.Currency
		occ[i], slot[i], meta[i], late[i], hash[i] = r.OccurredAt, r.slot, r.Metadata, r.late, r.Hash
	}
	res, err := tx.Query(ctx, insertRows, pv, ext, op, ct, kind, amt, cur, occ, meta, slot, late, hash, source)
	if err != nil {
		return err
	}
	inserted := make(map[[2]string]bool, n)
	for res.Next() {
		var k [2]string
		if err := res.Scan(&k[0], &k[1]); err != nil {
			res.Close()
			return err
		}
		inserted[k] = true
	}
	if err := res.Err(); err != nil {
		return err
	}
	out.Accepted = len(inserted)
	if out.Accepted == n {
		return nil
	}
	var rpv, rext []string
	byKey := make(map[[2]string]*placed, n-out.Accepted)
	for i := range rows {
		k := [2]string{rows[i].ProviderID, rows[i].ExternalID}
		if !inserted[k] {
			rpv, rext = append(rpv, k[0]), append(rext, k[1])
			byKey[k] = &rows[i]
		}
	}
	rs, err := tx.Query(ctx, `SELECT t.provider_id, t.external_id, t.content_hash FROM transactions t
		JOIN unnest($1::text[], $2::text[]) AS k(p, e) ON t.provider_id = k.p AND t.external_id = k.e`, rpv, rext)
	if err != nil {
		return err
	}
	for rs.Next() {
		var k [2]string
		var h []byte
		if err := rs.Scan(&k[0], &k[1], &h); err != nil {
			rs.Close()
			return err
		}
		v := byKey[k]
		if bytes.Equal(h, v.Hash) {
			out.Duplicates++
			continue
		}
		out.Rejected = append(out.Rejected, v.Reject(tollgate.ReasonConflict,
			"external_id %q of provider %q was already received with different content; send a new external_id or an adjustment", v.ExternalID, v.ProviderID))
	}
	return rs.Err()
}

// writeDeadLetters keeps every rejected row of the batch, with its reason.
func writeDeadLetters(ctx context.Context, tx pgx.Tx, dead []tollgate.Rejection, source string) error {
	if len(dead) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"dead_letters"},
		[]string{"provider_id", "external_id", "source", "reason", "error", "payload"},
		pgx.CopyFromSlice(len(dead), func(i int) ([]any, error) {
			d := dead[i]
			return []any{storableText(d.ProviderID), storableText(d.ExternalID), source, d.Reason, storableText(d.Error), storablePayload(d.Raw)}, nil
		}))
	return err
}

// storablePayload keeps a rejected row as JSON when PostgreSQL's jsonb can
// hold it, so it can be replayed as it came. Rows jsonb refuses (a lone
// surrogate, invalid UTF-8, a NUL) are normalised through Go's decoder
// (pairs become UTF-8, lone surrogates and bad bytes U+FFFD), and only when
// that still cannot be stored (a NUL, or no JSON at all) kept as a JSON
// string of the raw text: a row is never lost.
func storablePayload(raw json.RawMessage) []byte {
	if json.Valid(raw) && utf8.Valid(raw) && !tollgate.ContainsNULEscape(raw) && !tollgate.HasLoneSurrogate(raw) {
		return raw
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) == nil && !dec.More() {
		if b, err := json.Marshal(v); err == nil && !tollgate.ContainsNULEscape(b) {
			return b
		}
	}
	b, _ := json.Marshal(strings.ReplaceAll(string(raw), "\x00", ""))
	return b
}

// storableText makes text PostgreSQL can store: valid UTF-8 without NUL.
func storableText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// retryBusy retries a whole idempotent database transaction on deadlock or
// serialisation failure (a few batches racing on the same bucket rows).
func retryBusy(ctx context.Context, f func() error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = f()
		if err == nil {
			return nil
		}
		if e := dbErr(err); tollgate.ErrorCode(e) != tollgate.CodeUnavailable || ctx.Err() != nil {
			return e
		}
		time.Sleep(time.Duration(attempt+1) * 20 * time.Millisecond)
	}
	return dbErr(err)
}
