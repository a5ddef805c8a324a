package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tollgate/tollgate/store"
)

// apiKeyRoutes registers key management. Only admins manage keys: a key
// can carry any role, so creating one is as powerful as being admin.
func (s *Server) apiKeyRoutes() {
	s.route(http.MethodPost, "/v1/api-keys", RoleAdmin, s.createAPIKey)
	s.route(http.MethodGet, "/v1/api-keys", RoleAdmin, s.listAPIKeys)
	s.route(http.MethodDelete, "/v1/api-keys/:id", RoleAdmin, s.revokeAPIKey)
}

type createAPIKeyRequest struct {
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	ProviderID string     `json:"provider_id"`
	ExpiresAt  *time.Time `json:"expires_at"`
}

// createdAPIKey is the only response that ever carries the key itself.
type createdAPIKey struct {
	store.APIKey
	Key string `json:"key"`
}

func (s *Server) createAPIKey(c echo.Context) error {
	var req createAPIKeyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	key, id, hash := GenerateKey()
	k, err := s.Store.CreateAPIKey(c.Request().Context(), store.NewAPIKey{
		APIKey:     store.APIKey{ID: id, Name: req.Name, Role: req.Role, ProviderID: req.ProviderID, ExpiresAt: req.ExpiresAt},
		SecretHash: hash,
	}, s.auditEvent(c, "api_key.create", "api_key", id))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, createdAPIKey{APIKey: k, Key: key})
}

func (s *Server) listAPIKeys(c echo.Context) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	items, next, err := s.Store.ListAPIKeys(c.Request().Context(), pg)
	if err != nil {
		return err
	}
	return listOf(c, items, next)
}

// revokeAPIKey answers 200 with the revoked key's metadata; the key stops
// authenticating with the next request (keys are checked on every call).
func (s *Server) revokeAPIKey(c echo.Context) error {
	k, err := s.Store.RevokeAPIKey(c.Request().Context(), c.Param("id"), s.auditEvent(c, "api_key.revoke", "api_key", c.Param("id")))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, k)
}
