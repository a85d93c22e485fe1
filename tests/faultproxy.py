"""A TCP proxy between the tests and PostgreSQL that drops connections at statements the test
chooses, so that fault injection does not depend on timing.

It reads PostgreSQL's wire protocol (v3, no TLS: connect with `sslmode=disable`): for each
Execute the client sends, it knows the SQL of the prepared statement being executed (from the
Parse and Bind messages of that connection). A `plan` function sees each statement's SQL and
its number among the statements that matched before, and answers one of:

- `None`: forward as usual;
- `"before"`: drop the connection instead of forwarding the Execute, so the statement never
  runs (the client sees its connection lost);
- `"after"`: forward the Execute and what follows it, then drop the connection when the server
  reports it ready for the next query (ReadyForQuery), without forwarding any of the answer:
  an implicit transaction has committed, and the client never learns it.

Every cut is recorded in `cuts` as (kind, sql) so that a test can assert what happened."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["Cut", "FaultProxy"]

Cut = Literal["before", "after"]
Plan = Callable[[str, int], Cut | None]

_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104


async def _message(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One typed message: (type byte, whole message including type and length)."""
    head = await reader.readexactly(5)
    (length,) = struct.unpack("!I", head[1:])
    return head[:1], head + await reader.readexactly(length - 4)


def _cstrings(payload: bytes, count: int) -> list[str]:
    parts = payload.split(b"\0", count)
    return [p.decode("utf-8", "replace") for p in parts[:count]]


@dataclass
class FaultProxy:
    """Listens on 127.0.0.1 and forwards to the server of `upstream` (a PostgreSQL URL)."""

    upstream: str
    plan: Plan
    match: Callable[[str], bool] = lambda sql: True
    cuts: list[tuple[Cut, str]] = field(default_factory=list)
    matched: int = 0
    _server: asyncio.AbstractServer | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def __aenter__(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        """`upstream` with the proxy's address, without TLS."""
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        parts = urlsplit(self.upstream)
        netloc = parts.netloc.rsplit("@", 1)
        where = f"127.0.0.1:{port}"
        query = {k: v for k, v in parse_qsl(parts.query) if k not in ("host", "port")}
        query["sslmode"] = "disable"
        return urlunsplit(
            parts._replace(
                netloc=f"{netloc[0]}@{where}" if len(netloc) == 2 else where, query=urlencode(query)
            )
        )

    async def _connect_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A TCP address, or a unix socket (`?host=/dir`, as the embedded server's URL)."""
        parts = urlsplit(self.upstream)
        query = dict(parse_qsl(parts.query))
        host = query.get("host") or parts.hostname or "127.0.0.1"
        port = int(query.get("port") or parts.port or 5432)
        if host.startswith("/"):
            return await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
        return await asyncio.open_connection(host, port)

    async def _serve(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        s_writer: asyncio.StreamWriter | None = None
        try:
            s_reader, s_writer = await self._connect_upstream()
            cut_after = asyncio.Event()
            to_server = asyncio.create_task(self._client_to_server(c_reader, s_writer, cut_after))
            to_client = asyncio.create_task(self._server_to_client(s_reader, c_writer, cut_after))
            _, pending = await asyncio.wait(
                (to_server, to_client), return_when=asyncio.FIRST_COMPLETED
            )
            for p in pending:
                p.cancel()
            await asyncio.gather(to_server, to_client, return_exceptions=True)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for w in (c_writer, s_writer):
                if w is not None:
                    w.close()
                    with suppress(Exception):
                        await w.wait_closed()
            self._tasks.discard(task)

    async def _client_to_server(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        cut_after: asyncio.Event,
    ) -> None:
        # the startup message has no type byte; an SSL or GSS request would come first
        while True:
            (length,) = struct.unpack("!I", await reader.readexactly(4))
            body = await reader.readexactly(length - 4)
            writer.write(struct.pack("!I", length) + body)
            await writer.drain()
            code = struct.unpack("!I", body[:4])[0]
            if code in (_SSL_REQUEST, _GSSENC_REQUEST):
                raise AssertionError("connect through the proxy with sslmode=disable")
            break
        statements: dict[str, str] = {}
        portals: dict[str, str] = {}
        while True:
            kind, message = await _message(reader)
            payload = message[5:]
            if kind == b"P":
                name, sql = _cstrings(payload, 2)
                statements[name] = sql
            elif kind == b"B":
                portal, name = _cstrings(payload, 2)
                portals[portal] = statements.get(name, "")
            elif kind == b"E":
                (portal,) = _cstrings(payload, 1)
                sql = portals.get(portal, "")
                if self.match(sql):
                    self.matched += 1
                    decision = self.plan(sql, self.matched)
                    if decision == "before":
                        self.cuts.append(("before", sql))
                        return  # the Execute is never forwarded: the statement does not run
                    if decision == "after":
                        self.cuts.append(("after", sql))
                        cut_after.set()
            writer.write(message)
            await writer.drain()

    async def _server_to_client(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        cut_after: asyncio.Event,
    ) -> None:
        while True:
            kind, message = await _message(reader)
            if cut_after.is_set():
                if kind == b"Z":  # the statement (and its implicit transaction) is done
                    return
                continue  # none of the answer reaches the client
            writer.write(message)
            await writer.drain()
