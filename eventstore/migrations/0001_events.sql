-- The events table: append-only, one row per event, hash-chained per stream.
--
-- position = (top-level transaction id << 20) | index of the event within its append.
-- Positions therefore grow with the writing transaction's id, which is what makes read_all
-- gap-safe with a snapshot-xmin watermark (see eventstore/store.py, read_all).

CREATE TABLE events (
    position        bigint      PRIMARY KEY,
    stream          text        NOT NULL,
    version         integer     NOT NULL CHECK (version > 0),
    event_id        uuid        NOT NULL,
    type            text        NOT NULL,
    schema_version  integer     NOT NULL,
    data            jsonb       NOT NULL,
    actor           jsonb       NOT NULL,
    effective_at    timestamptz NOT NULL,
    request_id      text,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    hash            bytea       NOT NULL CHECK (octet_length(hash) = 32),
    CONSTRAINT events_stream_version_key UNIQUE (stream, version),
    CONSTRAINT events_event_id_key UNIQUE (event_id)
);

COMMENT ON COLUMN events.position IS
    'global position: (pg_current_xact_id() << 20) | index within the append; sparse, ordered';
COMMENT ON COLUMN events.hash IS
    'sha256(previous hash || canonical JSON of the event); see eventstore/README.md';

-- Append-only: no role may change or remove an event. ENABLE ALWAYS keeps the triggers active
-- even under session_replication_role = replica.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'TH002';
END
$$;

CREATE TRIGGER events_no_update_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();
ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_update_delete;
ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_truncate;

-- One round trip per append. The client sends each event's columns and its canonical bytes
-- (the hashed object, built in Python with domain.codec.canonical_json); the function chains
-- the hashes from the stream's current head and inserts the rows.
--
-- Raises TH001 when the stream is not at p_expected (no row at that version). A row already at
-- p_expected + 1 shows up as a unique violation on (stream, version); a reused event id as a
-- unique violation on event_id. The client sorts these out (idempotent retry or conflict).
CREATE FUNCTION events_append(
    p_stream          text,
    p_expected        integer,
    p_event_ids       uuid[],
    p_types           text[],
    p_schema_versions integer[],
    p_data            text[],
    p_actors          text[],
    p_effective_at    timestamptz[],
    p_request_ids     text[],
    p_bodies          bytea[]
) RETURNS TABLE (out_version integer, out_position bigint, out_recorded_at timestamptz,
                 out_hash bytea)
LANGUAGE plpgsql AS $$
DECLARE
    v_hash bytea;
    v_base bigint;
    v_count integer := cardinality(p_event_ids);
BEGIN
    IF v_count >= 1048576 THEN
        RAISE EXCEPTION 'at most 1048575 events per append' USING ERRCODE = '22023';
    END IF;
    -- The transaction id is taken before anything else; every position of this append is
    -- derived from it (see read_all for why).
    v_base := pg_current_xact_id()::text::bigint << 20;
    IF p_expected = 0 THEN
        v_hash := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
    ELSE
        SELECT e.hash INTO v_hash FROM events e
         WHERE e.stream = p_stream AND e.version = p_expected;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'stream % has no version %', p_stream, p_expected
                USING ERRCODE = 'TH001';
        END IF;
    END IF;
    FOR i IN 1 .. v_count LOOP
        v_hash := sha256(v_hash || p_bodies[i]);
        INSERT INTO events AS e (position, stream, version, event_id, type, schema_version, data,
                                 actor, effective_at, request_id, hash)
        VALUES (v_base + i - 1, p_stream, p_expected + i, p_event_ids[i], p_types[i],
                p_schema_versions[i], p_data[i]::jsonb, p_actors[i]::jsonb, p_effective_at[i],
                p_request_ids[i], v_hash)
        RETURNING e.version, e.position, e.recorded_at, e.hash
             INTO out_version, out_position, out_recorded_at, out_hash;
        RETURN NEXT;
    END LOOP;
END
$$;
