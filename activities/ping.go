package activities

import (
	"context"
	"time"
)

// RecordPingRequest is the input of RecordPing.
type RecordPingRequest struct {
	ID         string
	Message    string
	WorkflowID string
}

// RecordPingResult is the row as stored.
type RecordPingResult struct {
	ID         string
	Message    string
	WorkflowID string
	StoredAt   time.Time
}

// RecordPing writes a ping row, idempotent on its ID: a retry returns the
// row the first attempt stored.
func (a *Activities) RecordPing(ctx context.Context, req RecordPingRequest) (RecordPingResult, error) {
	var out RecordPingResult
	err := a.Pool.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO pings (id, message, workflow_id) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO NOTHING
			RETURNING id, message, workflow_id, created_at)
		SELECT * FROM ins
		UNION ALL
		SELECT id, message, workflow_id, created_at FROM pings WHERE id = $1
		LIMIT 1`, req.ID, req.Message, req.WorkflowID).
		Scan(&out.ID, &out.Message, &out.WorkflowID, &out.StoredAt)
	if err != nil {
		return RecordPingResult{}, classify(err)
	}
	return out, nil
}
