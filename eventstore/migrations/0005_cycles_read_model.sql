-- The cycles read model grows the columns that lists and pages show, so that no list needs one
-- Temporal query per cycle. It is rebuilt from the events (`thidua projections rebuild`), so
-- the new columns are filled for old cycles by a rebuild; the worker does one at start-up when
-- the read model's version changes.

ALTER TABLE cycles
    ADD COLUMN block_name   text NOT NULL DEFAULT '',
    ADD COLUMN province     text NOT NULL DEFAULT '',
    ADD COLUMN title        text NOT NULL DEFAULT '',
    ADD COLUMN members      integer NOT NULL DEFAULT 0,
    ADD COLUMN deadlines    jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN next_head    text,
    ADD COLUMN next_deputy  text,
    ADD COLUMN started_at   timestamptz;

CREATE INDEX cycles_year_stage ON cycles (year, stage);

-- Which version of each read model's code built its rows: a runner that finds another version
-- rebuilds that read model.
ALTER TABLE projection_checkpoints ADD COLUMN model_version integer NOT NULL DEFAULT 1;
