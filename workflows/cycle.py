"""EmulationCycle: one durable workflow per block and year.

Every command is a Temporal Update named as in the scenario format (`sign_pledge`, …). Its
validator asks the domain, so a rejection leaves no trace in any history. Handlers serialise on
one lock: decide → append through an activity (event ids made here, so a retried append is a
no-op) → fold → return the accepted events. The main coroutine sleeps on durable timers until the
next deadline or reminder and turns a passed deadline into its own event.
"""

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.codec import to_record
    from domain.commands import COMMAND_NAMES, ExpireDeadline
    from domain.decide import decide, validate
    from domain.errors import DomainError
    from domain.events import Event
    from domain.pending import pending_actions, reminders
    from domain.setup import DEADLINE_STAGES
    from domain.state import CycleState, fold, fold_into
    from domain.values import Actor

    from . import rotation
    from .messages import (
        AppendInput,
        AppendResult,
        CommandRequest,
        CommandResult,
        CycleInput,
        CycleResult,
        ReminderInput,
    )

__all__ = ["APPEND_RETRY", "COMMANDS", "EmulationCycle"]

# An append is one round trip; a worker that dies during one is noticed after this and the
# append retried elsewhere (a no-op when it had committed: the event ids are the same).
APPEND_TIMEOUT = timedelta(seconds=10)

APPEND_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    non_retryable_error_types=["WrongExpectedVersion", "EventIdConflict"],
)

# Every command of the scenario format is an update of its own name; the start comes with the
# workflow's input and deadlines come from its timers.
COMMANDS = tuple(n for n in COMMAND_NAMES if n not in ("start_cycle", "expire_deadline"))


def _deadline_key(stage: str, deadline: Any) -> str:
    return f"{stage}:{deadline.isoformat()}"


def _rejected(err: DomainError) -> ApplicationError:
    return ApplicationError(err.message, err.as_dict(), type=err.code, non_retryable=True)


def _command_update(name: str) -> Any:
    """One named update (and its validator) for one command of the scenario format."""

    async def handler(self, req: CommandRequest) -> CommandResult:  # type: ignore[no-untyped-def]
        return await self._handle(req)

    def validator(self, req: CommandRequest) -> None:  # type: ignore[no-untyped-def]
        self._validate(name, req)

    handler.__name__ = handler.__qualname__ = name
    validator.__name__ = validator.__qualname__ = f"validate_{name}"
    update = workflow.update(name=name)(handler)
    update.validator(validator)
    return update


class EmulationCycle:
    @workflow.init
    def __init__(self, inp: CycleInput) -> None:
        # The start is decided here, so validators see a started cycle from the first task;
        # run() appends it before any handler may proceed.
        self._stream = inp.stream
        self._enforce_from = (
            workflow.now().replace(year=1) if inp.enforce_past_deadlines else workflow.now()
        )
        self._lock = asyncio.Lock()
        self._sent: set[str] = set()
        self._given_up: set[str] = set()
        self._log: list[Event] = []
        self._ready = False
        empty = CycleState()
        try:
            self._start_events = decide(
                empty, inp.start, inp.actor, now=workflow.now(), ids=workflow.uuid4,
                request_id=inp.request_id,
            )
        except DomainError as err:
            self._start_error: DomainError | None = err
            self._start_events = []
        else:
            self._start_error = None
        self._state = fold(self._start_events, empty)

    # ---- queries ---------------------------------------------------------------------------

    @workflow.query
    def state(self) -> CycleState:
        return self._state

    @workflow.query
    def pending(self) -> dict[str, list[str]]:
        return pending_actions(self._state)

    @workflow.query
    def events(self) -> list[Event]:
        return self._log

    # ---- the main coroutine ----------------------------------------------------------------

    @workflow.run
    async def run(self, inp: CycleInput) -> CycleResult:
        if self._start_error is not None:
            raise _rejected(self._start_error)
        async with self._lock:
            await self._append(self._start_events, expected_version=0)
            self._log.extend(self._start_events)
            self._ready = True
        while not self._state.is_closed:
            wake = self._next_wake()
            seen = self._state.version
            if wake is None:
                await workflow.wait_condition(lambda seen=seen: self._state.version != seen)
                continue
            delay = (wake - workflow.now()).total_seconds()
            if delay > 0:
                try:
                    await workflow.wait_condition(
                        lambda seen=seen: self._state.version != seen, timeout=timedelta(seconds=delay)
                    )
                    continue
                except TimeoutError:
                    pass
            await self._on_time()
        await workflow.wait_condition(workflow.all_handlers_finished)
        s = self._state
        if s.stage == "completed" and inp.block_stream and workflow.patched(rotation.PATCH):
            await rotation.rotate(s, self._stream, inp.block_stream)
        return CycleResult(
            cycle_id=s.cycle_id or "", stream=self._stream, stage=s.stage, version=s.version,
            outcome=s.outcome,
        )

    def _deadline_due(self) -> Any:
        s = self._state
        if s.stage not in DEADLINE_STAGES or s.stage in s.missed:
            return None
        deadline = s.deadlines.get(s.stage)
        if deadline is None or deadline <= self._enforce_from:
            return None
        if _deadline_key(s.stage, deadline) in self._given_up:
            return None
        return deadline

    def _due_reminders(self) -> list[Any]:
        return [
            r for r in reminders(self._state)
            if r.due > self._enforce_from and self._reminder_key(r) not in self._sent
        ]

    @staticmethod
    def _reminder_key(r: Any) -> str:
        return f"{_deadline_key(r.stage, r.deadline)}:{r.days_before}"

    def _next_wake(self) -> Any:
        times = [r.due for r in self._due_reminders() if r.stage == self._state.stage]
        deadline = self._deadline_due()
        if deadline is not None:
            times.append(deadline)
        return min(times) if times else None

    async def _on_time(self) -> None:
        now = workflow.now()
        async with self._lock:
            for r in self._due_reminders():
                if r.due <= now and r.stage == self._state.stage:
                    self._sent.add(self._reminder_key(r))
                    units = {
                        u: acts for u, acts in pending_actions(self._state).items()
                        if u in self._state.members
                    }
                    if units:
                        await workflow.execute_activity(
                            "write_reminders",
                            ReminderInput(
                                cycle_id=self._state.cycle_id or "", stream=self._stream,
                                reminder=r, units=units, created_at=now,
                            ),
                            start_to_close_timeout=APPEND_TIMEOUT,
                            retry_policy=APPEND_RETRY,
                            result_type=int,
                        )
            deadline = self._deadline_due()
            if deadline is not None and deadline <= now:
                stage = self._state.stage
                try:
                    events = decide(
                        self._state, ExpireDeadline(stage=stage), Actor.system(), now=now,
                        ids=workflow.uuid4, request_id=f"deadline:{_deadline_key(stage, deadline)}",
                    )
                except DomainError as err:  # should not happen; never spin on it
                    workflow.logger.warning("deadline of %s not applied: %s", stage, err)
                    self._given_up.add(_deadline_key(stage, deadline))
                    return
                await self._commit(events)
                workflow.logger.info("deadline of %s passed", stage)

    # ---- commands --------------------------------------------------------------------------

    def _validate(self, name: str, req: CommandRequest) -> None:
        if req.command.do != name:
            raise ApplicationError(
                f"update {name!r} carries a {req.command.do!r} command", type="wrong_update",
                non_retryable=True,
            )
        if req.request_id in self._state.requests:
            return  # a repeated request: the handler returns the first answer
        try:
            validate(self._state, req.command, req.actor, now=workflow.now())
        except DomainError as err:
            raise _rejected(err) from None

    async def _handle(self, req: CommandRequest) -> CommandResult:
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            earlier = self._state.requests.get(req.request_id)
            if earlier is not None:
                return CommandResult(
                    events=[self._log[v - 1] for v in earlier], version=self._state.version,
                    stage=self._state.stage, duplicate=True,
                )
            try:
                events = decide(
                    self._state, req.command, req.actor, now=workflow.now(), ids=workflow.uuid4,
                    request_id=req.request_id,
                )
            except DomainError as err:
                raise _rejected(err) from None
            await self._commit(events)
            return CommandResult(events=events, version=self._state.version, stage=self._state.stage)

    async def _commit(self, events: list[Event]) -> None:
        """Append to the store (exactly once, thanks to the event ids), then apply."""
        await self._append(events, expected_version=self._state.version)
        fold_into(self._state, events)  # the workflow owns its state: no copy
        self._log.extend(events)

    async def _append(self, events: list[Event], *, expected_version: int) -> None:
        await workflow.execute_activity(
            "append",
            AppendInput(
                stream=self._stream, expected_version=expected_version,
                records=[to_record(e) for e in events],
            ),
            start_to_close_timeout=APPEND_TIMEOUT,
            retry_policy=APPEND_RETRY,
            result_type=AppendResult,
        )


for _name in COMMANDS:
    setattr(EmulationCycle, _name, _command_update(_name))

# Decorated after the loop: @workflow.defn collects the update handlers present on the class.
EmulationCycle = workflow.defn(EmulationCycle)  # type: ignore[misc]
