"""What routes depend on: the services, the caller (put there by the AuthGate), and the
lenient path parameters of a cycle (an id that cannot exist is `unknown_cycle`, 404)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request

from domain.errors import AuthorizationError, DomainError
from domain.values import Actor

from ..bootstrap import Services
from ..client import CycleClient

__all__ = [
    "AUDIT_READERS",
    "Caller",
    "Cycle",
    "CycleRef",
    "Cycles",
    "IdempotencyKey",
    "Svc",
    "auditors_only",
    "caller",
    "idempotency_key",
]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_KEY = re.compile(r"^[A-Za-z0-9._:~-]{1,128}$")


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def cycles(request: Request) -> CycleClient:
    return services(request).cycles


AUDIT_READERS = ("auditor", "admin")
"""Who may read a cycle's whole record (replay, minutes, export, reconciliation, timeline):
auditors and the secretariat."""


def auditors_only(who: Actor, what: str) -> None:
    """Refuse (`not_authorized`) a caller who is not an auditor or the secretariat."""
    if who.kind not in AUDIT_READERS:
        raise AuthorizationError(f"{what} are for auditors and the secretariat")


def caller(request: Request) -> Actor:
    actor = request.scope.get("state", {}).get("actor")
    assert isinstance(actor, Actor), "the AuthGate runs before every protected route"
    return actor


class CycleRef:
    """A cycle named by the path: `/cycles/{block}/{year}`."""

    def __init__(self, block: str, year: int) -> None:
        self.block, self.year = block, year


def cycle_ref(
    block: Annotated[str, Path(description="block id, e.g. kg-khoi-2")],
    year: Annotated[str, Path(description="emulation year, e.g. 2018")],
) -> CycleRef:
    if not _SLUG.match(block) or not year.isascii() or not year.isdigit() or len(year) > 4:
        raise DomainError("unknown_cycle", "no such cycle")
    return CycleRef(block, int(year))


def idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            description="makes a retry safe: the same key with the same command returns the first "
            "answer (duplicate: true); 1–128 of A–Z a–z 0–9 . _ : ~ -",
        ),
    ] = None,
) -> str | None:
    if idempotency_key is not None and not _KEY.match(idempotency_key):
        raise DomainError(
            "invalid_idempotency_key",
            "an Idempotency-Key is 1 to 128 characters of A-Z a-z 0-9 . _ : ~ -",
            "Idempotency-Key",
        )
    return idempotency_key


Svc = Annotated[Services, Depends(services)]
Cycles = Annotated[CycleClient, Depends(cycles)]
Caller = Annotated[Actor, Depends(caller)]
Cycle = Annotated[CycleRef, Depends(cycle_ref)]
IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]


def as_json(model: Any) -> Any:
    return model.model_dump(mode="json")
