-- +goose Up
-- Cycles that were released (rejected or cancelled). A close that was still
-- running when its cycle was cancelled must not claim transactions for a
-- cycle that has already ended; it checks here, under the contract lock.
CREATE TABLE released_cycles (
    id          text PRIMARY KEY,
    released_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE released_cycles;
