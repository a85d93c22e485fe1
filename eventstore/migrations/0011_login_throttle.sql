-- The login throttle (app/identity/throttle.py): failed password logins counted per login AND
-- per source address, with a delay that grows after five failures in a row. Operational state,
-- like sessions: never events. It replaces `login_failures` (0006), which counted by login
-- alone and locked the login out from everywhere.
--
-- One row per (login, address). A login attempt is counted by one INSERT … ON CONFLICT DO
-- UPDATE before its password is checked (the statement decides and counts; concurrent attempts
-- queue on the row), and a successful login deletes its row.

CREATE TABLE login_throttle (
    login          text        NOT NULL,
    address        text        NOT NULL,
    failures       integer     NOT NULL,
    last_failure   timestamptz NOT NULL,
    delayed_until  timestamptz,
    PRIMARY KEY (login, address)
);
CREATE INDEX login_throttle_last_failure ON login_throttle (last_failure);

DROP TABLE login_failures;
