"""The rules, one module per stage in DOMAIN.md's order; each handler is named as its command.

A handler `name(x, cmd)` judges one command in the context `x` (state, actor, time, ids) and
returns the events it produces, or raises a DomainError: who may (`not_authorized`), then the
stage (`wrong_stage`), then the command's own rules.
"""

from __future__ import annotations

from types import ModuleType

from . import admin, discipline, election, pledge, review, scoring, vote
from .context import Ctx, Handler

__all__ = ["HANDLERS", "STAGE_MODULES", "Ctx", "Handler"]

STAGE_MODULES: tuple[ModuleType, ...] = (
    admin, pledge, scoring, review, discipline, vote, election,
)  # fmt: skip

HANDLERS: dict[str, Handler] = {
    handler.__name__: handler
    for module in STAGE_MODULES
    for handler in module.HANDLERS
}  # fmt: skip
"""`{command name (its "do"): handler}`."""
