package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// ingestRoutes registers parties, contracts, transactions, FX rates, provider
// pushes, positions and dead letters.
func (s *Server) ingestRoutes() {
	s.route(http.MethodPost, "/v1/parties", RoleOperator, s.createParty)
	s.route(http.MethodGet, "/v1/parties", RoleViewer, s.listParties)
	s.route(http.MethodGet, "/v1/parties/:id", RoleViewer, s.getParty)
	s.route(http.MethodPost, "/v1/parties/:id/rotate-secret", RoleAdmin, s.rotateSecret)

	// A contract decides who is paid, how much is paid without approval and
	// through which adapter, and its first terms are active at once: creating
	// one is an admin's act. Later terms need a second person's approval.
	s.route(http.MethodPost, "/v1/contracts", RoleAdmin, s.createContract)
	s.route(http.MethodGet, "/v1/contracts", RoleViewer, s.listContracts)
	s.route(http.MethodGet, "/v1/contracts/:id", RoleViewer, s.getContract)
	s.route(http.MethodPost, "/v1/contracts/:id/terms", RoleOperator, s.addTerms)
	s.route(http.MethodPost, "/v1/contracts/:id/terms/:version/approve", RoleApprover, s.approveTerms)
	s.route(http.MethodGet, "/v1/contracts/:id/position", RoleViewer, s.position)

	s.route(http.MethodPost, "/v1/transactions", RoleIngest, s.postTransactions)
	s.route(http.MethodGet, "/v1/transactions", RoleViewer, s.listTransactions)
	s.route(http.MethodPost, "/v1/providers/:id/events", RolePublic, s.providerPush)
	s.route(http.MethodPost, "/v1/push-archive/:id/reprocess", RoleOperator, s.reprocessPush)

	s.route(http.MethodPost, "/v1/fx-rates", RoleOperator, s.addRate)
	s.route(http.MethodGet, "/v1/fx-rates", RoleViewer, s.listRates)

	s.route(http.MethodGet, "/v1/dead-letters", RoleViewer, s.listDeadLetters)
	s.route(http.MethodGet, "/v1/dead-letters/:id", RoleViewer, s.getDeadLetter)
	s.route(http.MethodPost, "/v1/dead-letters/:id/replay", RoleOperator, s.replayDeadLetter)
	s.route(http.MethodPost, "/v1/dead-letters/:id/discard", RoleOperator, s.discardDeadLetter)
}

// list is the envelope of every list response. NextCursor is empty on the
// last page; otherwise pass it back as ?cursor= with the same filters.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func listOf[T any](c echo.Context, items []T, next string) error {
	if items == nil {
		items = []T{}
	}
	return c.JSON(http.StatusOK, list[T]{Items: items, NextCursor: next})
}
