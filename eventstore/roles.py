"""Least privilege: the service runs as a role that cannot rewrite history.

Three roles (see eventstore/README.md, "Roles"):

* the owner (`thidua_owner`, NOLOGIN unless given a password) owns every table, sequence and
  function of the schema and runs the migrations;
* the service (`thidua_app`, LOGIN) may SELECT and INSERT on `events` — no UPDATE, DELETE,
  TRUNCATE, no REFERENCES/TRIGGER — and, since it is not the owner, it cannot disable the
  append-only triggers or drop the CHECK on the bodies. On every other table (outbox, read
  models, projection checkpoints, identity tables, …) it has full DML, except
  `schema_migrations` and `event_position_base` (read only). It may execute the functions
  (events_append, …). `ALTER DEFAULT PRIVILEGES` gives it the same DML on tables that later
  migrations create (as the owner, or as the role that called ensure_roles);
* the auditor (`thidua_auditor`, LOGIN) may only read: SELECT on every table and sequence
  (events, read models, …), now and on later tables; it writes nothing.

`ensure_roles` is idempotent: call it with a superuser (or owner with CREATEROLE) connection
after `migrate`, at every bootstrap. The service's password is sent to the server as a
SCRAM-SHA-256 verifier computed here, never in clear text. A role given no password keeps the
one it has.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from urllib.parse import quote, urlsplit, urlunsplit

from .errors import translate_errors
from .records import Conn

__all__ = [
    "DEFAULT_AUDITOR",
    "DEFAULT_OWNER",
    "DEFAULT_SERVICE",
    "ensure_roles",
    "scram_verifier",
    "service_url",
]

DEFAULT_OWNER = "thidua_owner"
DEFAULT_SERVICE = "thidua_app"
DEFAULT_AUDITOR = "thidua_auditor"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_READ_ONLY = ("schema_migrations", "event_position_base")


def scram_verifier(password: str, *, iterations: int = 4096, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677): sending it
    in CREATE/ALTER ROLE … PASSWORD keeps the clear password out of the server's logs."""
    salt = salt if salt is not None else os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}"
        f"${b64(stored_key).decode()}:{b64(server_key).decode()}"
    )


def service_url(url: str, service: str, password: str | None) -> str:
    """`url` with the service role (and its password) as the user."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    auth = quote(service, safe="") + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{auth}@{host}"))


def _ident(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"invalid_role_name: {name!r} (lower-case letters, digits, '_')")
    return f'"{name}"'


async def _ensure_role(conn: Conn, name: str, password: str | None, *, login: bool) -> None:
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name)
    verb = "ALTER" if exists else "CREATE"
    options = ("LOGIN" if login else "NOLOGIN") + (
        " NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
    )
    await conn.execute(f"{verb} ROLE {_ident(name)} {options}")
    if password is not None:
        verifier = scram_verifier(password).replace("'", "''")
        await conn.execute(f"ALTER ROLE {_ident(name)} PASSWORD '{verifier}'")


async def ensure_roles(
    conn: Conn,
    *,
    owner: str = DEFAULT_OWNER,
    service: str = DEFAULT_SERVICE,
    auditor: str = DEFAULT_AUDITOR,
    password: str | None = None,
    owner_password: str | None = None,
    auditor_password: str | None = None,
    url: str | None = None,
    schema: str = "public",
) -> str | None:
    """Create (or update) the owner, service and auditor roles, hand the schema's objects to
    the owner and grant the service and the auditor what they may do. Returns the service's URL
    when `url` (the URL this connection was made with) is given."""
    o, s, a, sc = _ident(owner), _ident(service), _ident(auditor), _ident(schema)
    with translate_errors():
        async with conn.transaction():
            owner_login = owner_password is not None or bool(
                await conn.fetchval("SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", owner)
            )
            await _ensure_role(conn, owner, owner_password, login=owner_login)
            await _ensure_role(conn, service, password, login=True)
            await _ensure_role(conn, auditor, auditor_password, login=True)
            me = await conn.fetchval("SELECT current_user")
            if me != owner and not await conn.fetchval(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            ):
                await conn.execute(f"GRANT {o} TO {_ident(me)}")  # to hand objects to it
            # the service must not inherit the owner's rights
            await conn.execute(f"REVOKE {o} FROM {s}, {a}")
            await conn.execute(f"GRANT USAGE ON SCHEMA {sc} TO {s}, {a}")
            await conn.execute(f"GRANT USAGE, CREATE ON SCHEMA {sc} TO {o}")
            await conn.execute(f"REVOKE CREATE ON SCHEMA {sc} FROM PUBLIC, {s}, {a}")
            for kind, sql in (
                (
                    "TABLE",
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid ="
                    " c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v',"
                    " 'm') AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = $2)",
                ),
                (
                    "SEQUENCE",
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid ="
                    " c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'S' AND"
                    " c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = $2)"
                    " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid"
                    " AND d.deptype IN ('a', 'i'))",
                ),
            ):
                for (name,) in await conn.fetch(sql, schema, owner):
                    await conn.execute(f'ALTER {kind} {sc}."{name}" OWNER TO {o}')
            for (sig,) in await conn.fetch(
                "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid ="
                " p.pronamespace WHERE n.nspname = $1 AND p.proowner <> (SELECT oid FROM"
                " pg_roles WHERE rolname = $2)",
                schema,
                owner,
            ):
                await conn.execute(f"ALTER ROUTINE {sig} OWNER TO {o}")
            await conn.execute(
                f"GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA {sc} TO {s};"
                f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {sc} TO {s};"
                f"GRANT EXECUTE ON ALL ROUTINES IN SCHEMA {sc} TO {s};"
                f"REVOKE ALL ON ALL TABLES IN SCHEMA {sc} FROM {a};"
                f"GRANT SELECT ON ALL TABLES IN SCHEMA {sc} TO {a};"
                f"GRANT SELECT ON ALL SEQUENCES IN SCHEMA {sc} TO {a};"
            )
            for creator in dict.fromkeys((owner, me)):
                c = _ident(creator)
                await conn.execute(
                    f"ALTER DEFAULT PRIVILEGES FOR ROLE {c} IN SCHEMA {sc}"
                    f" GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES TO {s};"
                    f"ALTER DEFAULT PRIVILEGES FOR ROLE {c} IN SCHEMA {sc}"
                    f" GRANT USAGE, SELECT ON SEQUENCES TO {s};"
                    f"ALTER DEFAULT PRIVILEGES FOR ROLE {c} IN SCHEMA {sc}"
                    f" GRANT EXECUTE ON ROUTINES TO {s};"
                    f"ALTER DEFAULT PRIVILEGES FOR ROLE {c} IN SCHEMA {sc}"
                    f" GRANT SELECT ON TABLES TO {a};"
                    f"ALTER DEFAULT PRIVILEGES FOR ROLE {c} IN SCHEMA {sc}"
                    f" GRANT SELECT ON SEQUENCES TO {a};"
                )
            # history is append-only for the service, whatever the defaults say
            if await conn.fetchval("SELECT to_regclass($1)", f"{schema}.events"):
                await conn.execute(
                    f"REVOKE ALL ON {sc}.events FROM {s}, {a}, PUBLIC;"
                    f"GRANT SELECT, INSERT ON {sc}.events TO {s};"
                    f"GRANT SELECT ON {sc}.events TO {a}"
                )
            for table in _READ_ONLY:
                if await conn.fetchval("SELECT to_regclass($1)", f"{schema}.{table}"):
                    await conn.execute(
                        f'REVOKE ALL ON {sc}."{table}" FROM {s}, {a}, PUBLIC;'
                        f'GRANT SELECT ON {sc}."{table}" TO {s}, {a}'
                    )
    return service_url(url, service, password) if url is not None else None
