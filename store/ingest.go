package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/tollgate/tollgate"
)

// MaxBatch is the most rows one ingest call accepts.
const MaxBatch = 10000

// FutureTolerance is how far in the future occurred_at may be (clock skew).
const FutureTolerance = 5 * time.Minute

// TxRow is one transaction as a provider sends it.
type TxRow struct {
	ProviderID string          `json:"provider_id"`
	OperatorID string          `json:"operator_id"`
	ExternalID string          `json:"external_id"`
	Kind       string          `json:"kind"`
	Amount     json.RawMessage `json:"amount"`
	Currency   string          `json:"currency"`
	OccurredAt string          `json:"occurred_at"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
}

// Rejection is a row that was not accepted, with a reason code a provider
// can branch on and a message a person can act on.
type Rejection struct {
	Index      int    `json:"index"`
	ExternalID string `json:"external_id"`
	Reason     string `json:"reason"`
	Error      string `json:"error"`
}

// IngestResult answers an ingest batch.
type IngestResult struct {
	Accepted   int         `json:"accepted"`
	Duplicates int         `json:"duplicates"`
	Rejected   []Rejection `json:"rejected"`
}

// Rejection reasons (stable: providers branch on them).
const (
	ReasonInvalid    = "invalid"
	ReasonNoContract = "no_active_contract"
	ReasonConflict   = "conflict"
	ReasonWrongParty = "wrong_provider"
)

// validRow is a row that passed validation, ready for staging.
type validRow struct {
	idx        int
	providerID string
	externalID string
	operatorID string
	kind       string
	amount     decimal.Decimal
	amountText string // as sent; validated, so PostgreSQL parses it exactly
	currency   string
	occurredAt time.Time
	metadata   []byte
	hash       []byte
	raw        json.RawMessage
	contractID string
	slot       time.Time
	late       bool
}

type deadLetter struct {
	providerID, externalID, reason, msg string
	payload                             json.RawMessage
}

// validate decodes and checks one raw row. onlyProvider, when set, is the
// provider the caller is allowed to send for.
func validateRow(idx int, raw json.RawMessage, now time.Time, onlyProvider string) (validRow, *Rejection, string) {
	var r TxRow
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		msg := strings.TrimPrefix(err.Error(), "json: ")
		if strings.Contains(msg, "cannot unmarshal") {
			msg = "a field has the wrong JSON type (every field is a string; metadata an object): " + msg
		}
		return validRow{}, &Rejection{Index: idx, ExternalID: r.ExternalID, Reason: ReasonInvalid,
			Error: "row is not a transaction object: " + msg}, r.ProviderID
	}
	return checkRow(idx, r, raw, now, onlyProvider)
}

// decodeAll decodes every row with one decoder over the batch, the common
// case of a well-formed batch; it reports false when any row is malformed,
// and the caller then decodes row by row to reject just those rows.
func decodeAll(raws []json.RawMessage) ([]TxRow, bool) {
	size := 2
	for _, r := range raws {
		size += len(r) + 1
	}
	buf := make([]byte, 0, size)
	buf = append(buf, '[')
	for i, r := range raws {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, r...)
	}
	buf = append(buf, ']')
	dec := json.NewDecoder(bytes.NewReader(buf))
	dec.DisallowUnknownFields()
	rows := make([]TxRow, 0, len(raws))
	if err := dec.Decode(&rows); err != nil || len(rows) != len(raws) {
		return nil, false
	}
	for i := range rows {
		if rows[i].Metadata != nil && string(rows[i].Metadata) == "null" {
			rows[i].Metadata = nil
		}
	}
	return rows, true
}

// checkRow applies the business rules to a decoded row.
func checkRow(idx int, r TxRow, raw json.RawMessage, now time.Time, onlyProvider string) (validRow, *Rejection, string) {
	rej := func(reason, format string, args ...any) (validRow, *Rejection, string) {
		return validRow{}, &Rejection{Index: idx, ExternalID: r.ExternalID, Reason: reason, Error: fmt.Sprintf(format, args...)}, r.ProviderID
	}
	if len(raw) == 0 || raw[0] != '{' {
		return rej(ReasonInvalid, "row is not a transaction object")
	}
	if onlyProvider != "" && r.ProviderID == "" {
		r.ProviderID = onlyProvider
	}
	if onlyProvider != "" && r.ProviderID != onlyProvider {
		return rej(ReasonWrongParty, "provider_id %q: this caller may only send transactions of provider %q", r.ProviderID, onlyProvider)
	}
	if err := tollgate.ValidateID("provider_id", r.ProviderID); err != nil {
		return rej(ReasonInvalid, "%s", err.Error())
	}
	if err := tollgate.ValidateID("operator_id", r.OperatorID); err != nil {
		return rej(ReasonInvalid, "%s", err.Error())
	}
	if r.ExternalID == "" || len(r.ExternalID) > 128 || strings.ContainsRune(r.ExternalID, 0) {
		return rej(ReasonInvalid, "external_id: required, 1 to 128 characters")
	}
	switch r.Kind {
	case tollgate.KindCharge, tollgate.KindPayout, tollgate.KindAdjustment:
	default:
		return rej(ReasonInvalid, "kind: %q must be one of charge, payout, adjustment", r.Kind)
	}
	cur, err := tollgate.ParseCurrency(r.Currency)
	if err != nil {
		return rej(ReasonInvalid, "currency: %s", err.Error())
	}
	var amountText string
	if len(r.Amount) == 0 || r.Amount[0] != '"' || json.Unmarshal(r.Amount, &amountText) != nil {
		return rej(ReasonInvalid, "amount: must be a decimal string such as \"12.34\", got %s", truncate(string(r.Amount), 40))
	}
	amount, err := tollgate.ParseAmount(amountText, cur)
	if err != nil {
		return rej(ReasonInvalid, "amount: %s", err.Error())
	}
	if r.Kind != tollgate.KindAdjustment && !amount.IsPositive() {
		return rej(ReasonInvalid, "amount: %s must be greater than zero for a %s (only adjustments may be zero or negative)", amountText, r.Kind)
	}
	occurred, err := time.Parse(time.RFC3339Nano, r.OccurredAt)
	if err != nil {
		return rej(ReasonInvalid, "occurred_at: %q is not an RFC 3339 time such as 2026-01-31T23:59:59Z", truncate(r.OccurredAt, 40))
	}
	if occurred.After(now.Add(FutureTolerance)) {
		return rej(ReasonInvalid, "occurred_at: %s is more than 5 minutes in the future", r.OccurredAt)
	}
	if occurred.Year() < 2000 {
		return rej(ReasonInvalid, "occurred_at: %s is before the year 2000", r.OccurredAt)
	}
	var meta []byte
	if ContainsNULEscape(r.Metadata) {
		return rej(ReasonInvalid, "metadata: may not contain a NUL character (\\u0000)")
	}
	if len(r.Metadata) > 0 && string(r.Metadata) != "null" {
		// UseNumber keeps numbers exactly as sent, so two metadata that
		// differ only in a long number's last digits hash differently.
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(r.Metadata))
		dec.UseNumber()
		if r.Metadata[0] != '{' || dec.Decode(&m) != nil || dec.More() {
			return rej(ReasonInvalid, "metadata: must be a JSON object")
		}
		if len(r.Metadata) > 4096 {
			return rej(ReasonInvalid, "metadata: at most 4096 bytes")
		}
		meta, _ = json.Marshal(m) // canonical: sorted keys, so equal content hashes equally
	}
	v := validRow{idx: idx, providerID: r.ProviderID, externalID: r.ExternalID, operatorID: r.OperatorID,
		kind: r.Kind, amount: amount, amountText: amountText, currency: string(cur), occurredAt: occurred.UTC(), metadata: meta, raw: raw}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00", v.operatorID, v.kind, v.amount.String(), v.currency,
		v.occurredAt.Format(time.RFC3339Nano), meta)
	v.hash = h.Sum(nil)
	return v, nil, r.ProviderID
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// Ingest validates and stores a batch of transactions exactly once, updating
// the settlement buckets in the same database transaction. Bad rows never
// fail good ones; each rejected row is dead-lettered with its reason.
// onlyProvider restricts the batch to one provider (pushes, ingest keys).
func (s *Store) Ingest(ctx context.Context, raws []json.RawMessage, source, onlyProvider string) (IngestResult, error) {
	if len(raws) > MaxBatch {
		return IngestResult{}, tollgate.Errorf(tollgate.CodeTooLarge, "a batch holds at most %d transactions, got %d", MaxBatch, len(raws))
	}
	now := s.now()
	res := IngestResult{Rejected: []Rejection{}}
	var dead []deadLetter
	reject := func(r *Rejection, providerID string, raw json.RawMessage) {
		res.Rejected = append(res.Rejected, *r)
		dead = append(dead, deadLetter{providerID, r.ExternalID, r.Reason, r.Error, raw})
	}
	valid := make([]validRow, 0, len(raws))
	first := make(map[[2]string]int, len(raws)) // key -> index into valid
	var copies []batchCopy
	typed, fast := decodeAll(raws)
	for i, raw := range raws {
		var v validRow
		var rej *Rejection
		var pid string
		if fast {
			v, rej, pid = checkRow(i, typed[i], raw, now, onlyProvider)
		} else {
			v, rej, pid = validateRow(i, raw, now, onlyProvider)
		}
		if rej != nil {
			reject(rej, pid, raw)
			continue
		}
		k := [2]string{v.providerID, v.externalID}
		if j, seen := first[k]; seen {
			if bytes.Equal(valid[j].hash, v.hash) {
				copies = append(copies, batchCopy{idx: i, firstIdx: valid[j].idx, row: v})
			} else {
				reject(&Rejection{Index: i, ExternalID: v.externalID, Reason: ReasonConflict,
					Error: fmt.Sprintf("external_id %q appears earlier in this batch (index %d) with different content", v.externalID, valid[j].idx)}, v.providerID, raw)
			}
			continue
		}
		first[k] = len(valid)
		valid = append(valid, v)
	}

	var out IngestResult
	err := retryBusy(ctx, func() error {
		out = IngestResult{Duplicates: res.Duplicates, Rejected: append([]Rejection{}, res.Rejected...)}
		d := append([]deadLetter(nil), dead...)
		return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
			return s.ingestTx(ctx, tx, valid, copies, source, &out, &d)
		})
	})
	if err != nil {
		return IngestResult{}, err
	}
	sort.Slice(out.Rejected, func(i, j int) bool { return out.Rejected[i].Index < out.Rejected[j].Index })
	return out, nil
}

func (s *Store) ingestTx(ctx context.Context, tx pgx.Tx, valid []validRow, copies []batchCopy, source string, out *IngestResult, dead *[]deadLetter) error {
	rows, err := s.assignContracts(ctx, tx, valid, out, dead)
	if err != nil {
		return err
	}
	if len(rows) > 0 {
		if err := insertAndAggregate(ctx, tx, rows, source, out, dead); err != nil {
			return err
		}
	}
	judgeCopies(copies, out, dead)
	return writeDeadLetters(ctx, tx, *dead, source)
}

// batchCopy is a row repeated, with the same content, earlier in its batch.
type batchCopy struct {
	idx, firstIdx int
	row           validRow
}

// judgeCopies gives each repeated row its first copy's verdict: a
// duplicate when the first was stored (or already known), the same
// rejection when the first was rejected, so a provider never reads a
// rejected row's copy as stored.
func judgeCopies(copies []batchCopy, out *IngestResult, dead *[]deadLetter) {
	if len(copies) == 0 {
		return
	}
	rejected := make(map[int]Rejection, len(out.Rejected))
	for _, r := range out.Rejected {
		rejected[r.Index] = r
	}
	for _, c := range copies {
		r, ok := rejected[c.firstIdx]
		if !ok {
			out.Duplicates++
			continue
		}
		rej := Rejection{Index: c.idx, ExternalID: c.row.externalID, Reason: r.Reason,
			Error: fmt.Sprintf("same row as index %d, which was rejected: %s", c.firstIdx, r.Error)}
		out.Rejected = append(out.Rejected, rej)
		*dead = append(*dead, deadLetter{c.row.providerID, c.row.externalID, rej.Reason, rej.Error, c.row.raw})
	}
}

// assignContracts finds the active contract of each row's pair and locks it
// FOR SHARE, so a concurrent close (FOR NO KEY UPDATE) waits for this batch and this
// batch sees the contract's closed_through as of the lock: no row can land
// in a period that has been closed.
func (s *Store) assignContracts(ctx context.Context, tx pgx.Tx, valid []validRow, out *IngestResult, dead *[]deadLetter) ([]validRow, error) {
	type pair struct{ op, pv string }
	type ci struct {
		id     string
		closed time.Time
	}
	pairs := map[pair]ci{}
	var ops, pvs []string
	for _, v := range valid {
		p := pair{v.operatorID, v.providerID}
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
	kept := valid[:0:0]
	for _, v := range valid {
		c := pairs[pair{v.operatorID, v.providerID}]
		if c.id == "" {
			r := Rejection{Index: v.idx, ExternalID: v.externalID, Reason: ReasonNoContract,
				Error: fmt.Sprintf("no active contract between operator %q and provider %q", v.operatorID, v.providerID)}
			out.Rejected = append(out.Rejected, r)
			*dead = append(*dead, deadLetter{v.providerID, v.externalID, r.Reason, r.Error, v.raw})
			continue
		}
		v.contractID = c.id
		v.slot = v.occurredAt.Truncate(time.Minute)
		if v.occurredAt.Before(c.closed) {
			v.slot, v.late = c.closed, true
		}
		kept = append(kept, v)
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

// insertAndAggregate is the fast path of DESIGN §7, in one statement: the
// batch goes in as column arrays, INSERT ... ON CONFLICT DO NOTHING keeps
// only new keys, and the inserted rows are folded into the bucket aggregates
// by one upsert. Content conflicts are then looked up only among the rows
// that were not inserted. Rows are sorted by key first so concurrent batches
// take row locks in the same order and cannot deadlock.
func insertAndAggregate(ctx context.Context, tx pgx.Tx, rows []validRow, source string, out *IngestResult, dead *[]deadLetter) error {
	slices.SortFunc(rows, func(a, b validRow) int {
		if c := strings.Compare(a.providerID, b.providerID); c != 0 {
			return c
		}
		return strings.Compare(a.externalID, b.externalID)
	})
	n := len(rows)
	pv, ext, op, ct, kind, amt, cur := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	occ, slot := make([]time.Time, n), make([]time.Time, n)
	meta := make([][]byte, n)
	late := make([]bool, n)
	hash := make([][]byte, n)
	for i, r := range rows {
		pv[i], ext[i], op[i], ct[i], kind[i], amt[i], cur[i] = r.providerID, r.externalID, r.operatorID, r.contractID, r.kind, r.amountText, r.currency
		occ[i], slot[i], meta[i], late[i], hash[i] = r.occurredAt, r.slot, r.metadata, r.late, r.hash
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
	byKey := make(map[[2]string]*validRow, n-out.Accepted)
	for i := range rows {
		k := [2]string{rows[i].providerID, rows[i].externalID}
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
		if bytes.Equal(h, v.hash) {
			out.Duplicates++
			continue
		}
		r := Rejection{Index: v.idx, ExternalID: v.externalID, Reason: ReasonConflict,
			Error: fmt.Sprintf("external_id %q of provider %q was already received with different content; send a new external_id or an adjustment", v.externalID, v.providerID)}
		out.Rejected = append(out.Rejected, r)
		*dead = append(*dead, deadLetter{v.providerID, v.externalID, r.Reason, r.Error, v.raw})
	}
	return rs.Err()
}

func writeDeadLetters(ctx context.Context, tx pgx.Tx, dead []deadLetter, source string) error {
	if len(dead) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"dead_letters"},
		[]string{"provider_id", "external_id", "source", "reason", "error", "payload"},
		pgx.CopyFromSlice(len(dead), func(i int) ([]any, error) {
			d := dead[i]
			return []any{storableText(d.providerID), storableText(d.externalID), source, d.reason, storableText(d.msg), storablePayload(d.payload)}, nil
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
	if json.Valid(raw) && utf8.Valid(raw) && !ContainsNULEscape(raw) && !hasLoneSurrogate(raw) {
		return raw
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) == nil && !dec.More() {
		if b, err := json.Marshal(v); err == nil && !ContainsNULEscape(b) {
			return b
		}
	}
	b, _ := json.Marshal(strings.ReplaceAll(string(raw), "\x00", ""))
	return b
}

// jsonEscapes calls fn with the code unit of every \uXXXX escape in a JSON
// text (an escaped backslash is skipped as a unit, so "\\u0000" is text).
func jsonEscapes(b []byte, fn func(i int, unit uint16) bool) {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] == 'u' && i+5 < len(b) {
			if u, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16); err == nil && !fn(i, uint16(u)) {
				return
			}
		}
		i++ // the escaped character
	}
}

// ContainsNULEscape reports a \u0000 escape in a JSON text: PostgreSQL's
// text and jsonb cannot hold NUL.
func ContainsNULEscape(b []byte) bool {
	found := false
	jsonEscapes(b, func(_ int, u uint16) bool {
		found = u == 0
		return !found
	})
	return found
}

// hasLoneSurrogate reports a UTF-16 surrogate escape that is not part of a
// high-low pair; jsonb refuses those, and accepts pairs.
func hasLoneSurrogate(b []byte) bool {
	lone, wantLow, at := false, false, -1
	jsonEscapes(b, func(i int, u uint16) bool {
		switch {
		case wantLow && i == at+6 && u >= 0xDC00 && u <= 0xDFFF:
			wantLow = false
		case wantLow:
			lone = true
		case u >= 0xD800 && u <= 0xDBFF:
			wantLow, at = true, i
		case u >= 0xDC00 && u <= 0xDFFF:
			lone = true
		}
		return !lone
	})
	return lone || wantLow
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
