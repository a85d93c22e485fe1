"""Reconcile a cycle's Temporal history with its event stream.

The workflow writes every event through its `append` activity (the start, each accepted update,
each missed deadline). From the history (`fetch_history`, every run of the chain when the cycle
continued as new) we take the completed appends (their records: event ids, expected version;
a local append's result names its events, and a READ_AFTER marker the events a lost workflow
task had appended and the next one adopted) and the accepted updates with their results
(`CommandResult`: the events each update wrote).
Then, against the stream:

* every event an accepted update (or the start, or a deadline) wrote is in the store, at the
  version the workflow gave it;
* every event of the store was written by one of those appends — an event appended behind the
  workflow's back has no update, deadline or start;
* the workflow's last version equals the store's head (a shorter store: a deleted tail).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from eventstore import EventStore
from workflows.messages import Adopted, AppendInput, AppendResult, CommandRequest, CommandResult
from workflows.names import APPEND, READ_AFTER

__all__ = ["Difference", "Reconciliation", "reconcile", "reconcile_all", "reconcile_if_held"]


class Difference(str):
    """One disagreement between Temporal's history and the stream, as an English sentence (the
    CLI and the JSON API show it as it is), with a code and its facts so that the auditor's page
    can say it in Vietnamese (app/words.reconcile_sentence)."""

    code: str
    facts: dict[str, Any]

    def __new__(cls, code: str, text: str, **facts: Any) -> Difference:
        d = super().__new__(cls, text)
        d.code, d.facts = code, facts
        return d


@dataclass(frozen=True)
class Written:
    """One event the workflow appended: where and on whose behalf."""

    version: int
    event_id: str
    type: str
    who: tuple[str, str, str]
    """(kind, update name, request id): kind is "update", "start" or "deadline"."""
    hash: str = ""
    """The hash the append stored (hex), as its result in the history recorded it; empty in
    histories recorded before appends returned it."""

    @property
    def by(self) -> str:
        return _label(self.who)


def _label(who: tuple[str, str, str]) -> str:
    """'update sign_pledge (request r-1)', 'start' or 'deadline'."""
    kind, name, request = who
    return f"update {name} (request {request})" if kind == "update" else kind


@dataclass(frozen=True)
class Reconciliation:
    workflow_id: str
    stream: str
    runs: tuple[str, ...]
    workflow_version: int
    store_version: int
    updates: int
    differences: tuple[Difference, ...] = field(default=())

    history: bool = True
    """False when Temporal no longer holds the workflow (never started there, or its history
    passed the namespace's retention): nothing to compare the stream with."""

    @property
    def ok(self) -> bool:
        return not self.differences


async def _histories(client: Client, workflow_id: str) -> list[tuple[str, Any]]:
    """(run id, history) of every run of the workflow, first to last."""
    latest = await client.get_workflow_handle(workflow_id).fetch_history()
    first_run = latest.events[0].workflow_execution_started_event_attributes.first_execution_run_id
    runs: list[tuple[str, Any]] = []
    run_id: str | None = first_run or latest.run_id
    seen: set[str] = set()
    while run_id and run_id not in seen:
        seen.add(run_id)
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs.append((run_id, history))
        run_id = None
        for e in history.events:
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                run_id = e.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return runs


def _decode(client: Client, payloads: Any, type_: type) -> Any:
    return client.data_converter.payload_converter.from_payloads(list(payloads), [type_])[0]


def _written(
    after: int, events: list[tuple[str, str]], hashes: list[str], by: str | None = None
) -> list[Written]:
    """The (event id, type) pairs an append (or an adoption) put at the versions after `after`,
    with the hashes its result recorded; on whose behalf: the start (after version 0) or a
    deadline, until an accepted update claims them."""
    who = by or ("start" if after == 0 else "deadline")
    return [
        Written(after + 1 + k, event_id, type_, (who, "", ""), hashes[k] if k < len(hashes) else "")
        for k, (event_id, type_) in enumerate(events)
    ]


def _local_writes(client: Client, marker: Any) -> list[Written]:
    """The events a local activity of the workflow wrote or adopted, from its marker: a local
    append's result names its events (its input is not in the history), a READ_AFTER's result
    holds the events a lost workflow task had appended and the next one adopted."""
    if marker.marker_name != "core_local_activity" or "result" not in marker.details:
        return []
    data = marker.details["data"].payloads
    kind = orjson.loads(data[0].data).get("activity_type") if data else None
    result = marker.details["result"].payloads
    if kind == APPEND:
        r = _decode(client, result, AppendResult)
        events = list(zip(r.event_ids, r.types, strict=True))
        return _written(r.version - len(events), events, r.hashes)
    if kind == READ_AFTER:
        a = _decode(client, result, Adopted)
        return _written(a.after, _ids_types(a.records), a.hashes, "adopted")
    return []


def _ids_types(records: list[Any]) -> list[tuple[str, str]]:
    return [(str(r.event_id), r.type) for r in records]


async def reconcile(
    client: Client, store: EventStore, workflow_id: str, stream: str
) -> Reconciliation:
    """Compare the workflow's history with the stream; `differences` lists what disagrees."""
    runs = await _histories(client, workflow_id)
    appends: dict[tuple[str, int], AppendInput] = {}
    written: dict[str, Written] = {}
    by_update: dict[str, tuple[str, str, str]] = {}  # event id -> ("update", name, request id)
    requests: dict[str, tuple[str, str]] = {}  # update id -> (name, request id)
    differences: list[Difference] = []
    updates = 0
    for run_id, history in runs:
        for e in history.events:
            t = e.event_type
            if t == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                a = e.activity_task_scheduled_event_attributes
                if a.activity_type.name == APPEND:
                    appends[(run_id, e.event_id)] = _decode(client, a.input.payloads, AppendInput)
            elif t == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                done = e.activity_task_completed_event_attributes
                inp = appends.get((run_id, done.scheduled_event_id))
                if inp is None:
                    continue
                hashes = _decode(client, done.result.payloads, AppendResult).hashes
                if inp.stream != stream:
                    differences.append(
                        Difference(
                            "wrong_stream",
                            f"the workflow appended to stream {inp.stream!r}, not {stream!r}",
                            stream=inp.stream,
                            expected=stream,
                        )
                    )
                for put in _written(inp.expected_version, _ids_types(inp.records), hashes):
                    written[put.event_id] = put
            elif t == EventType.EVENT_TYPE_MARKER_RECORDED:
                for put in _local_writes(client, e.marker_recorded_event_attributes):
                    written[put.event_id] = put
            elif t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                a = e.workflow_execution_update_accepted_event_attributes
                req = _decode(client, a.accepted_request.input.args.payloads, CommandRequest)
                requests[a.protocol_instance_id] = (a.accepted_request.input.name, req.request_id)
            elif t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
                a = e.workflow_execution_update_completed_event_attributes
                name, request_id = requests.get(a.meta.update_id, ("?", a.meta.update_id))
                updates += 1
                if not a.outcome.HasField("success"):
                    continue
                result = _decode(client, a.outcome.success.payloads, CommandResult)
                if result.duplicate:
                    continue
                for ev in result.events:
                    by_update[str(ev.event_id)] = ("update", name, request_id)
    for event_id, who in by_update.items():
        w = written.get(event_id)
        if w is None:
            differences.append(
                Difference(
                    "no_append",
                    f"{_label(who)}: its event {event_id} has no completed append",
                    who=who,
                    event_id=event_id,
                )
            )
        else:
            written[event_id] = Written(w.version, w.event_id, w.type, who, w.hash)
    rows = await store.rows(stream)
    stored: dict[str, tuple[int, str]] = {}
    hashes_at = {version: bytes(h).hex() for version, _, h in rows}
    for version, body, _ in rows:
        obj = orjson.loads(body)
        stored[obj["event_id"]] = (version, obj["type"])
    for w in sorted(written.values(), key=lambda w: w.version):
        at = stored.get(w.event_id)
        facts = {"who": w.who, "version": w.version, "type": w.type, "event_id": w.event_id}
        if at is None:
            differences.append(
                Difference(
                    "not_stored",
                    f"{w.by}: its event at version {w.version} ({w.type}, "
                    f"{w.event_id}) is not in the store",
                    **facts,
                )
            )
        elif at[0] != w.version:
            differences.append(
                Difference(
                    "wrong_version",
                    f"{w.by}: its event {w.event_id} ({w.type}) is stored at"
                    f" version {at[0]}, not {w.version}",
                    stored=at[0],
                    **facts,
                )
            )
        elif w.hash and hashes_at.get(w.version) != w.hash:
            differences.append(
                Difference(
                    "wrong_hash",
                    f"version {w.version} ({w.type}, {w.event_id}): the stored hash"
                    " differs from the one its append stored (a rewrite)",
                    **facts,
                )
            )
    for event_id, (version, type_) in sorted(stored.items(), key=lambda kv: kv[1][0]):
        if event_id not in written:
            differences.append(
                Difference(
                    "not_written",
                    f"version {version} ({type_}, {event_id}): no update, deadline"
                    " or start of the workflow wrote it",
                    version=version,
                    type=type_,
                    event_id=event_id,
                )
            )
    workflow_version = max((w.version for w in written.values()), default=0)
    store_version = rows[-1][0] if rows else 0
    versions = {"workflow_version": workflow_version, "store_version": store_version}
    if store_version < workflow_version:
        differences.append(
            Difference(
                "deleted_tail",
                f"the workflow reached version {workflow_version}, the store holds"
                f" {store_version} (a deleted tail)",
                **versions,
            )
        )
    elif store_version > workflow_version:
        differences.append(
            Difference(
                "extra_tail",
                f"the store holds {store_version} versions, the workflow wrote {workflow_version}",
                **versions,
            )
        )
    return Reconciliation(
        workflow_id=workflow_id,
        stream=stream,
        runs=tuple(r for r, _ in runs),
        workflow_version=workflow_version,
        store_version=store_version,
        updates=updates,
        differences=tuple(differences),
    )


Progress = Callable[[int, int, str], None]
"""progress(done, total, stream) after each cycle."""


async def reconcile_if_held(
    client: Client, store: EventStore, workflow_id: str, stream: str
) -> Reconciliation:
    """`reconcile`, or, when Temporal holds no such workflow, a Reconciliation with
    `history=False` that says so in `differences`."""
    try:
        return await reconcile(client, store, workflow_id, stream)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
    return Reconciliation(
        workflow_id=workflow_id,
        stream=stream,
        runs=(),
        workflow_version=0,
        store_version=await store.head(stream),
        updates=0,
        history=False,
        differences=(
            Difference(
                "no_history",
                f"Temporal holds no workflow {workflow_id} (never run there, or its"
                " history passed the namespace's retention)",
                workflow_id=workflow_id,
            ),
        ),
    )


async def reconcile_all(
    client: Client,
    store: EventStore,
    *,
    prefix: str = "",
    year: int | None = None,
    progress: Progress | None = None,
) -> list[Reconciliation]:
    """Reconcile every cycle stream of the store (`{prefix}cycle-{block}-{year}`, or one year's)
    with its workflow (`{prefix}cycle:{block}:{year}`), one after the other (see
    `reconcile_if_held` for a workflow Temporal does not hold)."""
    pattern = re.compile(re.escape(prefix) + r"cycle-(.+)-(\d{4})")
    cycles = [(s, m) for s in await store.streams(year) if (m := pattern.fullmatch(s))]
    out: list[Reconciliation] = []
    for done, (stream, m) in enumerate(cycles, start=1):
        workflow_id = f"{prefix}cycle:{m[1]}:{m[2]}"
        out.append(await reconcile_if_held(client, store, workflow_id, stream))
        if progress is not None:
            progress(done, len(cycles), stream)
    return out
