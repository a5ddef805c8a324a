-- +goose Up
CREATE TABLE parties (
    id          text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('operator', 'provider')),
    name        text NOT NULL,
    currency    text NOT NULL,
    webhook_url text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- HMAC signing secrets. They must be kept readable (HMAC needs the secret
-- itself); a rotated secret stays valid until valid_until.
CREATE TABLE party_secrets (
    party_id    text NOT NULL REFERENCES parties(id),
    secret      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    valid_until timestamptz,
    PRIMARY KEY (party_id, secret)
);

CREATE TABLE contracts (
    id             text PRIMARY KEY,
    operator_id    text NOT NULL REFERENCES parties(id),
    provider_id    text NOT NULL REFERENCES parties(id),
    currency       text NOT NULL,
    timezone       text NOT NULL,
    schedule       jsonb NOT NULL,
    grace_period   text NOT NULL,
    approval       jsonb NOT NULL,
    payout         jsonb NOT NULL,
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    created_by     text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    -- Every period before closed_through is closed: rows that occurred
    -- earlier land in the slot at closed_through, marked late.
    closed_through timestamptz,
    -- carry_out of the last completed cycle (<= 0), settlement currency.
    carry          numeric NOT NULL DEFAULT 0 CHECK (carry <= 0)
);
CREATE UNIQUE INDEX contracts_one_active_pair ON contracts (operator_id, provider_id) WHERE status = 'active';

CREATE TABLE contract_terms (
    contract_id    text NOT NULL REFERENCES contracts(id),
    version        int NOT NULL,
    terms          jsonb NOT NULL,
    effective_from timestamptz NOT NULL,
    status         text NOT NULL CHECK (status IN ('pending', 'active', 'rejected')),
    created_by     text NOT NULL DEFAULT '',
    approved_by    text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    approved_at    timestamptz,
    PRIMARY KEY (contract_id, version)
);

-- Transactions: (provider_id, external_id) is the idempotency key.
-- content_hash covers every field, so a repeat with other content is a
-- conflict. slot is the minute bucket the row is aggregated into.
CREATE TABLE transactions (
    provider_id  text NOT NULL,
    external_id  text NOT NULL,
    operator_id  text NOT NULL,
    contract_id  text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('charge', 'payout', 'adjustment')),
    amount       numeric NOT NULL,
    currency     text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    metadata     jsonb,
    slot         timestamptz NOT NULL,
    late         boolean NOT NULL,
    content_hash bytea NOT NULL,
    source       text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider_id, external_id)
);
CREATE INDEX transactions_contract_slot ON transactions (contract_id, slot);

-- Settlement buckets: one row per (contract, minute slot, currency) with the
-- aggregates of its transactions, maintained in the ingest transaction.
-- A cycle claims every unclaimed slot before its period end, so closing is
-- proportional to the number of slots, never to the number of transactions.
CREATE TABLE bucket_totals (
    contract_id    text NOT NULL REFERENCES contracts(id),
    slot           timestamptz NOT NULL,
    currency       text NOT NULL,
    tx_count       bigint NOT NULL,
    charges        bigint NOT NULL,
    charge_sum     numeric NOT NULL,
    payout_sum     numeric NOT NULL,
    adjustment_sum numeric NOT NULL,
    late_count     bigint NOT NULL,
    cycle_id       text,
    settled        boolean NOT NULL DEFAULT false,
    PRIMARY KEY (contract_id, slot, currency)
);
CREATE INDEX bucket_totals_open ON bucket_totals (contract_id, slot) WHERE cycle_id IS NULL;
CREATE INDEX bucket_totals_cycle ON bucket_totals (cycle_id) WHERE cycle_id IS NOT NULL;

CREATE TABLE fx_rates (
    base       text NOT NULL,
    quote      text NOT NULL,
    rate       numeric NOT NULL CHECK (rate > 0),
    as_of      timestamptz NOT NULL,
    source     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (base, quote, as_of, source)
);

CREATE TABLE dead_letters (
    id          bigserial PRIMARY KEY,
    provider_id text NOT NULL,
    external_id text NOT NULL DEFAULT '',
    source      text NOT NULL,
    reason      text NOT NULL,
    error       text NOT NULL,
    payload     jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replayed', 'discarded')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    resolved_by text,
    resolution  text
);
CREATE INDEX dead_letters_provider ON dead_letters (provider_id, status, id);

-- Raw bodies of provider pushes, so any batch can be re-processed. The
-- signature is unique: a replayed request is refused.
CREATE TABLE push_archive (
    id          bigserial PRIMARY KEY,
    provider_id text NOT NULL,
    signature   text NOT NULL UNIQUE,
    body        bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- Cycle read model, upserted by the cycle workflow at every status change.
CREATE TABLE cycles (
    id           text PRIMARY KEY,
    contract_id  text NOT NULL REFERENCES contracts(id),
    period_end   timestamptz NOT NULL,
    status       text NOT NULL,
    initiated_by text NOT NULL DEFAULT '',
    snapshot     jsonb,
    record       jsonb NOT NULL DEFAULT '{}',
    total_minor  bigint,
    -- The contract's carry is taken by the close ('held') and either handed
    -- back on release ('returned') or replaced by carry_out ('settled'), so
    -- a carry is applied exactly once however cycles overlap.
    carry_in     numeric NOT NULL DEFAULT 0,
    carry_state  text NOT NULL DEFAULT 'held' CHECK (carry_state IN ('held', 'returned', 'settled')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cycles_contract ON cycles (contract_id, period_end DESC);
CREATE INDEX cycles_status ON cycles (status, updated_at DESC);

-- +goose Down
DROP TABLE cycles, push_archive, dead_letters, fx_rates, bucket_totals, transactions,
    contract_terms, contracts, party_secrets, parties;
