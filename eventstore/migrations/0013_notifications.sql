-- Notifications by e-mail (app/notify).
--
-- A person's address lives on the person (an `email` in person_created or person_changed);
-- `people` holds it for look-ups.
--
-- A deliverer claims outbox rows with a lease (`claimed_until`, taken under FOR UPDATE SKIP
-- LOCKED), so two workers never work on one row at once and a dead worker's rows come back
-- when the lease runs out (`claimed_by` names the claim, so a worker whose lease ran out stops
-- before it sends anything more of that row). Each message, per (row, person), is recorded in
-- `outbox_deliveries` once the SMTP server accepted it (or refused it for good); a row is
-- `sent_at` when every person of its unit is done.

ALTER TABLE people ADD COLUMN email text;

ALTER TABLE outbox
    ADD COLUMN claimed_until   timestamptz,
    ADD COLUMN claimed_by      text,
    ADD COLUMN attempts        integer NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN last_error      text;

CREATE TABLE outbox_deliveries (
    outbox_id   bigint      NOT NULL REFERENCES outbox (id),
    login       text        NOT NULL,
    email       text        NOT NULL,
    message_id  text        NOT NULL,
    status      text        NOT NULL CHECK (status IN ('sent', 'failed')),
    error       text,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (outbox_id, login)
);
