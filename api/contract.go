package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store"
)

func (s *Server) createContract(c echo.Context) error {
	var req tollgate.Contract
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	req.Status, req.Version = "", 0
	ctx := c.Request().Context()
	var v tollgate.ContractView
	err := s.audited(c, func(st *store.Store) (_ *auditEntry, err error) {
		v, err = st.CreateContract(ctx, req, actor(ctx))
		return &auditEntry{"contract.create", "contract", v.ID, nil, v}, err
	})
	if err != nil {
		return err
	}
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
	var tv tollgate.TermsVersion
	err := s.audited(c, func(st *store.Store) (_ *auditEntry, err error) {
		tv, err = st.AddTerms(ctx, c.Param("id"), t, actor(ctx))
		return &auditEntry{"contract.terms_add", "contract", c.Param("id"), nil, tv}, err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, tv)
}

func (s *Server) approveTerms(c echo.Context) error {
	v, err := strconv.ParseInt(c.Param("version"), 10, 32)
	version := int(v)
	if err != nil || version < 1 {
		return tollgate.Errorf(tollgate.CodeInvalid, "version: %q must be a positive integer", c.Param("version"))
	}
	ctx := c.Request().Context()
	var tv tollgate.TermsVersion
	err = s.audited(c, func(st *store.Store) (_ *auditEntry, err error) {
		tv, err = st.ApproveTerms(ctx, c.Param("id"), version, actor(ctx))
		if err != nil || tv.ApprovedBy != actor(ctx) {
			return nil, err // already active: approving again changed nothing
		}
		return &auditEntry{"contract.terms_approve", "contract", c.Param("id"),
			map[string]any{"version": version, "status": "pending"}, tv}, nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tv)
}

func (s *Server) position(c echo.Context) error {
	p, err := LivePosition(c.Request().Context(), s.Store, c.Param("id"), s.Clock())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}
