-- +goose Up
-- Liveness record written by the foundation's end-to-end ping workflow: the
-- API starts a workflow, its activity writes here, the API reads it back.
CREATE TABLE pings (
    id          text PRIMARY KEY,
    message     text NOT NULL,
    workflow_id text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE pings;
