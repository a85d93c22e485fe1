"""The bare workflow of bench/cycles.py and bench/web.py: the shape of EmulationCycle without
the domain and without PostgreSQL.

Like the real cycle: the start runs one activity under the workflow lock before any update may
proceed; every update has a (trivial) validator, waits until the start is done, then calls one
trivial activity under the same asyncio.Lock; the main coroutine waits until the last update,
then for all handlers to finish, and returns. Same default worker options (sandboxed runner)
and the same pydantic data converter as the real one.

Its second input, `local` (default False), picks how that activity runs: a scheduled activity
(`workflow.execute_activity`, the baseline the benches' named figures such as `cycles_vs_bare`
and `click_vs_bare_update` have always used) or a local activity
(`workflow.execute_local_activity`, run by the workflow's own worker without a round trip
through the server's task queue, the shape the real cycle's append takes behind its patch), with
the same timeout and retry policy. Start it as `start_workflow(BareCycle.run, n, …)` or, local,
`start_workflow(BareCycle.run, args=[n, True], …)`; one worker serves both.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy

__all__ = ["BareCycle", "bare_step"]

_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
)


@activity.defn(name="bare_step")
async def bare_step(n: int) -> int:
    """The trivial activity: no I/O."""
    return n + 1


@workflow.defn(name="BareCycle")
class BareCycle:
    @workflow.init
    def __init__(self, updates: int, local: bool = False) -> None:
        self._updates = updates
        self._local = local
        self._lock = asyncio.Lock()
        self._ready = False
        self._version = 0

    @workflow.run
    async def run(self, updates: int, local: bool = False) -> int:
        async with self._lock:
            self._version = await self._step()
            self._ready = True
        await workflow.wait_condition(lambda: self._version > self._updates)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._version

    @workflow.update(name="step")
    async def step(self, request_id: str) -> int:
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            self._version = await self._step()
            return self._version

    @step.validator
    def validate_step(self, request_id: str) -> None:
        if not request_id:
            raise ValueError("a request id is required")

    async def _step(self) -> int:
        if self._local:
            return await workflow.execute_local_activity(
                bare_step,
                self._version,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=_RETRY,
            )
        return await workflow.execute_activity(
            bare_step,
            self._version,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=_RETRY,
        )
