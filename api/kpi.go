package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// kpis is the finance managers' summary: settled totals per currency over a
// window (default: the last 30 days), cycles by status, and what waits.
func (s *Server) kpis(c echo.Context) error {
	from, to, err := timeRange(c)
	if err != nil {
		return err
	}
	if to.IsZero() {
		to = s.Clock()
	}
	if from.IsZero() {
		from = to.Add(-30 * 24 * time.Hour)
	}
	k, err := s.Store.KPIs(c.Request().Context(), from, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, k)
}
