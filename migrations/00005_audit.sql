-- +goose Up
-- Audit trail: one row per state change made through the API, appended in a
-- hash chain so an edit, a deletion or a re-ordering is found by verify.
--   * ids are gapless (taken from the head row, not a sequence), so a row
--     deleted from the middle breaks the link of the next one;
--   * each row stores the previous row's hash and its own hash over
--     (prev_hash, canonical content); the canonical content is the jsonb
--     array built by audit_digest, whose text form PostgreSQL renders the
--     same way every time;
--   * the head row holds the tip, so rows cut off the end are found too;
--   * rows are never updated or deleted (triggers below), and the head moves
--     only inside the insert trigger.
-- A chain kept in the same database cannot stop its owner from rewriting
-- every hash after an edit; publishing the head hash (verify prints it)
-- anchors it outside.

CREATE TABLE audit_log (
    id          bigint PRIMARY KEY CHECK (id > 0),
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    -- The credential used: API key id or "oidc:<subject>".
    actor_key   text NOT NULL DEFAULT '',
    action      text NOT NULL CHECK (action <> ''),
    object_type text NOT NULL,
    object_id   text NOT NULL DEFAULT '',
    before      jsonb,
    after       jsonb,
    request_id  text NOT NULL DEFAULT '',
    prev_hash   bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash        bytea NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id, id);
CREATE INDEX audit_log_at ON audit_log (at, id);

CREATE TABLE audit_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       bigint NOT NULL,
    hash      bytea NOT NULL
);
INSERT INTO audit_head (seq, hash) VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000');

-- The one definition of a row's hash; the insert trigger and verify both
-- call it.
-- +goose StatementBegin
CREATE FUNCTION audit_digest(prev bytea, id bigint, at timestamptz, actor text, actor_key text, action text,
                             object_type text, object_id text, before jsonb, after jsonb, request_id text)
RETURNS bytea LANGUAGE sql STABLE AS $$
    SELECT sha256(prev || convert_to(jsonb_build_array(
        id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), actor, actor_key, action,
        object_type, object_id, before, after, request_id)::text, 'UTF8'))
$$;
-- +goose StatementEnd

-- Before insert: take the head lock (held to commit, so audit writers append
-- one at a time), number the row and link it.
-- +goose StatementBegin
CREATE FUNCTION audit_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s bigint;
    h bytea;
BEGIN
    SELECT seq, hash INTO s, h FROM audit_head WHERE singleton FOR UPDATE;
    NEW.id := s + 1;
    NEW.prev_hash := h;
    NEW.at := COALESCE(NEW.at, now());
    NEW.hash := audit_digest(h, NEW.id, NEW.at, NEW.actor, NEW.actor_key, NEW.action, NEW.object_type,
                             NEW.object_id, NEW.before, NEW.after, NEW.request_id);
    UPDATE audit_head SET seq = NEW.id, hash = NEW.hash WHERE singleton;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_link BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_link();

-- +goose StatementBegin
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit: % on % is refused; the audit trail is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_immutable BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- The head moves only from audit_link (trigger depth 2 when its UPDATE
-- fires this trigger); a direct UPDATE, DELETE or TRUNCATE is refused.
-- +goose StatementBegin
CREATE FUNCTION audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit: the chain head moves only when a row is appended' USING ERRCODE = 'restrict_violation';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_head_guard BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_guard();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- Roles other than the owner never get to change the trail. The owner keeps
-- its privileges (PostgreSQL cannot take them from it), which is why the
-- triggers above are the enforcement; production should run the API as a
-- role that does not own these tables.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, audit_head FROM PUBLIC;

-- +goose Down
DROP TABLE audit_log;
DROP TABLE audit_head;
DROP FUNCTION audit_head_guard();
DROP FUNCTION audit_refuse_change();
DROP FUNCTION audit_link();
DROP FUNCTION audit_digest(bytea, bigint, timestamptz, text, text, text, text, text, jsonb, jsonb, text);
