-- The secret address of each person's deadlines calendar (app/identity/calendar.py): a random
-- token, stored only as its SHA-256 hash; one per person, replaced when rotated.

CREATE TABLE calendar_tokens (
    login       text        PRIMARY KEY,
    token_hash  bytea       NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL
);
