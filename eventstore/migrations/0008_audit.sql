-- Auditors' pack: every event keeps the exact bytes its hash covers.
--
-- `body` is the canonical JSON of the hashed object H(v) (see eventstore/README.md), as the
-- appender computed it: hash(v) = sha256(hash(v-1) || body). Verification and replay hash these
-- stored bytes instead of re-serialising the columns. The CHECK keeps the body and the columns
-- the same event: a row whose body says something else than its columns cannot be inserted or
-- updated. Rows written before this migration have no body (NULL): readers rebuild it from the
-- columns (the recipe is unchanged), and so do they whenever the CHECK is missing or not
-- validated (eventstore/bodies.py), so dropping it to change a column does not hide the change.

ALTER TABLE events ADD COLUMN body bytea;

CREATE FUNCTION events_hashed_object(
    p_stream text, p_version integer, p_event_id uuid, p_type text, p_schema_version integer,
    p_data jsonb, p_actor jsonb, p_effective_at timestamptz, p_request_id text
) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object(
        'actor', p_actor, 'data', p_data,
        'effective_at', to_char(p_effective_at AT TIME ZONE 'UTC',
                                'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
        'event_id', p_event_id::text, 'request_id', p_request_id,
        'schema_version', p_schema_version, 'stream', p_stream, 'type', p_type,
        'version', p_version)
$$;

ALTER TABLE events ADD CONSTRAINT events_body_matches CHECK (
    body IS NULL
    OR convert_from(body, 'UTF8')::jsonb = events_hashed_object(
        stream, version, event_id, type, schema_version, data, actor, effective_at, request_id)
);

COMMENT ON COLUMN events.body IS
    'the canonical JSON bytes the hash covers: hash = sha256(previous hash || body)';

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
                                 actor, effective_at, request_id, hash, body)
        VALUES (v_base + i - 1, p_stream, p_expected + i, p_event_ids[i], p_types[i],
                p_schema_versions[i], p_data[i]::jsonb, p_actors[i]::jsonb, p_effective_at[i],
                p_request_ids[i], v_hash, p_bodies[i])
        RETURNING e.version, e.position, e.recorded_at, e.hash
             INTO out_version, out_position, out_recorded_at, out_hash;
        RETURN NEXT;
    END LOOP;
END
$$;
