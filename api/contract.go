package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tollgate/tollgate"
)

func (s *Server) createContract(c echo.Context) error {
	var req tollgate.Contract
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	req.Status, req.Version = "", 0
	ctx := c.Request().Context()
	v, err := s.Store.CreateContract(ctx, req, actor(ctx))
	if err != nil {
		return err
	}
	s.auditf(c, "contract.create", "contract", v.ID, nil, v)
	return c.JSON(http.StatusCreated, v)
}

func (s *Server) listContracts(c echo.Context) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	items, next, err := s.Store.ListContracts(c.Request().Context(), c.QueryParam("provider_id"), c.QueryParam("operator_id"), pg)
	if err != nil {
		return err
	}
	return listOf(c, items, next)
}

func (s *Server) getContract(c echo.Context) error {
	v, err := s.Store.GetContract(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) addTerms(c echo.Context) error {
	var t tollgate.Terms
	if err := decodeJSON(c, &t); err != nil {
		return err
	}
	ctx := c.Request().Context()
	tv, err := s.Store.AddTerms(ctx, c.Param("id"), t, actor(ctx))
	if err != nil {
		return err
	}
	s.auditf(c, "contract.terms_add", "contract", c.Param("id"), nil, tv)
	return c.JSON(http.StatusCreated, tv)
}

func (s *Server) approveTerms(c echo.Context) error {
	v, err := strconv.ParseInt(c.Param("version"), 10, 32)
	version := int(v)
	if err != nil || version < 1 {
		return tollgate.Errorf(tollgate.CodeInvalid, "version: %q must be a positive integer", c.Param("version"))
	}
	ctx := c.Request().Context()
	tv, err := s.Store.ApproveTerms(ctx, c.Param("id"), version, actor(ctx))
	if err != nil {
		return err
	}
	if tv.ApprovedBy == actor(ctx) {
		s.auditf(c, "contract.terms_approve", "contract", c.Param("id"),
			map[string]any{"version": version, "status": "pending"}, tv)
	} else {
		c.Set(auditedFlag, true) // already active: approving again changed nothing
	}
	return c.JSON(http.StatusOK, tv)
}

func (s *Server) position(c echo.Context) error {
	p, err := s.Store.Position(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}
