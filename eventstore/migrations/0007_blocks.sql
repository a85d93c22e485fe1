-- Read model of blocks across the years (app/readmodels/blocks.py), projected from the block
-- streams (block-{id}) and the provinces' compiled proposals (province-{slug}-{year}). Not
-- append-only: rebuilt from the events at will.

CREATE TABLE blocks (
    stream         text        PRIMARY KEY,
    block_id       text        NOT NULL,
    name           text        NOT NULL,
    province       text        NOT NULL,
    province_slug  text        NOT NULL,
    head           text        NOT NULL,
    deputy         text        NOT NULL,
    version        integer     NOT NULL,
    position       bigint      NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX blocks_province ON blocks (province_slug, block_id);

-- One row per period of membership: a unit that left and joined again has two.
CREATE TABLE block_members (
    stream      text    NOT NULL,
    seq         integer NOT NULL,
    unit        text    NOT NULL,
    name        text    NOT NULL,
    from_year   integer,
    after_year  integer,
    PRIMARY KEY (stream, seq)
);
CREATE INDEX block_members_unit ON block_members (unit);

CREATE TABLE block_leaders (
    stream  text    NOT NULL,
    year    integer NOT NULL,
    head    text    NOT NULL,
    deputy  text    NOT NULL,
    source  text    NOT NULL,
    cycle   text,
    reason  text    NOT NULL DEFAULT '',
    PRIMARY KEY (stream, year)
);

CREATE TABLE province_proposals (
    stream       text        PRIMARY KEY,
    province     text        NOT NULL,
    year         integer     NOT NULL,
    proposals    jsonb       NOT NULL,
    compiled_at  timestamptz NOT NULL
);
