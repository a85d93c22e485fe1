-- The CHECK `events_body_matches` of 0008, same rule, cheaper on every append.
--
-- 0008 wrote the rule as an expression that calls the SQL function events_hashed_object.
-- PostgreSQL prepares a table's CHECK expressions again for every INSERT statement: it reads the
-- stored expression and inlines the SQL function, which parses and analyses the function's text
-- each time. For a one-row append that preparation cost about as much as the whole insert (about
-- 50 µs of server time per event on the 2-core machine of bench/eventstore.py). A plpgsql
-- function keeps its plan for the life of the connection, so the CHECK below is prepared as one
-- function call; the comparison itself is unchanged: the body, parsed as JSON, equals the object
-- built from the columns by events_hashed_object (one recipe, defined in 0008).
--
-- eventstore/bodies.py trusts the stored bodies only while this CHECK is in place and validated,
-- calls this function, and both functions' sources are the ones in 0008 and here.

CREATE FUNCTION events_body_agrees(
    p_body bytea, p_stream text, p_version integer, p_event_id uuid, p_type text,
    p_schema_version integer, p_data jsonb, p_actor jsonb, p_effective_at timestamptz,
    p_request_id text
) RETURNS boolean LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    -- never NULL: a CHECK lets NULL through
    RETURN p_body IS NULL OR coalesce(convert_from(p_body, 'UTF8')::jsonb = events_hashed_object(
        p_stream, p_version, p_event_id, p_type, p_schema_version, p_data, p_actor,
        p_effective_at, p_request_id), false);
END
$$;

ALTER TABLE events
    DROP CONSTRAINT events_body_matches,
    ADD CONSTRAINT events_body_matches CHECK (events_body_agrees(
        body, stream, version, event_id, type, schema_version, data, actor, effective_at,
        request_id));
