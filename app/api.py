"""The HTTP API: thin routes over the same client and store as the CLI.

Callers authenticate with a bearer token that maps to an actor (`THIDUA_API_TOKENS`, a JSON
object `{"token": "admin" | "auditor" | "<unit id>"}`). A command is sent as the cycle's Temporal
update, with the `Idempotency-Key` header as its request id; rule rejections map to 4xx with the
rule code:

    not_authorized → 403    unknown_cycle → 404    cycle_exists, wrong_stage, … → 409
    a body that does not parse → 422 (FastAPI's field errors)
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.audit import recheck
from domain.commands import Command, StartCycle
from domain.errors import DomainError
from domain.pending import pending_actions
from domain.values import Actor
from eventstore import EventStore
from workflows.messages import CommandResult

from .client import CycleClient

__all__ = ["create_app"]

_STATUS = {"not_authorized": 403, "unknown_cycle": 404}

bearer = HTTPBearer(auto_error=False)


def actor(
    request: Request,
    cred: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    who = request.app.state.tokens.get(cred.credentials) if cred else None
    if who is None:
        raise HTTPException(
            401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    return who  # type: ignore[no-any-return]


Caller = Annotated[Actor, Depends(actor)]


def client(request: Request) -> CycleClient:
    return request.app.state.cycles  # type: ignore[no-any-return]


def events(request: Request) -> EventStore:
    return request.app.state.store  # type: ignore[no-any-return]


Cycles = Annotated[CycleClient, Depends(client)]
Store = Annotated[EventStore, Depends(events)]


def create_app(
    cycles: CycleClient | None = None,
    store: EventStore | None = None,
    tokens: dict[str, Actor] | None = None,
) -> FastAPI:
    """The ASGI app. Without `cycles`/`store`, they are built from Settings at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if cycles is not None and store is not None:
            yield  # wired below, at creation
            return
        from eventstore import create_pool, migrate

        from .connect import connect_temporal
        from .settings import Settings

        settings = Settings()
        client, queue = await connect_temporal(settings)
        pool = await create_pool(settings)
        await migrate(pool)
        app.state.cycles, app.state.store = CycleClient(client, queue), EventStore(pool)
        app.state.tokens = (
            tokens
            if tokens is not None
            else {t: Actor.parse(who) for t, who in settings.api_tokens.items()}
        )
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(
        title="thidua",
        description="Durable, auditable emulation cycles of emulation blocks.",
        lifespan=lifespan,
    )

    if cycles is not None and store is not None:
        app.state.cycles, app.state.store = cycles, store
        app.state.tokens = tokens or {}

    @app.exception_handler(DomainError)
    async def rejected(request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.as_dict(), status_code=_STATUS.get(exc.code, 409))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/cycles", status_code=201)
    async def start(body: StartCycle, who: Caller, cycles: Cycles) -> dict[str, str]:
        """Administrators start a block's yearly cycle."""
        handle = await cycles.start(body, who)
        return {"workflow_id": handle.id, "cycle_id": f"{body.block.id}/{body.year}"}

    @app.post("/cycles/{block}/{year}/commands")
    async def send(
        block: str,
        year: int,
        body: Command,
        who: Caller,
        cycles: Cycles,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> CommandResult:
        """One step of a cycle, judged by the rules. Repeat it with the same Idempotency-Key
        to get the first answer again."""
        return await cycles.send(
            block, year, body, who, request_id=idempotency_key or str(uuid.uuid4())
        )

    @app.get("/cycles/{block}/{year}/state")
    async def state(block: str, year: int, who: Caller, cycles: Cycles) -> Any:
        return (await cycles.state(block, year)).model_dump(mode="json")

    @app.get("/cycles/{block}/{year}/pending")
    async def pending(block: str, year: int, who: Caller, cycles: Cycles) -> Any:
        return await cycles.pending(block, year)

    @app.get("/cycles/{block}/{year}/audit")
    async def audit(
        block: str,
        year: int,
        who: Caller,
        store: Store,
        cycles: Cycles,
        as_of: datetime | None = None,
        to_version: int | None = None,
    ) -> Any:
        """Replay from the event store: the state as of a moment or version, the chain's
        verification, and every decision recomputed."""
        from workflows.messages import cycle_key

        stream = cycle_key(block, year, cycles.prefix)[1]
        replay = await store.replay(stream, to_version=to_version, as_of=as_of)
        if replay.report.events == 0:
            raise DomainError("unknown_cycle", f"no events for {block} {year}")
        return {
            "stream": stream,
            "events": replay.report.events,
            "head_hash": replay.report.head_hash.hex(),
            "problems": [str(p) for p in replay.report.problems],
            "findings": [str(f) for f in recheck(replay.events)],
            "state": replay.state.model_dump(mode="json"),
            "pending": pending_actions(replay.state),
        }

    return app
