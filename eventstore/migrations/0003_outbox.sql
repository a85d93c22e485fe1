-- Reminders and notices to deliver (one row per unit and reminder). A delivery process marks
-- rows sent; the unique key makes a retried activity a no-op.

CREATE TABLE outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedup_key    text        NOT NULL UNIQUE,
    cycle_id     text        NOT NULL,
    stream       text        NOT NULL,
    kind         text        NOT NULL,
    recipient    text        NOT NULL,
    payload      jsonb       NOT NULL,
    due_at       timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    sent_at      timestamptz
);
CREATE INDEX outbox_unsent ON outbox (due_at) WHERE sent_at IS NULL;
