-- The `pending` read model (app/readmodels/pending.py): each cycle's folded state, and the
-- actions still expected of each unit with the stage's deadline, for the tasks page.

CREATE TABLE cycle_snapshots (
    stream     text PRIMARY KEY,
    version    integer NOT NULL,
    state      jsonb NOT NULL
);
CREATE TABLE pending_actions (
    stream     text NOT NULL,
    who        text NOT NULL,
    who_name   text NOT NULL,
    action     text NOT NULL,
    subject    text,
    subject_name text NOT NULL,
    block_id   text NOT NULL,
    block_name text NOT NULL,
    year       integer NOT NULL,
    title      text NOT NULL,
    stage      text NOT NULL,
    deadline   timestamptz,
    PRIMARY KEY (stream, who, action, subject)
);
CREATE INDEX pending_actions_who ON pending_actions (who, deadline);
