package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate/tollgate"
)

// APIKey is a stored API key's metadata. The secret's hash never leaves the
// store.
type APIKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	ProviderID string     `json:"provider_id,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// NewAPIKey is a key to store: its metadata and the SHA-256 of its secret.
type NewAPIKey struct {
	APIKey
	SecretHash []byte
}

var keyRoles = []string{"viewer", "operator", "approver", "admin", "ingest"}

// validate checks a key before it is stored: a known role, and a provider
// exactly when the role is ingest.
func (k *APIKey) validate(now time.Time) error {
	k.Name = strings.TrimSpace(k.Name)
	if k.Name == "" || len(k.Name) > 100 {
		return tollgate.Errorf(tollgate.CodeInvalid, "name: required, at most 100 characters")
	}
	// Names identify people for maker-checker; "oidc:" names belong to
	// single sign-on users, so a key must not be able to pose as one.
	if strings.HasPrefix(strings.ToLower(k.Name), "oidc:") {
		return tollgate.Errorf(tollgate.CodeInvalid, "name: %q may not start with \"oidc:\", which is reserved for single sign-on users", k.Name)
	}
	valid := false
	for _, r := range keyRoles {
		valid = valid || r == k.Role
	}
	if !valid {
		return tollgate.Errorf(tollgate.CodeInvalid, "role: %q must be one of %s", k.Role, strings.Join(keyRoles, ", "))
	}
	if k.Role == "ingest" && k.ProviderID == "" {
		return tollgate.Errorf(tollgate.CodeInvalid, "provider_id: required for an ingest key (it may only send that provider's transactions)")
	}
	if k.Role != "ingest" && k.ProviderID != "" {
		return tollgate.Errorf(tollgate.CodeInvalid, "provider_id: only ingest keys are scoped to a provider; role %q must not have one", k.Role)
	}
	if k.ExpiresAt != nil && !k.ExpiresAt.After(now) {
		return tollgate.Errorf(tollgate.CodeInvalid, "expires_at: %s is not in the future", k.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

// CreateAPIKey stores a key and appends audit in the same transaction, so a
// key never exists without its record. audit.After is set here to the
// stored metadata (never the secret).
func (s *Store) CreateAPIKey(ctx context.Context, k NewAPIKey, audit AuditEvent) (APIKey, error) {
	now := s.now()
	if err := k.validate(now); err != nil {
		return APIKey{}, err
	}
	out := k.APIKey
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if k.ProviderID != "" {
			var kind string
			err := tx.QueryRow(ctx, `SELECT kind FROM parties WHERE id = $1`, k.ProviderID).Scan(&kind)
			if err == pgx.ErrNoRows || (err == nil && kind != "provider") {
				return tollgate.Errorf(tollgate.CodeInvalid, "provider_id: %q is not a provider party", k.ProviderID)
			} else if err != nil {
				return dbErr(err)
			}
		}
		err := tx.QueryRow(ctx, `INSERT INTO api_keys (id, name, role, provider_id, secret_hash, created_at, expires_at)
			VALUES ($1, $2, $3, NULLIF($4, ''), $5, $6, $7) RETURNING created_at`,
			k.ID, k.Name, k.Role, k.ProviderID, k.SecretHash, now, k.ExpiresAt).Scan(&out.CreatedAt)
		if err != nil {
			return dbErr(err)
		}
		out.CreatedAt = out.CreatedAt.UTC()
		audit.After, _ = json.Marshal(out)
		audit.Action, audit.ObjectType, audit.ObjectID = "api_key.create", "api_key", k.ID
		audit.At = now
		return AppendAudit(ctx, tx, audit)
	})
	if err != nil {
		return APIKey{}, err
	}
	return out, nil
}

const apiKeyCols = `id, name, role, COALESCE(provider_id, ''), created_at, expires_at, revoked_at` //nolint:gosec // G101: a column list, not a credential

func scanAPIKey(r pgx.Row) (APIKey, error) {
	var k APIKey
	err := r.Scan(&k.ID, &k.Name, &k.Role, &k.ProviderID, &k.CreatedAt, &k.ExpiresAt, &k.RevokedAt)
	k.CreatedAt = k.CreatedAt.UTC()
	return k, err
}

// ListAPIKeys pages through keys by id, revoked ones included (they say
// when they were revoked).
func (s *Store) ListAPIKeys(ctx context.Context, page Page) ([]APIKey, string, error) {
	limit, err := page.limit()
	if err != nil {
		return nil, "", err
	}
	after, err := page.after(tollgate.CursorAPIKeys)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.db.Query(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE id > $1 ORDER BY id LIMIT $2`, after, limit+1)
	if err != nil {
		return nil, "", dbErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (APIKey, error) { return scanAPIKey(r) })
	if err != nil {
		return nil, "", dbErr(err)
	}
	out, next := cutPage(out, limit, tollgate.CursorAPIKeys, func(k APIKey) []string { return []string{k.ID} })
	return out, next, nil
}

// RevokeAPIKey revokes a key at once; revoking a revoked key is a no-op
// that returns it unchanged (and writes no audit row).
func (s *Store) RevokeAPIKey(ctx context.Context, id string, audit AuditEvent) (APIKey, error) {
	var out APIKey
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		before, err := scanAPIKey(tx.QueryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, "API key %q not found", id)
		}
		out = before
		if before.RevokedAt != nil {
			return nil
		}
		now := s.now()
		if _, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = $2 WHERE id = $1`, id, now); err != nil {
			return dbErr(err)
		}
		out.RevokedAt = &now
		audit.Before, _ = json.Marshal(before)
		audit.After, _ = json.Marshal(out)
		audit.Action, audit.ObjectType, audit.ObjectID = "api_key.revoke", "api_key", id
		audit.At = now
		return AppendAudit(ctx, tx, audit)
	})
	return out, err
}
