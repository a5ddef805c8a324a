-- +goose Up
-- Issue 11: currency exponents now come from an embedded ISO 4217 table
-- instead of CLDR. The currencies below grew their exponent (none shrank), so
-- decimal amounts stored before stay valid, but integer minor units stored
-- before — ledger postings and balances, cycles.total_minor — were scaled by
-- the old exponent and now read 10^(new - old) times too small.
--
-- This table records the change and when it reached this database (the time
-- of this migration), so `tollgate ledger verify` can list the accounts that
-- hold postings written before it, until an operator sets acknowledged_at. Ledger rows are immutable, so nothing is
-- rescaled here; the README's changelog (Money safety, issue 11) says what
-- operators do about such accounts. Keep in step with cldrExponents in
-- currency_iso4217.go.
CREATE TABLE currency_exponent_changes (
    currency     text PRIMARY KEY CHECK (currency ~ '^[A-Z]{3}$'),
    old_exponent smallint NOT NULL CHECK (old_exponent BETWEEN 0 AND 4),
    new_exponent smallint NOT NULL CHECK (new_exponent BETWEEN 0 AND 4),
    effective_at timestamptz NOT NULL DEFAULT now(),
    -- Set by an operator once the currency's accounts are corrected (README,
    -- Money safety): verify then stops naming them.
    acknowledged_at timestamptz,
    CHECK (old_exponent <> new_exponent)
);

INSERT INTO currency_exponent_changes (currency, old_exponent, new_exponent) VALUES
    ('AFN', 0, 2), ('ALL', 0, 2), ('AMD', 0, 2), ('COP', 0, 2), ('GYD', 0, 2),
    ('IDR', 0, 2), ('IQD', 0, 3), ('IRR', 0, 2), ('KPW', 0, 2), ('LAK', 0, 2),
    ('LBP', 0, 2), ('MGA', 0, 2), ('MMK', 0, 2), ('MNT', 0, 2), ('MUR', 0, 2),
    ('PKR', 0, 2), ('RSD', 0, 2), ('SLL', 0, 2), ('SOS', 0, 2), ('SYP', 0, 2),
    ('TZS', 0, 2), ('UZS', 0, 2), ('YER', 0, 2);

-- +goose Down
DROP TABLE currency_exponent_changes;
