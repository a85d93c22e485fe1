-- Positions after a restore. A position is ((transaction id + xid_offset) << 20) | index. A
-- database restored into a new cluster (pg_dump / pg_restore) keeps its rows, whose positions
-- carry the old cluster's transaction ids, while the new cluster counts ids from a low number
-- again: without an offset, new events would sort below restored ones and tailing readers and
-- projections would skip them. events_rebase_positions() raises the offset so that every new
-- position lies above every stored one; eventstore.migrate() calls it on every run (workers
-- migrate at start-up), so a restored database heals before anything writes. The offset never
-- changes otherwise, and read_all adds the same constant to its xmin watermark, so the
-- gap-safety argument is unchanged.

CREATE TABLE event_position_base (
    only_row    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    xid_offset  bigint  NOT NULL DEFAULT 0
);
INSERT INTO event_position_base DEFAULT VALUES;

CREATE FUNCTION events_rebase_positions() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_offset bigint;
    v_needed bigint;
BEGIN
    SELECT xid_offset INTO v_offset FROM event_position_base FOR UPDATE;
    SELECT COALESCE(max(position >> 20) + 1, 0) - pg_current_xact_id()::text::bigint
      INTO v_needed FROM events;
    IF v_needed > v_offset THEN
        UPDATE event_position_base SET xid_offset = v_needed;
        RETURN v_needed;
    END IF;
    RETURN v_offset;
END
$$;

CREATE OR REPLACE FUNCTION events_append(
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
    v_base := (pg_current_xact_id()::text::bigint
               + (SELECT b.xid_offset FROM event_position_base b)) << 20;
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
