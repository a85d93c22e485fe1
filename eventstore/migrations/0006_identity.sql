-- People, their credentials, web sessions and API tokens (app/identity).
--
-- `people` is a read model of the `person-{login}` streams in `events` (rebuilt from them at
-- will). The other tables hold secrets and access state that never go into the event log:
-- only hashes are stored (argon2id for passwords, SHA-256 for session ids and API tokens).

CREATE TABLE people (
    login       text        PRIMARY KEY,
    name        text        NOT NULL,
    position    text,
    role        text        NOT NULL CHECK (role IN ('admin', 'unit', 'auditor')),
    unit        text,
    active      boolean     NOT NULL,
    version     integer     NOT NULL,
    position_in_log bigint  NOT NULL,
    updated_at  timestamptz NOT NULL,
    CHECK ((role = 'unit') = (unit IS NOT NULL))
);
CREATE INDEX people_unit ON people (unit);

CREATE TABLE person_passwords (
    login          text        PRIMARY KEY,
    password_hash  text        NOT NULL,
    set_at         timestamptz NOT NULL
);

-- Failed logins by login name, whether or not a person has that login (so the lock-out does
-- not tell which logins exist).
CREATE TABLE login_failures (
    login         text        PRIMARY KEY,
    failures      integer     NOT NULL,
    last_failure  timestamptz NOT NULL,
    locked_until  timestamptz
);

CREATE TABLE sessions (
    id_hash      bytea       PRIMARY KEY,
    login        text        NOT NULL,
    csrf_hash    bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    ended_at     timestamptz
);
CREATE INDEX sessions_login ON sessions (login) WHERE ended_at IS NULL;

CREATE TABLE api_tokens (
    id            uuid        PRIMARY KEY,
    login         text        NOT NULL,
    name          text        NOT NULL,
    token_hash    bytea       NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_tokens_login ON api_tokens (login);
