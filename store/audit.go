package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tollgate/tollgate"
)

// AuditEvent is one state change to append to the audit trail. Before and
// After are JSON documents (nil when there is none).
type AuditEvent struct {
	At         time.Time
	Actor      string
	ActorKey   string
	Action     string
	ObjectType string
	ObjectID   string
	Before     json.RawMessage
	After      json.RawMessage
	RequestID  string
}

// AuditRecord is a stored audit row.
type AuditRecord struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	Actor      string          `json:"actor"`
	ActorKey   string          `json:"actor_key,omitempty"`
	Action     string          `json:"action"`
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id,omitempty"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
	RequestID  string          `json:"request_id,omitempty"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

// execer is a pool or a transaction: audit rows are written in the caller's
// transaction when it has one, so the change and its record commit together.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// AppendAudit appends an event on q (a pgx.Tx to share the change's
// transaction). The database numbers, links and hashes the row.
func AppendAudit(ctx context.Context, q execer, e AuditEvent) error {
	if e.Action == "" {
		return tollgate.Errorf(tollgate.CodeInternal, "audit: event without action")
	}
	var at any
	if !e.At.IsZero() {
		at = e.At
	}
	_, err := q.Exec(ctx, `INSERT INTO audit_log (at, actor, actor_key, action, object_type, object_id, before, after, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, at, e.Actor, e.ActorKey, e.Action, e.ObjectType, e.ObjectID,
		jsonOrNil(e.Before), jsonOrNil(e.After), e.RequestID)
	return dbErr(err)
}

// Audit appends an event in a transaction of its own.
func (s *Store) Audit(ctx context.Context, e AuditEvent) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	return AppendAudit(ctx, s.db, e)
}

func jsonOrNil(b json.RawMessage) any {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	return string(b)
}

// AuditHasUpdate reports whether an audit row for action on the object
// already records the Temporal Update updateID (its after.update_id): a
// replayed Update (a client retry with the same idempotency key) returns
// the first answer and must not be audited twice. The object index keeps
// it a lookup among the object's few rows.
func (s *Store) AuditHasUpdate(ctx context.Context, action, objectType, objectID, updateID string) (bool, error) {
	var found bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_log
		WHERE object_type = $1 AND object_id = $2 AND action = $3 AND after->>'update_id' = $4)`,
		objectType, objectID, action, updateID).Scan(&found)
	return found, dbErr(err)
}

// AuditFilter narrows an audit listing. From is inclusive, To exclusive.
type AuditFilter struct {
	Actor, Action, ObjectType, ObjectID string
	From, To                            time.Time
	Page
}

const auditCols = `id, at, actor, actor_key, action, object_type, object_id, before, after, request_id, prev_hash, hash`

// ListAudit pages through the audit trail, newest first.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditRecord, string, error) {
	limit, err := f.limit()
	if err != nil {
		return nil, "", err
	}
	before, err := tollgate.DecodeCursorID(tollgate.CursorAudit, f.Cursor)
	if err != nil {
		return nil, "", err
	}
	var from, to any
	if !f.From.IsZero() {
		from = f.From
	}
	if !f.To.IsZero() {
		to = f.To
	}
	rows, err := s.db.Query(ctx, `SELECT `+auditCols+` FROM audit_log
		WHERE ($1 = '' OR actor = $1) AND ($2 = '' OR action = $2) AND ($3 = '' OR object_type = $3)
		AND ($4 = '' OR object_id = $4) AND ($5::timestamptz IS NULL OR at >= $5) AND ($6::timestamptz IS NULL OR at < $6)
		AND ($7 = 0 OR id < $7) ORDER BY id DESC LIMIT $8`,
		f.Actor, f.Action, f.ObjectType, f.ObjectID, from, to, before, limit+1)
	if err != nil {
		return nil, "", dbErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditRecord, error) {
		var a AuditRecord
		var prev, hash []byte
		var b, af []byte
		err := r.Scan(&a.ID, &a.At, &a.Actor, &a.ActorKey, &a.Action, &a.ObjectType, &a.ObjectID, &b, &af, &a.RequestID, &prev, &hash)
		a.Before, a.After = b, af
		a.PrevHash, a.Hash = hex.EncodeToString(prev), hex.EncodeToString(hash)
		a.At = a.At.UTC()
		return a, err
	})
	if err != nil {
		return nil, "", dbErr(err)
	}
	out, next := cutPage(out, limit, tollgate.CursorAudit, func(a AuditRecord) []string { return cursorID(a.ID) })
	return out, next, nil
}

// AuditBreak names the first row where the chain does not hold.
type AuditBreak struct {
	ID     int64  `json:"id"`
	Kind   string `json:"kind"` // content | link | gap | head
	Detail string `json:"detail"`
}

// AuditReport is the outcome of VerifyAudit.
type AuditReport struct {
	OK        bool        `json:"ok"`
	Rows      int64       `json:"rows"`
	Head      string      `json:"head,omitempty"`
	HeadSeq   int64       `json:"head_seq"`
	Break     *AuditBreak `json:"break"`
	CheckedAt time.Time   `json:"checked_at"`
}

// VerifyAudit recomputes every row's hash and link on one snapshot and
// names the first row that does not match. A break is a finding, not an
// error; an error means the check could not run.
func (s *Store) VerifyAudit(ctx context.Context) (AuditReport, error) {
	r := AuditReport{CheckedAt: s.now().UTC()}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var head []byte
		if err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_head`).Scan(&r.HeadSeq, &head); err != nil {
			return err
		}
		r.Head = hex.EncodeToString(head)
		// Each row checks against its predecessor only, so one window pass
		// finds the first break without walking the chain in Go.
		var b AuditBreak
		var lastID int64
		var lastHash []byte
		err := tx.QueryRow(ctx, `
			WITH chk AS (
				SELECT id, prev_hash, hash,
				       audit_digest(prev_hash, id, at, actor, actor_key, action, object_type, object_id, before, after, request_id) AS want,
				       lag(hash) OVER w AS prev_row_hash, lag(id) OVER w AS prev_id
				FROM audit_log WINDOW w AS (ORDER BY id))
			SELECT (SELECT count(*) FROM audit_log), COALESCE((SELECT max(id) FROM audit_log), 0),
			       (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1),
			       COALESCE(bad.id, 0), COALESCE(bad.kind, '')
			FROM (SELECT 1) one LEFT JOIN LATERAL (
				SELECT id, CASE
					WHEN id <> COALESCE(prev_id, 0) + 1 THEN 'gap'
					WHEN prev_hash <> COALESCE(prev_row_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea) THEN 'link'
					ELSE 'content' END AS kind
				FROM chk
				WHERE id <> COALESCE(prev_id, 0) + 1
				   OR prev_hash <> COALESCE(prev_row_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
				   OR hash <> want
				ORDER BY id LIMIT 1) bad ON true`).Scan(&r.Rows, &lastID, &lastHash, &b.ID, &b.Kind)
		if err != nil {
			return err
		}
		switch {
		case b.ID != 0:
			b.Detail = map[string]string{
				"gap":     "row ids are not consecutive here: a row before it was deleted",
				"link":    "prev_hash does not equal the previous row's hash: a row before it was changed or removed",
				"content": "the row's content does not match its hash: it was edited after it was written",
			}[b.Kind]
			r.Break = &b
		case lastID != r.HeadSeq || (lastID > 0 && string(lastHash) != string(head)):
			r.Break = &AuditBreak{ID: lastID, Kind: "head",
				Detail: "the last row is not the chain head (head seq " + strconv.FormatInt(r.HeadSeq, 10) + "): rows were removed from the end"}
		}
		return nil
	})
	if err != nil {
		return AuditReport{}, dbErr(err)
	}
	r.OK = r.Break == nil
	return r, nil
}
