"""The caller's request id (HTTP `X-Request-ID`) through the workflow to its activities.

The client puts it in a Temporal header (`thidua-request-id`) of the update or the start
(app/logcontext.py); this workflow interceptor keeps it in a context variable of the update's
own task (each update handler runs in a task of its own, so one update's id never reaches
another's activities) and adds it to the headers of the activities that task starts; the
activity interceptor binds it to the activity's log lines. Headers are not part of a workflow's
commands: histories recorded without them replay unchanged.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.worker import (
    ExecuteWorkflowInput,
    HandleUpdateInput,
    StartActivityInput,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowOutboundInterceptor,
)

__all__ = ["HEADER", "RequestIdWorkflowInbound", "decode", "encode"]

HEADER = "thidua-request-id"

_current: ContextVar[Payload | None] = ContextVar("thidua_request_id", default=None)


def encode(request_id: str) -> Payload:
    return Payload(metadata={"encoding": b"binary/plain"}, data=request_id.encode()[:128])


def decode(headers: Any) -> str | None:
    payload = headers.get(HEADER) if headers else None
    if payload is None:
        return None
    try:
        return str(payload.data.decode("utf-8", "replace"))[:128] or None
    except Exception:
        return None


class _Outbound(WorkflowOutboundInterceptor):
    def start_activity(self, input: StartActivityInput) -> Any:
        payload = _current.get()
        if payload is not None:
            input.headers = {**input.headers, HEADER: payload}
        return super().start_activity(input)

    def start_local_activity(self, input: StartLocalActivityInput) -> Any:
        payload = _current.get()
        if payload is not None:
            input.headers = {**input.headers, HEADER: payload}
        return super().start_local_activity(input)


class RequestIdWorkflowInbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_Outbound(outbound))

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        payload = input.headers.get(HEADER) if input.headers else None
        if payload is not None:
            _current.set(payload)  # the start's request id, in the run's main task only
        return await super().execute_workflow(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        payload = input.headers.get(HEADER) if input.headers else None
        _current.set(payload)  # this update's task only
        return await super().handle_update_handler(input)
