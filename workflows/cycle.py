"""EmulationCycle: one durable workflow per block and year.

Every command is a Temporal Update named as in the scenario format (`sign_pledge`, …), declared
below stage by stage in the order of DOMAIN.md. Its validator asks the domain, so a rejection
leaves no trace in any history. Handlers serialise on one lock: decide → append through an
activity (event ids made here, so a retried append is a no-op) → fold → return the accepted
events. The main coroutine sleeps on durable timers until the next deadline or reminder and turns
a passed deadline into its own event.

A request id is bound to who sent which command (workflows.idempotency): the same request again
gets the first answer (`duplicate: true`), the same id for anything else is refused
(`idempotency_key_reused`). A run continues as new, carrying the state, the reminders sent, the
given-up deadlines and the bindings, after `updates_per_run` accepted updates or when the server
suggests it; callers address the workflow by id and never see the change of run.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.codec import EventRecord, from_record, to_record
    from domain.commands import COMMAND_NAMES, ExpireDeadline
    from domain.decide import decide, validate
    from domain.errors import DomainError
    from domain.events import Event
    from domain.fold import fold, fold_into
    from domain.pending import Reminder, pending_actions, reminders
    from domain.setup import DEADLINE_STAGES
    from domain.state import CycleState
    from domain.values import Actor

    from . import rotation
    from .idempotency import REUSED, binding
    from .messages import (
        Adopted,
        AppendInput,
        AppendResult,
        Carried,
        CommandRequest,
        CommandResult,
        CycleInput,
        CycleResult,
        ReadAfterInput,
        ReadEventsInput,
        ReminderInput,
        TasksInput,
    )
    from .names import APPEND, CONTINUING, READ_AFTER, READ_EVENTS, WRITE_REMINDERS, WRITE_TASKS
    from .search import SA_BLOCK, SA_PROVINCE, SA_STAGE, SA_YEAR

__all__ = ["APPEND_RETRY", "COMMANDS", "EmulationCycle"]

# An append is one round trip; a worker that dies during one is noticed after this and the
# append retried elsewhere (a no-op when it had committed: the event ids are the same).
APPEND_TIMEOUT = timedelta(seconds=10)

_CONFLICTS = ("WrongExpectedVersion", "EventIdConflict")
APPEND_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    non_retryable_error_types=list(_CONFLICTS),
)

# Every command of the scenario format is an update of its own name; the start comes with the
# workflow's input and deadlines come from its timers.
COMMANDS = tuple(n for n in COMMAND_NAMES if n not in ("start_cycle", "expire_deadline"))

# Histories recorded before the search attributes existed replay without the upserts.
SEARCH_ATTRIBUTES_PATCH = "search-attributes"
# Histories recorded before group commit replay with one append per update under the lock.
GROUP_COMMIT_PATCH = "group-commit"
# Histories recorded before new tasks were notified replay without the write_tasks activity.
NEW_TASKS_PATCH = "new-task-notices"
# Since: the new tasks go with the append that opened them, in the same activity (one activity
# less per stage and vote round). Histories recorded before write them in WRITE_TASKS.
TASKS_WITH_APPEND_PATCH = "new-tasks-with-append"
# Histories recorded before automatic acts were credited to the system (the pledge closing at
# the last signature) replay with that act credited to the unit that signed last.
SYSTEM_CREDIT_PATCH = "system-credit"
# Histories recorded before missed deadlines were notified replay without that notice.
MISSED_NOTICE_PATCH = "missed-deadline-notices"
# Since: the appends of updates and deadlines run as local activities, in the worker that holds
# the workflow task (one marker in the history instead of an activity's three events and a
# second workflow task: an update is answered in one workflow task). A worker lost after such an
# append committed loses its workflow task; the next one decides again and adopts what the lost
# one stored (_adopt). The start keeps its scheduled activity. Histories recorded before append
# in scheduled activities.
LOCAL_APPEND_PATCH = "append-local-activity"


def _deadline_key(stage: str, deadline: datetime) -> str:
    return f"{stage}:{deadline.isoformat()}"


def _reminder_key(r: Reminder) -> str:
    return f"{_deadline_key(r.stage, r.deadline)}:{r.days_before}"


def _conflict(err: BaseException | None) -> bool:
    """The append met other events at its versions (WrongExpectedVersion, EventIdConflict).
    A scheduled activity's failure comes as an ActivityError caused by the activity's
    ApplicationError; a local activity's as that ApplicationError (with its cause)."""
    while err is not None:
        if isinstance(err, ApplicationError) and err.type in _CONFLICTS:
            return True
        err = err.cause if isinstance(err, ActivityError | ApplicationError) else None
    return False


@dataclass
class _Act:
    """A decision applied to the state and not yet in the store: an update's or a deadline's.
    `again` decides it once more on the state of the moment (after an adoption)."""

    request_id: str
    again: Callable[[], list[Event]]
    events: list[Event]
    version: int
    stage: str
    error: ApplicationError | None = None


def _rejected(err: DomainError) -> ApplicationError:
    return ApplicationError(err.message, err.as_dict(), type=err.code, non_retryable=True)


def _reused(request_id: str) -> ApplicationError:
    return _rejected(
        DomainError(
            REUSED,
            f"request id {request_id!r} was already used for another command or by another caller",
            "request_id",
        )
    )


@workflow.defn
class EmulationCycle:
    @workflow.init
    def __init__(self, inp: CycleInput) -> None:
        # The start is decided here, so validators see a started cycle from the first task;
        # run() appends it before any handler may proceed. A continued run takes the state.
        self._stream = inp.stream
        self._lock = asyncio.Lock()
        self._log: list[Event] = []  # the events accepted in this run
        self._ready = False
        self._accepted = 0  # updates accepted in this run
        self._updates_per_run = inp.updates_per_run
        self._continuing = False
        self._search_attributes = inp.search_attributes
        self._grouped = False  # decided in run(): see GROUP_COMMIT_PATCH
        self._notify_tasks = False  # decided in run(): see NEW_TASKS_PATCH
        self._tasks_with_append = False  # decided in run(): see TASKS_WITH_APPEND_PATCH
        self._system_credit = False  # decided in run(): see SYSTEM_CREDIT_PATCH
        self._local_append = False  # decided in run(): see LOCAL_APPEND_PATCH
        self._appending = False
        self._acts: list[_Act] = []  # decided, not yet stored (grouped appends)
        self._orphans: dict[str, Actor] = {}  # adopted requests whose update has not come back
        self._start_error: DomainError | None = None
        self._start_events: list[Event] = []
        carried = inp.carried
        if carried is not None:
            self._enforce_from = carried.enforce_from
            self._sent = set(carried.sent)
            self._given_up = set(carried.given_up)
            self._bindings = dict(carried.bindings)
            self._state = carried.state
            self._run_base = carried.state.model_copy(deep=True)  # the state before self._log
            self._run = carried.run + 1
            self._sa_stage: str | None = carried.state.stage  # inherited by the new run
            self._durable = carried.state.version
            return
        self._enforce_from = (
            workflow.now().replace(year=1) if inp.enforce_past_deadlines else workflow.now()
        )
        self._sent = set()
        self._given_up = set()
        self._bindings = {}
        self._run = 1
        self._sa_stage = None
        self._durable = 0  # the version the store holds
        empty = CycleState()
        self._run_base = CycleState()
        try:
            self._start_events = decide(
                empty,
                inp.start,
                inp.actor,
                now=workflow.now(),
                ids=workflow.uuid4,
                request_id=inp.request_id,
            )
        except DomainError as err:
            self._start_error = err
        else:
            self._bindings[inp.request_id] = binding(inp.actor, inp.start)
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
        """The events accepted by this run (the store holds all of them)."""
        return self._log

    # ---- 2. pledge -------------------------------------------------------------------------

    @workflow.update
    async def sign_pledge(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @sign_pledge.validator
    def _sign_pledge(self, req: CommandRequest) -> None:
        self._validate("sign_pledge", req)

    @workflow.update
    async def close_pledge(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @close_pledge.validator
    def _close_pledge(self, req: CommandRequest) -> None:
        self._validate("close_pledge", req)

    # ---- 3. scoring ------------------------------------------------------------------------

    @workflow.update
    async def submit_self_score(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @submit_self_score.validator
    def _submit_self_score(self, req: CommandRequest) -> None:
        self._validate("submit_self_score", req)

    @workflow.update
    async def verify_score(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @verify_score.validator
    def _verify_score(self, req: CommandRequest) -> None:
        self._validate("verify_score", req)

    @workflow.update
    async def close_scoring(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @close_scoring.validator
    def _close_scoring(self, req: CommandRequest) -> None:
        self._validate("close_scoring", req)

    # ---- 4. review -------------------------------------------------------------------------

    @workflow.update
    async def hold_review(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @hold_review.validator
    def _hold_review(self, req: CommandRequest) -> None:
        self._validate("hold_review", req)

    # ---- 5. discipline (and corrections, until the vote closes them) -----------------------

    @workflow.update
    async def record_finding(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @record_finding.validator
    def _record_finding(self, req: CommandRequest) -> None:
        self._validate("record_finding", req)

    @workflow.update
    async def withdraw_finding(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @withdraw_finding.validator
    def _withdraw_finding(self, req: CommandRequest) -> None:
        self._validate("withdraw_finding", req)

    @workflow.update
    async def correct_score(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @correct_score.validator
    def _correct_score(self, req: CommandRequest) -> None:
        self._validate("correct_score", req)

    @workflow.update
    async def close_discipline_check(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @close_discipline_check.validator
    def _close_discipline_check(self, req: CommandRequest) -> None:
        self._validate("close_discipline_check", req)

    # ---- 6. vote ---------------------------------------------------------------------------

    @workflow.update
    async def break_tie(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @break_tie.validator
    def _break_tie(self, req: CommandRequest) -> None:
        self._validate("break_tie", req)

    @workflow.update
    async def open_vote_round(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @open_vote_round.validator
    def _open_vote_round(self, req: CommandRequest) -> None:
        self._validate("open_vote_round", req)

    @workflow.update
    async def cast_ballot(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @cast_ballot.validator
    def _cast_ballot(self, req: CommandRequest) -> None:
        self._validate("cast_ballot", req)

    @workflow.update
    async def close_vote_round(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @close_vote_round.validator
    def _close_vote_round(self, req: CommandRequest) -> None:
        self._validate("close_vote_round", req)

    @workflow.update
    async def leaders_decide(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @leaders_decide.validator
    def _leaders_decide(self, req: CommandRequest) -> None:
        self._validate("leaders_decide", req)

    # ---- 7. election -----------------------------------------------------------------------

    @workflow.update
    async def open_election(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @open_election.validator
    def _open_election(self, req: CommandRequest) -> None:
        self._validate("open_election", req)

    @workflow.update
    async def cast_election_ballot(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @cast_election_ballot.validator
    def _cast_election_ballot(self, req: CommandRequest) -> None:
        self._validate("cast_election_ballot", req)

    @workflow.update
    async def close_election(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @close_election.validator
    def _close_election(self, req: CommandRequest) -> None:
        self._validate("close_election", req)

    @workflow.update
    async def appoint_leaders(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @appoint_leaders.validator
    def _appoint_leaders(self, req: CommandRequest) -> None:
        self._validate("appoint_leaders", req)

    # ---- any open stage: deadlines and cancellation (the admin) -----------------------------

    @workflow.update
    async def extend_deadline(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @extend_deadline.validator
    def _extend_deadline(self, req: CommandRequest) -> None:
        self._validate("extend_deadline", req)

    @workflow.update
    async def cancel_cycle(self, req: CommandRequest) -> CommandResult:
        return await self._handle(req)

    @cancel_cycle.validator
    def _cancel_cycle(self, req: CommandRequest) -> None:
        self._validate("cancel_cycle", req)

    # ---- the main coroutine ----------------------------------------------------------------

    @workflow.run
    async def run(self, inp: CycleInput) -> CycleResult:
        if self._start_error is not None:
            raise _rejected(self._start_error)
        self._grouped = workflow.patched(GROUP_COMMIT_PATCH)
        self._notify_tasks = workflow.patched(NEW_TASKS_PATCH)
        self._tasks_with_append = (
            self._notify_tasks and self._grouped and workflow.patched(TASKS_WITH_APPEND_PATCH)
        )
        self._system_credit = workflow.patched(SYSTEM_CREDIT_PATCH)
        self._local_append = workflow.patched(LOCAL_APPEND_PATCH)
        if inp.carried is None:
            self._upsert_search_attributes()
            async with self._lock:
                # the start in a scheduled activity, local appends or not: its input is in the
                # history, and the first workflow task ends as it always did (an update the
                # validator refuses right after the start then leaves no workflow task behind)
                await self._append(self._start_events, expected_version=0, local=False)
                self._log.extend(self._start_events)
                self._durable = self._state.version
                self._ready = True
        else:
            self._ready = True
        while not self._state.is_closed and not self._should_continue():
            # the version seen before anything is awaited: an update applied while the tasks
            # are written (a cancel, say) wakes the wait below at once
            seen = self._state.version
            if self._notify_tasks and not self._tasks_with_append:
                await self._write_new_tasks()
            wake = self._next_wake()

            def moved(seen: int = seen) -> bool:
                return self._state.version != seen or self._should_continue()

            if wake is None:
                await workflow.wait_condition(moved)
                continue
            delay = (wake - workflow.now()).total_seconds()
            if delay > 0:
                try:
                    await workflow.wait_condition(moved, timeout=timedelta(seconds=delay))
                    continue
                except TimeoutError:
                    pass
            await self._on_time()
        if not self._state.is_closed:
            await self._continue_as_new(inp)
        await workflow.wait_condition(workflow.all_handlers_finished)
        s = self._state
        if s.stage == "completed" and inp.block_stream and workflow.patched(rotation.PATCH):
            await rotation.rotate(s, self._stream, inp.block_stream)
        return CycleResult(
            cycle_id=s.cycle_id or "",
            stream=self._stream,
            stage=s.stage,
            version=s.version,
            outcome=s.outcome,
        )

    # ---- continue-as-new -------------------------------------------------------------------

    def _should_continue(self) -> bool:
        return (
            self._accepted >= self._updates_per_run
            or workflow.info().is_continue_as_new_suggested()
        )

    async def _continue_as_new(self, inp: CycleInput) -> None:
        """Refuse new updates (the client sends them again to the next run), let the accepted
        ones finish, then continue as new with the state. Returns only if one of the finishing
        updates closed the cycle."""
        self._continuing = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._state.is_closed:
            return
        workflow.logger.info(
            "run %d continues as new after %d updates (version %d)",
            self._run,
            self._accepted,
            self._state.version,
        )
        carried = Carried(
            state=self._state,
            enforce_from=self._enforce_from,
            sent=sorted(self._sent),
            given_up=sorted(self._given_up),
            bindings=self._bindings,
            run=self._run,
        )
        workflow.continue_as_new(inp.model_copy(update={"carried": carried}))

    # ---- timers ----------------------------------------------------------------------------

    def _deadline_due(self) -> datetime | None:
        s = self._state
        if s.stage not in DEADLINE_STAGES or s.stage in s.missed:
            return None
        deadline = s.deadlines.get(s.stage)
        if deadline is None or deadline <= self._enforce_from:
            return None
        if _deadline_key(s.stage, deadline) in self._given_up:
            return None
        return deadline

    def _due_reminders(self) -> list[Reminder]:
        return [
            r
            for r in reminders(self._state)
            if r.due > self._enforce_from and _reminder_key(r) not in self._sent
        ]

    def _next_wake(self) -> datetime | None:
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
                    self._sent.add(_reminder_key(r))
                    units = {
                        u: acts
                        for u, acts in pending_actions(self._state).items()
                        if u in self._state.members
                    }
                    if units:
                        await workflow.execute_activity(
                            WRITE_REMINDERS,
                            ReminderInput(
                                cycle_id=self._state.cycle_id or "",
                                stream=self._stream,
                                reminder=r,
                                units=units,
                                created_at=now,
                            ),
                            start_to_close_timeout=APPEND_TIMEOUT,
                            retry_policy=APPEND_RETRY,
                            result_type=int,
                        )
            deadline = self._deadline_due()
            if deadline is not None and deadline <= now:
                stage = self._state.stage
                # who had not acted when the deadline passed, told once (below); the chair's
                # close of a stage the deadline closes is nobody's failing
                owed = {
                    u: mine
                    for u, acts in pending_actions(self._state).items()
                    if u in self._state.members
                    and (mine := [a for a in acts if a not in ("close_pledge", "close_scoring")])
                }
                request_id = f"deadline:{_deadline_key(stage, deadline)}"

                def again(stage: str = stage, request_id: str = request_id) -> list[Event]:
                    return decide(
                        self._state,
                        ExpireDeadline(stage=stage),
                        Actor.system(),
                        now=now,
                        ids=workflow.uuid4,
                        request_id=request_id,
                    )

                try:
                    events = again()
                except DomainError as err:  # should not happen; never spin on it
                    workflow.logger.warning("deadline of %s not applied: %s", stage, err)
                    self._given_up.add(_deadline_key(stage, deadline))
                    return
                try:
                    await self._commit(events, request_id, again)
                except ApplicationError as err:  # decided again after an adoption, refused
                    workflow.logger.warning("deadline of %s not applied: %s", stage, err)
                    self._given_up.add(_deadline_key(stage, deadline))
                    return
                workflow.logger.info("deadline of %s passed", stage)
                if owed and workflow.patched(MISSED_NOTICE_PATCH):
                    await workflow.execute_activity(
                        WRITE_REMINDERS,
                        ReminderInput(
                            cycle_id=self._state.cycle_id or "",
                            stream=self._stream,
                            reminder=Reminder(
                                stage=stage, due=now, deadline=deadline, days_before=0
                            ),
                            units=owed,
                            created_at=now,
                            extra={"missed": True},
                        ),
                        start_to_close_timeout=APPEND_TIMEOUT,
                        retry_policy=APPEND_RETRY,
                        result_type=int,
                    )

    def _tasks_key(self) -> str | None:
        """What opened the units' current tasks: the stage, and in the vote the round."""
        s = self._state
        if s.block is None or s.is_closed:
            return None
        r = s.open_round
        return f"tasks:{s.stage}" + (f":{r.round}" if s.stage == "vote" and r else "")

    def _new_tasks(self) -> TasksInput | None:
        """Once per stage (and vote round): the "new task" rows for each unit that has
        something to do in it (their keys carried across runs with the reminders' keys)."""
        key = self._tasks_key()
        if key is None or key in self._sent:
            return None
        self._sent.add(key)
        s = self._state
        units = {u: acts for u, acts in pending_actions(s).items() if u in s.members}
        if not units:
            return None
        return TasksInput(
            cycle_id=s.cycle_id or "",
            stream=self._stream,
            key=key.removeprefix("tasks:"),
            stage=s.stage,
            deadline=s.deadlines.get(s.stage),
            units=units,
            created_at=workflow.now(),
        )

    async def _write_new_tasks(self) -> None:
        """The new tasks in an activity of their own (histories recorded before
        TASKS_WITH_APPEND_PATCH)."""
        tasks = self._new_tasks()
        if tasks is None:
            return
        await workflow.execute_activity(
            WRITE_TASKS,
            tasks,
            start_to_close_timeout=APPEND_TIMEOUT,
            retry_policy=APPEND_RETRY,
            result_type=int,
        )

    # ---- commands --------------------------------------------------------------------------

    def _validate(self, name: str, req: CommandRequest) -> None:
        if self._continuing:
            raise ApplicationError(
                "the cycle is moving to its next run; send the update again",
                type=CONTINUING,
                non_retryable=True,
            )
        if req.command.do != name:
            raise ApplicationError(
                f"update {name!r} carries a {req.command.do!r} command",
                type="wrong_update",
                non_retryable=True,
            )
        bound = self._bindings.get(req.request_id)
        if bound is not None:
            if bound != binding(req.actor, req.command):
                raise _reused(req.request_id)
            return  # a repeated request: the handler returns the first answer
        if req.request_id in self._state.requests:
            if self._orphans.get(req.request_id) == req.actor:
                return  # accepted by a lost task and adopted: the handler answers
            raise _reused(req.request_id)  # a request id of the system's (a deadline's)
        try:
            validate(self._state, req.command, req.actor, now=workflow.now())
        except DomainError as err:
            raise _rejected(err) from None

    async def _handle(self, req: CommandRequest) -> CommandResult:
        self._accepted += 1
        await workflow.wait_condition(lambda: self._ready)
        if self._grouped:
            return await self._handle_grouped(req)
        async with self._lock:
            key = binding(req.actor, req.command)
            bound = self._bindings.get(req.request_id)
            if bound is not None:
                # Two requests with one id raced past the validator: the first one wins.
                if bound != key:
                    raise _reused(req.request_id)
                return await self._first_answer(req.request_id)
            if req.request_id in self._state.requests:
                raise _reused(req.request_id)
            again = self._decision(req)
            try:
                events = again()
            except DomainError as err:
                raise _rejected(err) from None
            await self._commit(events, req.request_id, again)
            self._bindings[req.request_id] = key
            return CommandResult(
                events=events, version=self._state.version, stage=self._state.stage
            )

    async def _handle_grouped(self, req: CommandRequest) -> CommandResult:
        """Decide and apply at once (validators of later updates see this one), then wait until
        the events are in the store: the appends of updates that arrive together go as one."""
        key = binding(req.actor, req.command)
        if self._orphans.get(req.request_id) == req.actor:
            del self._orphans[req.request_id]
            self._bindings[req.request_id] = key  # its events were adopted (_adopt)
        bound = self._bindings.get(req.request_id)
        if bound is not None:
            if bound != key:  # two requests with one id raced past the validator
                raise _reused(req.request_id)
            await self._durable_up_to(max(self._state.requests.get(req.request_id, [0])))
            return await self._first_answer(req.request_id)
        if req.request_id in self._state.requests:
            raise _reused(req.request_id)
        again = self._decision(req)
        try:
            events = again()
        except DomainError as err:
            raise _rejected(err) from None
        self._bindings[req.request_id] = key
        act = self._applied(req.request_id, again, events)
        await self._stored(act)
        return CommandResult(events=act.events, version=act.version, stage=act.stage)

    def _decision(self, req: CommandRequest) -> Callable[[], list[Event]]:
        """The request decided on the state of the moment (again after an adoption)."""

        def decision() -> list[Event]:
            return decide(
                self._state,
                req.command,
                req.actor,
                now=workflow.now(),
                ids=workflow.uuid4,
                request_id=req.request_id,
                system_credit=self._system_credit,
            )

        return decision

    def _apply(self, events: list[Event]) -> None:
        fold_into(self._state, events)  # the workflow owns its state: no copy
        self._log.extend(events)
        if self._state.stage != self._sa_stage:
            self._upsert_search_attributes()

    def _applied(
        self, request_id: str, again: Callable[[], list[Event]], events: list[Event]
    ) -> _Act:
        """Apply an act's events; it waits in `_acts` until they are stored."""
        self._apply(events)
        act = _Act(request_id, again, events, self._state.version, self._state.stage)
        self._acts.append(act)
        return act

    async def _stored(self, act: _Act) -> None:
        """Wait until the act's events are in the store (raise its refusal when, decided again
        after an adoption, the rules refused it)."""
        await self._store_until(lambda: act.error is not None or self._durable >= act.version)
        if act.error is not None:
            raise act.error

    async def _durable_up_to(self, version: int) -> None:
        """Wait until the store holds the stream up to `version`."""
        await self._store_until(lambda: self._durable >= version)

    async def _store_until(self, done: Callable[[], bool]) -> None:
        """Append what is pending, in order, one batch at a time (one handler appends, the
        others wait for it), until `done()`."""
        while not done():
            if self._appending:
                await workflow.wait_condition(lambda: not self._appending)
                continue
            base = self._state.version - len(self._log)
            batch = self._log[self._durable - base :]
            self._appending = True
            try:
                await self._append(batch, expected_version=self._durable)
            except (ActivityError, ApplicationError) as err:
                if self._local_append and _conflict(err):
                    await self._adopt(batch, err)
                    continue
                if isinstance(err, ApplicationError) and not self._local_append:
                    raise
                # The events are applied but not stored: never answer from such a state. The
                # workflow task fails (and is retried) until the store is repaired.
                raise RuntimeError(f"append of versions after {self._durable} failed") from err
            finally:
                self._appending = False
            self._durable += len(batch)
            self._acts = [a for a in self._acts if a.version > self._durable]

    async def _adopt(self, batch: list[Event], err: BaseException) -> None:
        """A local append met events after the version it expected. A lost workflow task of this
        workflow appended them (a local append commits before its task completes; the task that
        replaces it decides again, at another time, maybe in another order): they are this
        workflow's own when their ids are the ids this task gave the same versions (ids come
        from the workflow's seeded sequence, one per event). Those are adopted as stored (the
        READ_AFTER marker in the history witnesses them), the state is folded again, and every
        act not yet stored is answered from them or decided again on top. Anything else (events
        of another writer) fails the task, as a failed append always did."""
        found: Adopted = await workflow.execute_local_activity(
            READ_AFTER,
            ReadAfterInput(stream=self._stream, after=self._durable, limit=len(batch)),
            start_to_close_timeout=APPEND_TIMEOUT,
            retry_policy=APPEND_RETRY,
            result_type=Adopted,
        )
        records = found.records
        if not records or [str(r.event_id) for r in records] != [
            str(e.event_id) for e in batch[: len(records)]
        ]:
            raise RuntimeError(
                f"{self._stream} holds events after version {self._durable} that this workflow"
                " did not decide"
            ) from err
        base = self._state.version - len(self._log)
        adopted = [from_record(r) for r in records]
        self._log = self._log[: self._durable - base] + adopted
        self._state = fold(self._log, self._run_base)
        self._durable += len(adopted)
        workflow.logger.warning(
            "adopted versions %d to %d of %s, appended by a lost workflow task",
            self._durable - len(adopted) + 1,
            self._durable,
            self._stream,
        )
        for e in adopted:  # (this task's acts are bound already: see _handle_grouped)
            rid = e.request_id
            if rid and rid not in self._bindings and not rid.startswith("deadline:"):
                self._orphans[rid] = e.actor  # bound when its update comes back
        waiting, self._acts = self._acts, []
        for act in waiting:
            versions = self._state.requests.get(act.request_id)
            if versions:  # the lost task had accepted it: its answer is what it stored
                act.events = [self._log[v - base - 1] for v in versions]
                act.version = max(versions)
                act.stage = fold(self._log[: act.version - base], self._run_base).stage
                continue
            try:
                events = act.again()
            except DomainError as refused:
                act.error = _rejected(refused)
                self._bindings.pop(act.request_id, None)
                continue
            self._apply(events)
            act.events, act.version, act.stage = events, self._state.version, self._state.stage
            self._acts.append(act)
        if self._state.stage != self._sa_stage:
            self._upsert_search_attributes()

    async def _first_answer(self, request_id: str) -> CommandResult:
        """The events a request got the first time: from this run's log, or read back from the
        store when an earlier run accepted it."""
        versions = self._state.requests.get(request_id, [])
        base = self._state.version - len(self._log)
        if all(v > base for v in versions):
            events = [self._log[v - base - 1] for v in versions]
        else:
            records = await workflow.execute_activity(
                READ_EVENTS,
                ReadEventsInput(stream=self._stream, versions=versions),
                start_to_close_timeout=APPEND_TIMEOUT,
                retry_policy=APPEND_RETRY,
                result_type=list[EventRecord],
            )
            events = [from_record(r) for r in records]
        return CommandResult(
            events=events, version=self._state.version, stage=self._state.stage, duplicate=True
        )

    async def _commit(
        self, events: list[Event], request_id: str, again: Callable[[], list[Event]]
    ) -> None:
        """Append to the store (exactly once, thanks to the event ids), then apply; grouped:
        apply, then wait for the append (`again` decides once more after an adoption)."""
        if self._grouped:
            await self._stored(self._applied(request_id, again, events))
            return
        await self._append(events, expected_version=self._state.version)
        self._apply(events)

    async def _append(
        self, events: list[Event], *, expected_version: int, local: bool | None = None
    ) -> None:
        # the state is already past these events here (grouped appends and the start): the
        # tasks it opened are written with them
        tasks = self._new_tasks() if self._tasks_with_append else None
        inp = AppendInput(
            stream=self._stream,
            expected_version=expected_version,
            records=[to_record(e) for e in events],
            tasks=tasks,
        )
        if self._local_append if local is None else local:
            await workflow.execute_local_activity(
                APPEND,
                inp,
                start_to_close_timeout=APPEND_TIMEOUT,
                retry_policy=APPEND_RETRY,
                result_type=AppendResult,
            )
            return
        await workflow.execute_activity(
            APPEND,
            inp,
            start_to_close_timeout=APPEND_TIMEOUT,
            retry_policy=APPEND_RETRY,
            result_type=AppendResult,
        )

    # ---- search attributes -----------------------------------------------------------------

    def _upsert_search_attributes(self) -> None:
        """Block, year and province once, the stage at start and on every change."""
        if not self._search_attributes or not workflow.patched(SEARCH_ATTRIBUTES_PATCH):
            return
        s = self._state
        updates: list[SearchAttributeUpdate[str] | SearchAttributeUpdate[int]] = [
            SA_STAGE.value_set(s.stage)
        ]
        if self._sa_stage is None and s.block is not None and s.year is not None:
            updates += [SA_BLOCK.value_set(s.block.id), SA_YEAR.value_set(s.year)]
            if s.block.province:
                updates.append(SA_PROVINCE.value_set(s.block.province))
        workflow.upsert_search_attributes(updates)
        self._sa_stage = s.stage
