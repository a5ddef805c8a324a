package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/workflows"
)

type roundTripRequest struct {
	Message string `json:"message"`
}

type roundTripResponse struct {
	WorkflowID string    `json:"workflow_id"`
	Message    string    `json:"message"`
	StoredAt   time.Time `json:"stored_at"`
	ElapsedMS  int64     `json:"elapsed_ms"`
}

// roundTrip is the deep readiness check: it runs a workflow whose activity
// writes to PostgreSQL and returns what was stored, proving a worker is
// polling the task queue. /readyz only checks that the dependencies answer.
func (s *Server) roundTrip(c echo.Context) error {
	var req roundTripRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if len(req.Message) > 200 {
		return tollgate.Errorf(tollgate.CodeInvalid, "message: at most 200 characters")
	}
	start := time.Now()
	id := c.Response().Header().Get(echo.HeaderXRequestID)
	ctx, cancel := context.WithTimeout(c.Request().Context(), 20*time.Second)
	defer cancel()
	tc, err := s.temporal()
	if err != nil {
		return err
	}
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       "roundtrip-" + id,
		TaskQueue:                workflows.TaskQueue,
		WorkflowExecutionTimeout: 30 * time.Second,
	}, workflows.RoundTripWorkflowName, workflows.RoundTripInput{ID: id, Message: req.Message})
	if err != nil {
		return tollgate.Wrap(tollgate.CodeUnavailable, err, "cannot start workflow")
	}
	var out workflows.RoundTripResult
	if err := run.Get(ctx, &out); err != nil {
		return tollgate.Wrap(tollgate.CodeUnavailable, err, "round trip did not complete (is a worker running?)")
	}
	return c.JSON(http.StatusOK, roundTripResponse{
		WorkflowID: out.Workflow, Message: out.Message, StoredAt: out.StoredAt,
		ElapsedMS: time.Since(start).Milliseconds(),
	})
}
