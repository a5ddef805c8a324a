-- +goose Up
-- Double-entry ledger. Amounts are integer minor units of the currency's ISO
-- 4217 exponent. Every invariant the Go package checks is also enforced here,
-- so a bug or a hand-written statement cannot break the books:
--   * an entry's postings sum to zero per currency and number at least two
--     (deferred constraint trigger, checked at commit);
--   * entries, postings and chain links are never updated or deleted;
--   * a posting's currency is its account's currency (composite foreign key);
--   * an entry is reversed at most once (unique index);
--   * every committed entry is linked into the hash chain at commit.

CREATE TABLE ledger_accounts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    party_id   text NOT NULL CHECK (party_id <> '' AND length(party_id) <= 200),
    purpose    text NOT NULL CHECK (purpose ~ '^[a-z][a-z0-9_]{0,63}$'),
    currency   text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- Current balance, maintained by the posting transaction under the row
    -- lock; verify checks it against the sum of the account's postings.
    balance    bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (party_id, purpose, currency),
    -- Target of the postings' composite foreign key.
    UNIQUE (id, currency)
);

CREATE TABLE ledger_entries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key text NOT NULL UNIQUE CHECK (idempotency_key <> '' AND length(idempotency_key) <= 200),
    cycle_id        text CHECK (length(cycle_id) <= 200),
    description     text NOT NULL CHECK (length(description) <= 1000),
    reverses_id     bigint REFERENCES ledger_entries (id),
    posted_at       timestamptz NOT NULL,
    -- SHA-256 of the entry's canonical content, computed by the writer; the
    -- chain link covers it, and verify recomputes it from the rows.
    content_hash    bytea NOT NULL CHECK (length(content_hash) = 32),
    -- The writing transaction, so postings cannot be added to an entry
    -- after it was committed.
    created_xid     xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE UNIQUE INDEX ledger_entries_reversed_once ON ledger_entries (reverses_id) WHERE reverses_id IS NOT NULL;
CREATE INDEX ledger_entries_cycle ON ledger_entries (cycle_id, id) WHERE cycle_id IS NOT NULL;
CREATE INDEX ledger_entries_posted_at ON ledger_entries (posted_at, id);

CREATE TABLE ledger_postings (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id   bigint NOT NULL REFERENCES ledger_entries (id),
    account_id bigint NOT NULL,
    currency   text NOT NULL,
    amount     bigint NOT NULL CHECK (amount <> 0),
    -- Copy of the entry's posted_at so as-of balances read one index.
    posted_at  timestamptz NOT NULL,
    FOREIGN KEY (account_id, currency) REFERENCES ledger_accounts (id, currency)
);
CREATE INDEX ledger_postings_entry ON ledger_postings (entry_id);
CREATE INDEX ledger_postings_account ON ledger_postings (account_id, entry_id);
CREATE INDEX ledger_postings_account_time ON ledger_postings (account_id, posted_at) INCLUDE (amount);

-- The hash chain: link seq covers the previous link's hash, its own seq, the
-- entry ID and the entry's content hash. One head row holds the tip; it is
-- locked only by the commit-time trigger below, so writers serialise on it
-- for the few microseconds of the link insert and their commit, not for
-- their whole transaction.
CREATE TABLE ledger_chain (
    seq      bigint PRIMARY KEY CHECK (seq > 0),
    entry_id bigint NOT NULL UNIQUE REFERENCES ledger_entries (id),
    hash     bytea NOT NULL CHECK (length(hash) = 32)
);

CREATE TABLE ledger_chain_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       bigint NOT NULL,
    hash      bytea NOT NULL
);
INSERT INTO ledger_chain_head (seq, hash) VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000');

-- +goose StatementBegin
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger: % on % is refused; posted entries are immutable, post a reversal instead', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_postings_immutable BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_postings_no_truncate BEFORE TRUNCATE ON ledger_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_chain_immutable BEFORE UPDATE OR DELETE ON ledger_chain
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_chain_no_truncate BEFORE TRUNCATE ON ledger_chain
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

-- Accounts may change only their balance; the key names the books.
-- +goose StatementBegin
CREATE FUNCTION ledger_accounts_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'ledger: accounts are never deleted' USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.party_id <> OLD.party_id OR NEW.purpose <> OLD.purpose OR NEW.currency <> OLD.currency
       OR NEW.created_at <> OLD.created_at THEN
        RAISE EXCEPTION 'ledger: account % key is immutable', OLD.id USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER ledger_accounts_guard BEFORE UPDATE OR DELETE ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_accounts_guard();

-- Postings may only join an entry written by the same transaction.
-- +goose StatementBegin
CREATE FUNCTION ledger_postings_same_tx() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM ledger_entries WHERE id = NEW.entry_id AND created_xid = pg_current_xact_id();
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ledger: entry % is already posted; postings cannot be added to it', NEW.entry_id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER ledger_postings_same_tx BEFORE INSERT ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_postings_same_tx();

-- At commit: the entry has >= 2 postings that sum to zero per currency.
-- +goose StatementBegin
CREATE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n   bigint;
    cur text;
    tot numeric;
BEGIN
    SELECT count(*) INTO n FROM ledger_postings WHERE entry_id = NEW.id;
    IF n < 2 THEN
        RAISE EXCEPTION 'ledger: entry % has % postings; at least 2 are required', NEW.id, n
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT currency, sum(amount) INTO cur, tot FROM ledger_postings
        WHERE entry_id = NEW.id GROUP BY currency HAVING sum(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger: entry % postings sum to % in %, not zero', NEW.id, tot, cur
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- At commit, after the balance check (deferred triggers of one event fire in
-- name order): append the entry to the chain. The head row lock is taken
-- here, at the last moment, and released by the commit.
-- +goose StatementBegin
CREATE FUNCTION ledger_entry_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s bigint;
    h bytea;
BEGIN
    UPDATE ledger_chain_head
       SET seq = seq + 1,
           hash = sha256(hash || int8send(seq + 1) || int8send(NEW.id) || NEW.content_hash)
     WHERE singleton
     RETURNING seq, hash INTO s, h;
    INSERT INTO ledger_chain (seq, entry_id, hash) VALUES (s, NEW.id, h);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER ledger_entries_10_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced();
CREATE CONSTRAINT TRIGGER ledger_entries_20_chain AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_chain();

-- +goose Down
DROP TABLE ledger_chain_head;
DROP TABLE ledger_chain;
DROP TABLE ledger_postings;
DROP TABLE ledger_entries;
DROP TABLE ledger_accounts;
DROP FUNCTION ledger_entry_chain();
DROP FUNCTION ledger_entry_balanced();
DROP FUNCTION ledger_postings_same_tx();
DROP FUNCTION ledger_accounts_guard();
DROP FUNCTION ledger_refuse_change();
