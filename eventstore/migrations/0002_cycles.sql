-- Read model of cycles, built by eventstore.projector from read_all. Not append-only: it is
-- rebuilt from the events at will.

CREATE TABLE cycles (
    stream        text        PRIMARY KEY,
    block_id      text        NOT NULL,
    year          integer     NOT NULL,
    stage         text        NOT NULL,
    head          text,
    deputy        text,
    leading_unit  text,
    updated_at    timestamptz NOT NULL,
    version       integer     NOT NULL,
    position      bigint      NOT NULL
);
CREATE INDEX cycles_block_year ON cycles (block_id, year);

CREATE TABLE projection_checkpoints (
    name      text   PRIMARY KEY,
    position  bigint NOT NULL
);
