package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate/tollgate"
)

func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + hex.EncodeToString(b)
}

// CreateParty stores a party. A provider gets a signing secret, returned
// once. Creating the same party again with the same fields is a conflict
// (the secret cannot be shown twice).
func (s *Store) CreateParty(ctx context.Context, p tollgate.Party) (tollgate.Party, error) {
	if err := p.Validate(); err != nil {
		return tollgate.Party{}, err
	}
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO parties (id, kind, name, currency, webhook_url) VALUES ($1,$2,$3,$4,NULLIF($5,''))
			RETURNING created_at`, p.ID, p.Kind, p.Name, p.Currency, p.WebhookURL).Scan(&p.CreatedAt)
		if err != nil {
			if tollgate.ErrorCode(dbErr(err)) == tollgate.CodeConflict {
				return tollgate.Errorf(tollgate.CodeConflict, "party %q already exists", p.ID)
			}
			return dbErr(err)
		}
		if p.Kind == "provider" {
			p.SigningSecret = newSecret()
			if _, err := tx.Exec(ctx, `INSERT INTO party_secrets (party_id, secret) VALUES ($1, $2)`, p.ID, p.SigningSecret); err != nil {
				return dbErr(err)
			}
		}
		return nil
	})
	return p, err
}

// RotateSecret issues a new signing secret; the previous ones stay valid for
// tollgate.SecretGrace so the provider can switch without dropping pushes.
func (s *Store) RotateSecret(ctx context.Context, partyID string) (tollgate.Party, error) {
	p, err := s.GetParty(ctx, partyID)
	if err != nil {
		return tollgate.Party{}, err
	}
	if p.Kind != "provider" {
		return tollgate.Party{}, tollgate.Errorf(tollgate.CodeInvalid, "party %q is an operator; only providers have signing secrets", partyID)
	}
	p.SigningSecret = newSecret()
	now := s.now()
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE party_secrets SET valid_until = $2
			WHERE party_id = $1 AND (valid_until IS NULL OR valid_until > $2)`, partyID, now.Add(tollgate.SecretGrace)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO party_secrets (party_id, secret, created_at) VALUES ($1, $2, $3)`, partyID, p.SigningSecret, now)
		return err
	})
	return p, dbErr(err)
}

// ValidSecrets returns the provider's signing secrets valid now.
func (s *Store) ValidSecrets(ctx context.Context, partyID string) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT secret FROM party_secrets WHERE party_id = $1
		AND (valid_until IS NULL OR valid_until > $2) ORDER BY created_at DESC`, partyID, s.now())
	if err != nil {
		return nil, dbErr(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, dbErr(err)
}

const partyCols = `id, kind, name, currency, COALESCE(webhook_url, ''), created_at`

func scanParty(row pgx.Row) (tollgate.Party, error) {
	var p tollgate.Party
	err := row.Scan(&p.ID, &p.Kind, &p.Name, &p.Currency, &p.WebhookURL, &p.CreatedAt)
	return p, err
}

// GetParty reads one party.
func (s *Store) GetParty(ctx context.Context, id string) (tollgate.Party, error) {
	p, err := scanParty(s.db.QueryRow(ctx, `SELECT `+partyCols+` FROM parties WHERE id = $1`, id))
	if err != nil {
		return tollgate.Party{}, notFound(err, "party %q not found", id)
	}
	return p, nil
}

// ListParties pages through parties by id.
func (s *Store) ListParties(ctx context.Context, kind string, page Page) ([]tollgate.Party, string, error) {
	limit, err := page.limit()
	if err != nil {
		return nil, "", err
	}
	after, err := page.after(tollgate.CursorParties)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.db.Query(ctx, `SELECT `+partyCols+` FROM parties
		WHERE id > $1 AND ($2 = '' OR kind = $2) ORDER BY id LIMIT $3`, after, kind, limit+1)
	if err != nil {
		return nil, "", dbErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tollgate.Party, error) { return scanParty(r) })
	if err != nil {
		return nil, "", dbErr(err)
	}
	out, next := cutPage(out, limit, tollgate.CursorParties, func(p tollgate.Party) []string { return []string{p.ID} })
	return out, next, nil
}

// GetPartyForNotify implements activities.PartyStore: the webhook URL and the
// newest signing secret (operators sign with a per-party secret too, created
// on first use).
func (s *Store) GetPartyForNotify(ctx context.Context, id string) (tollgate.Party, error) {
	p, err := s.GetParty(ctx, id)
	if err != nil {
		return tollgate.Party{}, err
	}
	var secret string
	err = s.db.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO party_secrets (party_id, secret)
			SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM party_secrets WHERE party_id = $1)
			RETURNING secret)
		SELECT secret FROM ins
		UNION ALL
		(SELECT secret FROM party_secrets WHERE party_id = $1 ORDER BY created_at DESC LIMIT 1)
		LIMIT 1`, id, newSecret()).Scan(&secret)
	if err != nil {
		return tollgate.Party{}, dbErr(err)
	}
	return tollgate.Party{ID: p.ID, WebhookURL: p.WebhookURL, SigningSecret: secret}, nil
}
