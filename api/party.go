package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tollgate/tollgate"
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
	var p tollgate.Party
	err := s.audited(c, func(st *store.Store) (_ *auditEntry, err error) {
		p, err = st.CreateParty(c.Request().Context(), tollgate.Party{ID: req.ID, Kind: req.Kind, Name: req.Name,
			Currency: req.Currency, WebhookURL: req.WebhookURL})
		return &auditEntry{"party.create", "party", p.ID, nil, p}, err
	})
	if err != nil {
		return err
	}
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
	var p tollgate.Party
	err := s.audited(c, func(st *store.Store) (_ *auditEntry, err error) {
		p, err = st.RotateSecret(c.Request().Context(), c.Param("id"))
		// The secrets themselves never enter the trail; that one was rotated does.
		return &auditEntry{"party.rotate_secret", "party", p.ID, nil,
			map[string]any{"rotated": true, "grace": tollgate.SecretGrace.String()}}, err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}
