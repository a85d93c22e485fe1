"""ProvinceYear: a province opens its emulation year.

One workflow per province and year (`year:{province}:{year}`). It plans the cycle of every
registered block of the province (that year's members and leaders), starts each as a child
EmulationCycle — one cycle per block and year still holds: a cycle that already exists is not
started again but waited for — and, when every cycle has completed or been cancelled, compiles
the province's list of proposals (one event in `province-{slug}-{year}`).

Children are abandoned when the year's workflow closes (a cycle outlives its opener), and their
ids are the cycles' own, so a worker killed while the year is being opened neither loses a
start (the new worker replays the history and goes on) nor duplicates one (Temporal refuses a
second workflow with the same id).
"""

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ChildWorkflowError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from domain.province import ProvinceProposals, province_stream
    from domain.values import Actor

    from .cycle import EmulationCycle
    from .messages import CycleInput, CycleResult
    from .names import COMPILE_PROPOSALS, CYCLE_STAGE, PLAN_YEAR
    from .year_messages import (
        CompileInput,
        CycleStatusInput,
        PlanInput,
        PlannedCycle,
        YearInput,
        YearPlan,
        YearProgress,
        YearResult,
    )

__all__ = ["ProvinceYear"]

_TIMEOUT = timedelta(seconds=30)
_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
)


@workflow.defn
class ProvinceYear:
    def __init__(self) -> None:
        self._progress = YearProgress()

    @workflow.query
    def progress(self) -> YearProgress:
        return self._progress

    @workflow.run
    async def run(self, inp: YearInput) -> YearResult:
        plan = await workflow.execute_activity(
            PLAN_YEAR,
            PlanInput(
                province=inp.province,
                year=inp.year,
                ruleset=inp.ruleset,
                score_sheet=inp.score_sheet,
                deadlines=inp.deadlines,
                prefix=inp.prefix,
            ),
            start_to_close_timeout=_TIMEOUT,
            retry_policy=_RETRY,
            result_type=YearPlan,
        )
        p = self._progress
        p.total = len(plan.cycles)
        for c in plan.cycles:
            p.cycles[c.block_id] = "planned"
            if c.error is not None:
                p.cycles[c.block_id] = "skipped"
                p.errors[c.block_id] = c.error

        # every child is started in the same workflow task: one round trip for the whole
        # province, not one per block
        planned = [c for c in plan.cycles if c.start is not None]
        waits = await asyncio.gather(*(self._start(c, inp) for c in planned))
        started = [c.block_id for c in planned if p.cycles[c.block_id] == "started"]
        existing = [c.block_id for c in planned if p.cycles[c.block_id] == "existing"]
        p.opened = True

        await asyncio.gather(*waits)
        closed = [c for c in plan.cycles if p.cycles[c.block_id] in ("completed", "cancelled")]
        stream = province_stream(inp.province, inp.year, inp.prefix)
        proposals = await workflow.execute_activity(
            COMPILE_PROPOSALS,
            CompileInput(
                province=inp.province,
                year=inp.year,
                stream=stream,
                cycle_streams=[c.stream for c in closed],
                event_id=str(workflow.uuid4()),
                at=workflow.now(),
            ),
            start_to_close_timeout=_TIMEOUT,
            retry_policy=_RETRY,
            result_type=ProvinceProposals,
        )
        p.compiled = True
        return YearResult(
            province=inp.province,
            year=inp.year,
            started=started,
            existing=existing,
            skipped=dict(p.errors),
            proposals=proposals,
        )

    async def _start(self, c: PlannedCycle, inp: YearInput) -> Any:
        """Start the block's cycle as a child; the coroutine that waits for it to close."""
        assert c.start is not None
        try:
            child = await workflow.start_child_workflow(  # type: ignore[call-overload]
                EmulationCycle.run,
                CycleInput(
                    start=c.start,
                    actor=Actor.admin(),
                    request_id=f"start:{c.workflow_id}",
                    stream=c.stream,
                    enforce_past_deadlines=inp.enforce_past_deadlines,
                    block_stream=c.block_stream,
                ),
                id=c.workflow_id,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                result_type=CycleResult,
            )
        except WorkflowAlreadyStartedError:
            self._progress.cycles[c.block_id] = "existing"
            return self._wait_existing(c, inp.poll_seconds)
        self._progress.cycles[c.block_id] = "started"
        return self._wait_child(c, child)

    async def _wait_child(self, c: PlannedCycle, child: Any) -> None:
        try:
            result: CycleResult = await child
        except ChildWorkflowError as err:
            self._progress.cycles[c.block_id] = "failed"
            self._progress.errors[c.block_id] = {
                "code": "cycle_failed",
                "message": str(err.cause or err),
            }
            return
        self._progress.cycles[c.block_id] = (
            "completed" if result.stage == "completed" else "cancelled"
        )

    async def _wait_existing(self, c: PlannedCycle, poll_seconds: float) -> None:
        # A cycle started before this opening is not our child: its stream says when it closed.
        while True:
            stage = await workflow.execute_activity(
                CYCLE_STAGE,
                CycleStatusInput(stream=c.stream),
                start_to_close_timeout=_TIMEOUT,
                retry_policy=_RETRY,
                result_type=str,
            )
            if stage in ("completed", "cancelled"):
                self._progress.cycles[c.block_id] = stage
                return
            await workflow.sleep(timedelta(seconds=poll_seconds))
