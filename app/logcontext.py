"""structlog context in the worker's activities: every log line written while an activity runs
(ours, the event store's, the standard library's through app/logging.py) carries the cycle id,
the workflow id, the activity, its attempt and the actor, bound from `activity.info()` and the
activity's input by a Temporal interceptor, so that activities/ stays free of logging plumbing.

The input is read for what identifies a step only (a stream name, a cycle id, the actor's kind
and unit); nothing else of it, and no token or password, reaches a log line."""

from __future__ import annotations

import time
from typing import Any

import structlog
from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

__all__ = ["LogContextInterceptor", "activity_context"]

log = structlog.get_logger("thidua.activity")


def _actor(value: Any) -> str | None:
    """`admin`, `unit:so-noi-vu`, … from an Actor or its dict form (no personal name)."""
    if value is None:
        return None
    data = value if isinstance(value, dict) else getattr(value, "__dict__", {})
    kind, unit = data.get("kind"), data.get("unit")
    if kind is None:
        return None
    return f"{kind}:{unit}" if unit else str(kind)


def _cycle_id(workflow_id: str | None, inp: Any) -> str | None:
    cycle_id = getattr(inp, "cycle_id", None)
    if isinstance(cycle_id, str):
        return cycle_id
    # workflows/messages.py cycle_key: "[prefix]cycle:{block}:{year}"
    if workflow_id and "cycle:" in workflow_id:
        block, _, year = workflow_id.split("cycle:", 1)[1].rpartition(":")
        if block and year.isdigit():
            return f"{block}/{year}"
    return None


def activity_context(info: activity.Info, args: tuple[Any, ...]) -> dict[str, Any]:
    """The context bound for one activity execution."""
    inp = args[0] if args else None
    actor = getattr(inp, "actor", None)
    records = getattr(inp, "records", None)
    if actor is None and records:
        actor = getattr(records[0], "actor", None)
    context: dict[str, Any] = {
        "workflow_id": info.workflow_id,
        "cycle_id": _cycle_id(info.workflow_id, inp),
        "activity": info.activity_type,
        "attempt": info.attempt,
        "stream": getattr(inp, "stream", None),
        "actor": _actor(actor),
    }
    return {k: v for k, v in context.items() if v is not None}


class _Inbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        context = activity_context(activity.info(), tuple(input.args))
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(**context):
            try:
                result = await super().execute_activity(input)
            except BaseException as exc:
                log.warning("activity.failed", error=type(exc).__name__,
                            ms=round((time.perf_counter() - started) * 1000, 1))
                raise
            log.debug("activity.done", ms=round((time.perf_counter() - started) * 1000, 1))
            return result


class LogContextInterceptor(Interceptor):
    """Binds `activity_context` around every activity of the worker it is given to."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(super().intercept_activity(next))
