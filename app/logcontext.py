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
from temporalio import client as tclient
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from workflows.requestid import HEADER, RequestIdWorkflowInbound, decode, encode

__all__ = ["LogContextInterceptor", "RequestIdClient", "activity_context", "client_interceptors"]

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


def activity_context(
    info: activity.Info, args: tuple[Any, ...], headers: Any = None
) -> dict[str, Any]:
    """The context bound for one activity execution: the cycle, the activity, the actor, the
    caller's request id (X-Request-ID, from the activity's headers) and the commands' request
    ids (from the records it appends)."""
    inp = args[0] if args else None
    actor = getattr(inp, "actor", None)
    records = getattr(inp, "records", None)
    if actor is None and records:
        actor = getattr(records[0], "actor", None)
    commands = sorted({r.request_id for r in records or () if getattr(r, "request_id", None)})
    context: dict[str, Any] = {
        "request_id": decode(headers),
        "command_request_ids": commands[:20] or None,
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
        from .metrics import ACTIVITIES, ACTIVITY_FAILURES

        info = activity.info()
        context = activity_context(info, tuple(input.args), input.headers)
        started = time.perf_counter()
        # only this activity's context: nothing bound by whatever started the worker's task,
        # nor by another cycle's activity, reaches these lines (and it is gone afterwards)
        structlog.contextvars.clear_contextvars()
        with structlog.contextvars.bound_contextvars(**context):
            try:
                result = await super().execute_activity(input)
            except BaseException as exc:
                ACTIVITIES.labels(info.activity_type, "failed").inc()
                ACTIVITY_FAILURES.labels(info.activity_type, type(exc).__name__).inc()
                log.warning(
                    "activity.failed",
                    error=type(exc).__name__,
                    ms=round((time.perf_counter() - started) * 1000, 1),
                )
                raise
            ACTIVITIES.labels(info.activity_type, "ok").inc()
            log.info("activity.done", ms=round((time.perf_counter() - started) * 1000, 1))
            return result


class LogContextInterceptor(Interceptor):
    """Binds `activity_context` around every activity of the worker it is given to, and
    carries the request id from a workflow's updates to the activities they start."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(super().intercept_activity(next))

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return RequestIdWorkflowInbound


def _with_request_id(headers: Any) -> Any:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if not request_id:
        return headers
    return {**(headers or {}), HEADER: encode(str(request_id))}


class _ClientOutbound(tclient.OutboundInterceptor):
    async def start_workflow(self, input: tclient.StartWorkflowInput) -> Any:
        input.headers = _with_request_id(input.headers)
        return await super().start_workflow(input)

    async def start_workflow_update(self, input: tclient.StartWorkflowUpdateInput) -> Any:
        input.headers = _with_request_id(input.headers)
        return await super().start_workflow_update(input)


class RequestIdClient(tclient.Interceptor):
    """Puts the request id bound in the log context (the HTTP request's) in the headers of the
    workflows and updates this client starts."""

    def intercept_client(self, next: tclient.OutboundInterceptor) -> tclient.OutboundInterceptor:
        return _ClientOutbound(super().intercept_client(next))


def client_interceptors() -> list[tclient.Interceptor]:
    """The interceptors of every Temporal client of thidua: the request id, and OpenTelemetry's
    when tracing is on (app/tracing.py)."""
    from .tracing import temporal_interceptors

    return [RequestIdClient(), *temporal_interceptors()]
