-- The schema's plpgsql functions run with a fixed search_path.
--
-- They name tables and each other without a schema (events_body_agrees calls
-- events_hashed_object; events_append reads event_position_base …), so they depended on the
-- caller's search_path. pg_restore runs with an empty one: restoring a dump failed with
-- `COPY failed for table "events": function events_hashed_object(...) does not exist`, since the
-- CHECK events_body_matches calls events_body_agrees for every restored row.
--
-- ALTER … SET leaves the functions' sources as they are (eventstore/bodies.py recognises the
-- CHECK by those sources). events_hashed_object, a SQL function that calls only built-ins of
-- pg_catalog (always searched), keeps no setting, so that it may still be inlined.

DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_proc p
          JOIN pg_namespace n ON n.oid = p.pronamespace
          JOIN pg_language l ON l.oid = p.prolang
         WHERE n.nspname = 'public' AND l.lanname = 'plpgsql'
           AND p.proname IN ('events_append_only', 'events_append', 'events_rebase_positions',
                             'events_body_agrees')
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = public, pg_catalog', f);
    END LOOP;
END
$$;
