package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate/tollgate"
)

// DeadLetter is a rejected provider row kept for an operator to fix.
type DeadLetter struct {
	ID         int64           `json:"id"`
	ProviderID string          `json:"provider_id"`
	ExternalID string          `json:"external_id"`
	Source     string          `json:"source"`
	Reason     string          `json:"reason"`
	Error      string          `json:"error"`
	Payload    json.RawMessage `json:"payload"`
	Status     string          `json:"status"`
	CreatedAt  time.Time       `json:"created_at"`
	ResolvedAt *time.Time      `json:"resolved_at,omitempty"`
	ResolvedBy string          `json:"resolved_by,omitempty"`
	Resolution string          `json:"resolution,omitempty"`
}

// DeadLetterFilter narrows a dead-letter listing.
type DeadLetterFilter struct {
	ProviderID, Status, Reason string
	Page
}

const dlCols = `id, provider_id, external_id, source, reason, error, payload, status, created_at, resolved_at, COALESCE(resolved_by, ''), COALESCE(resolution, '')`

func scanDL(r pgx.Row) (DeadLetter, error) {
	var d DeadLetter
	err := r.Scan(&d.ID, &d.ProviderID, &d.ExternalID, &d.Source, &d.Reason, &d.Error, &d.Payload, &d.Status,
		&d.CreatedAt, &d.ResolvedAt, &d.ResolvedBy, &d.Resolution)
	return d, err
}

// ListDeadLetters pages through dead letters, newest first.
func (s *Store) ListDeadLetters(ctx context.Context, f DeadLetterFilter) ([]DeadLetter, string, error) {
	limit, err := f.limit()
	if err != nil {
		return nil, "", err
	}
	before, err := tollgate.DecodeCursorID(tollgate.CursorDeadLetters, f.Cursor)
	if err != nil {
		return nil, "", err
	}
	switch f.Status {
	case "", "open", "replayed", "discarded":
	default:
		return nil, "", tollgate.Errorf(tollgate.CodeInvalid, "status must be open, replayed or discarded")
	}
	rows, err := s.db.Query(ctx, `SELECT `+dlCols+` FROM dead_letters
		WHERE ($1 = '' OR provider_id = $1) AND ($2 = '' OR status = $2) AND ($3 = '' OR reason = $3)
		AND ($4 = 0 OR id < $4) ORDER BY id DESC LIMIT $5`, f.ProviderID, f.Status, f.Reason, before, limit+1)
	if err != nil {
		return nil, "", dbErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DeadLetter, error) { return scanDL(r) })
	if err != nil {
		return nil, "", dbErr(err)
	}
	out, next := cutPage(out, limit, tollgate.CursorDeadLetters, func(d DeadLetter) []string { return cursorID(d.ID) })
	return out, next, nil
}

// GetDeadLetter reads one dead letter.
func (s *Store) GetDeadLetter(ctx context.Context, id int64) (DeadLetter, error) {
	d, err := scanDL(s.db.QueryRow(ctx, `SELECT `+dlCols+` FROM dead_letters WHERE id = $1`, id))
	if err != nil {
		return DeadLetter{}, notFound(err, "dead letter %d not found", id)
	}
	return d, nil
}

// ReplayResult is what a replay did.
type ReplayResult struct {
	DeadLetter DeadLetter            `json:"dead_letter"`
	Ingest     tollgate.IngestResult `json:"ingest"`
}

// ReplayDeadLetter ingests the stored row again, or a corrected row in its
// place. When the row is accepted (or found to be a duplicate) the dead
// letter is marked replayed; otherwise it stays open and the new rejection
// is returned (and dead-lettered again, so nothing is lost).
func (s *Store) ReplayDeadLetter(ctx context.Context, id int64, corrected json.RawMessage, by string) (ReplayResult, error) {
	d, err := s.GetDeadLetter(ctx, id)
	if err != nil {
		return ReplayResult{}, err
	}
	if d.Status != "open" {
		return ReplayResult{}, tollgate.Errorf(tollgate.CodeConflict, "dead letter %d is %s, not open", id, d.Status)
	}
	row := d.Payload
	if len(corrected) > 0 {
		row = corrected
	}
	res, err := s.Ingest(ctx, []json.RawMessage{row}, "replay", d.ProviderID)
	if err != nil {
		return ReplayResult{}, err
	}
	if len(res.Rejected) == 0 {
		how := "accepted"
		if res.Duplicates > 0 {
			how = "duplicate of a stored transaction"
		}
		if _, err := s.db.Exec(ctx, `UPDATE dead_letters SET status = 'replayed', resolved_at = now(), resolved_by = $2,
			resolution = $3 WHERE id = $1 AND status = 'open'`, id, by, how); err != nil {
			return ReplayResult{}, dbErr(err)
		}
	}
	d, err = s.GetDeadLetter(ctx, id)
	return ReplayResult{DeadLetter: d, Ingest: res}, err
}

// DiscardDeadLetter closes a dead letter without ingesting it.
func (s *Store) DiscardDeadLetter(ctx context.Context, id int64, by, reason string) (DeadLetter, error) {
	tag, err := s.db.Exec(ctx, `UPDATE dead_letters SET status = 'discarded', resolved_at = now(), resolved_by = $2,
		resolution = $3 WHERE id = $1 AND status = 'open'`, id, by, reason)
	if err != nil {
		return DeadLetter{}, dbErr(err)
	}
	d, err := s.GetDeadLetter(ctx, id)
	if err != nil {
		return DeadLetter{}, err
	}
	if tag.RowsAffected() == 0 && d.Status != "discarded" {
		return DeadLetter{}, tollgate.Errorf(tollgate.CodeConflict, "dead letter %d is %s, not open", id, d.Status)
	}
	return d, nil
}

// ArchivePush stores a provider push's raw body under its signature. A
// signature seen before is refused (replay protection).
func (s *Store) ArchivePush(ctx context.Context, providerID, signature string, body []byte) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `INSERT INTO push_archive (provider_id, signature, body) VALUES ($1, $2, $3)
		ON CONFLICT (signature) DO NOTHING RETURNING id`, providerID, signature, body).Scan(&id)
	if err == pgx.ErrNoRows {
		return 0, tollgate.Errorf(tollgate.CodeConflict, "this signature was already used; sign every push afresh")
	}
	return id, dbErr(err)
}

// ArchivedPush returns a provider push's raw body, for re-processing.
func (s *Store) ArchivedPush(ctx context.Context, id int64) (providerID string, body []byte, err error) {
	err = s.db.QueryRow(ctx, `SELECT provider_id, body FROM push_archive WHERE id = $1`, id).Scan(&providerID, &body)
	if err != nil {
		return "", nil, notFound(err, "archived push %d not found", id)
	}
	return providerID, body, nil
}
