package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"github.com/tollgate/tollgate"
)

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when PostgreSQL and the Temporal frontend answer;
// otherwise 503 naming what is down.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if err := s.Pool.Ping(ctx); err != nil {
		return tollgate.Errorf(tollgate.CodeUnavailable, "PostgreSQL unreachable: %v", err)
	}
	tc, err := s.temporal()
	if err != nil {
		return err
	}
	if _, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return tollgate.Errorf(tollgate.CodeUnavailable, "Temporal frontend unreachable: %v", err)
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready", "postgres": "ok", "temporal": "ok"})
}

// temporal returns the Temporal client, or a 503 when this API process was
// built without one (a deployment error, not the caller's).
func (s *Server) temporal() (client.Client, error) {
	if s.Temporal == nil {
		return nil, tollgate.Errorf(tollgate.CodeUnavailable, "Temporal is not configured for this API process")
	}
	return s.Temporal, nil
}
