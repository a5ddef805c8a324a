-- +goose Up
-- API keys are stored only as SHA-256 hashes of their secret part; the key
-- is shown once at creation. Keys are high-entropy random strings, so a fast
-- hash is sufficient (no password stretching needed).
CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('viewer', 'operator', 'approver', 'admin', 'ingest')),
    provider_id  text,
    secret_hash  bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    CHECK ((role = 'ingest') = (provider_id IS NOT NULL))
);

-- +goose Down
DROP TABLE api_keys;
