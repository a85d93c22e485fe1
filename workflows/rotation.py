"""The rotation takes effect: when a cycle completes, the head and deputy it elected (or the
secretariat appointed) become the block's leaders for the next year — one activity appending
LeadersSet to the block's stream, its event id derived from the cycle's stream so that it is
written exactly once however often the activity runs."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.state import CycleState

    from .names import SET_BLOCK_LEADERS
    from .year_messages import BlockLeadersInput

__all__ = ["PATCH", "rotate"]

PATCH = "block-rotation"
"""The patch id guarding the step: recorded histories without it replay unchanged."""

# No error is final here: the block's record must get the leaders; the activity re-judges on
# the stream's current version when another writer moved it.
_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)


async def rotate(state: CycleState, cycle_stream: str, block_stream: str) -> None:
    if state.year is None or state.next_head is None or state.next_deputy is None:
        return
    assert state.last_at is not None
    await workflow.execute_activity(
        SET_BLOCK_LEADERS,
        BlockLeadersInput(
            block_stream=block_stream,
            cycle_stream=cycle_stream,
            year=state.year + 1,
            head=state.next_head,
            deputy=state.next_deputy,
            at=state.last_at,
        ),
        start_to_close_timeout=timedelta(seconds=10),
        retry_policy=_RETRY,
        result_type=bool,
    )
