package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tollgate/tollgate/store"
)

type createPartyRequest struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Currency   string `json:"currency"`
	WebhookURL string `json:"webhook_url"`
}

func (s *Server) createParty(c echo.Context) error {
	var req createPartyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := s.Store.CreateParty(c.Request().Context(), store.Party{ID: req.ID, Kind: req.Kind, Name: req.Name,
		Currency: req.Currency, WebhookURL: req.WebhookURL})
	if err != nil {
		return err
	}
	s.auditf(c, "party.create", "party", p.ID, nil, p)
	return c.JSON(http.StatusCreated, p)
}

func (s *Server) listParties(c echo.Context) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	items, next, err := s.Store.ListParties(c.Request().Context(), c.QueryParam("kind"), pg)
	if err != nil {
		return err
	}
	return listOf(c, items, next)
}

func (s *Server) getParty(c echo.Context) error {
	p, err := s.Store.GetParty(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) rotateSecret(c echo.Context) error {
	p, err := s.Store.RotateSecret(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	// The secrets themselves never enter the trail; that one was rotated does.
	s.auditf(c, "party.rotate_secret", "party", p.ID, nil, map[string]any{"rotated": true, "grace": store.SecretGrace.String()})
	return c.JSON(http.StatusOK, p)
}
