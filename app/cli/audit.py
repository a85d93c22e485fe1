"""`thidua audit …`: replay and verify cycles from the event store alone (no Temporal)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from domain.recheck import recheck
from eventstore import Replay

from ..bootstrap import bootstrap
from .common import err, run, settings_of

__all__ = ["app"]

app = typer.Typer(help="Replay and verify cycles from the event store.", no_args_is_help=True)

StreamOpt = Annotated[
    str | None,
    typer.Option(help="a stream name instead of BLOCK YEAR (e.g. one of a scenario run)"),
]


def _stream(block: str, year: int, stream: str | None) -> str:
    from workflows.messages import cycle_key

    return stream or cycle_key(block, year)[1]


def _replay(
    ctx: typer.Context, stream: str, *, to_version: int | None = None, as_of: datetime | None = None
) -> Replay:
    async def go() -> Replay:
        async with bootstrap(
            settings_of(ctx), temporal="none", role="auditor", pool_size=2
        ) as services:
            return await services.store.replay(stream, to_version=to_version, as_of=as_of)

    replay = run(go())
    if replay.report.events == 0:
        err.print(f"[red]error:[/red] unknown_stream: no events in stream {stream}")
        raise typer.Exit(1)
    return replay


def findings_of(replay: Replay) -> list[str]:
    """Every finding of a replay in one plain form, `version N: kind: detail`: the chain's, then
    the rules'."""
    chain = [f"version {p.version}: {p.kind}: {p.detail}" for p in replay.report.problems]
    return chain + [str(f) for f in recheck(replay.events)]


def evidence_findings(ctx: typer.Context, replay: Replay) -> list[str]:
    """The files the self-scores attach that the evidence store lacks or holds altered."""
    from ..evidence import FileEvidenceStore, findings, references

    store = FileEvidenceStore(settings_of(ctx).evidence_path)
    return findings(store, references(replay.events))


BlockArg = Annotated[
    str | None, typer.Argument(help="the block's id (or --all)", show_default=False)
]
YearArg = Annotated[
    int | None, typer.Argument(help="the cycle's year (or --all)", show_default=False)
]
AllOpt = Annotated[bool, typer.Option("--all", help="every cycle of the store (see --year)")]
YearOpt = Annotated[
    int | None,
    typer.Option("--year", min=1900, max=2200, help="with --all: only the cycles of this year"),
]


def _one_or_all(
    block: str | None, year: int | None, stream: str | None, every: bool, only_year: int | None
) -> str | None:
    """The stream of BLOCK YEAR (or --stream); None for --all. Exit 2 on a mixed or missing
    choice."""
    if every:
        if block is not None or year is not None or stream is not None:
            err.print(
                "[red]invalid:[/red] --all: give either BLOCK YEAR (or --stream) or --all, not both"
            )
            raise typer.Exit(2)
        return None
    if only_year is not None:
        err.print("[red]invalid:[/red] --year: only with --all (BLOCK YEAR names the year)")
        raise typer.Exit(2)
    if stream is None and (block is None or year is None):
        err.print(
            "[red]invalid:[/red] BLOCK YEAR: give a cycle's block and year, --stream, or --all"
        )
        raise typer.Exit(2)
    return _stream(block or "", year or 0, stream)


@app.command("verify")
def verify(
    ctx: typer.Context,
    block: BlockArg = None,
    year: YearArg = None,
    stream: StreamOpt = None,
    every: AllOpt = False,
    only_year: YearOpt = None,
    parse: Annotated[
        bool, typer.Option(help="with --all: also parse every event as a domain event (slower)")
    ] = False,
    temporal: Annotated[
        bool,
        typer.Option(
            help="with --all: also compare each cycle with its Temporal history, when Temporal is"
            " reachable (one history fetch per cycle)"
        ),
    ] = True,
) -> None:
    """Verify a cycle: hash chain, contiguous versions, every event readable, and every
    decision recomputed by the rules from the events before it; exit 1 on any finding. With
    --all [--year Y]: every cycle stream's chain, with a progress bar; exit 1 naming each
    failing stream."""
    name = _one_or_all(block, year, stream, every, only_year)
    if name is None:
        _verify_all(ctx, only_year, parse, temporal)
        return
    replay = _replay(ctx, name)
    findings = findings_of(replay) + evidence_findings(ctx, replay)
    print(
        f"{name}: {replay.report.events} events, head version {replay.report.head_version}, "
        f"head hash {replay.report.head_hash.hex()}"
    )
    for f in findings:
        err.print(f"[red]finding[/red]: {f}", highlight=False)
    if findings:
        raise typer.Exit(1)
    print(
        "ok: chain intact, versions contiguous, every decision follows from the rules, every "
        "evidence file stored as attached"
    )


@app.command("replay")
def replay(
    ctx: typer.Context,
    block: str,
    year: int,
    stream: StreamOpt = None,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of", help="the state as recorded by this moment (ISO 8601, with a time zone)"
        ),
    ] = None,
    to_version: Annotated[
        int | None, typer.Option(min=1, max=2**31 - 1, help="the state after this version")
    ] = None,
) -> None:
    """The state of a cycle folded from the store, as of any moment or version (JSON). The
    chain's verdict is under `chain`; exit 1 when the stream fails verification."""
    if as_of is not None and as_of.tzinfo is None:
        err.print("[red]invalid:[/red] --as-of: needs a time zone (e.g. +07:00 or Z)")
        raise typer.Exit(2)
    name = _stream(block, year, stream)
    result = _replay(ctx, name, to_version=to_version, as_of=as_of)
    if to_version is not None and result.report.head_version < to_version:
        err.print(
            f"[red]invalid:[/red] --to-version: the stream has {result.report.head_version} "
            f"versions, not {to_version}"
        )
        raise typer.Exit(2)
    findings = findings_of(result)
    body: dict[str, Any] = json.loads(result.state.model_dump_json())
    body["chain"] = {
        "ok": not findings,
        "events": result.report.events,
        "head_version": result.report.head_version,
        "head_hash": result.report.head_hash.hex(),
        "findings": findings,
    }
    sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=1) + "\n")
    for f in findings:
        err.print(f"[red]finding[/red]: {f}", highlight=False)
    if findings:
        raise typer.Exit(1)


@app.command("minutes")
def minutes(
    ctx: typer.Context,
    block: str,
    year: int,
    out: Annotated[Path, typer.Argument(help="the file to write (PDF, or HTML with --html)")],
    html: Annotated[bool, typer.Option("--html", help="write the HTML instead of the PDF")] = False,
    stream: StreamOpt = None,
) -> None:
    """The minutes (biên bản) of a cycle from its events: review conference, vote count and
    election, as a PDF/A-3b carrying the events (signed when THIDUA_SIGN_P12 is set), or HTML.
    Refused when the stream fails verification."""
    from ..documents import DocumentError
    from ..documents.record import signer_of, stored_minutes

    name = _stream(block, year, stream)
    try:
        signer = None if html else signer_of(settings_of(ctx))
    except DocumentError as exc:
        err.print(f"[red]error:[/red] {exc.code} ({exc.field}): {exc.message}", highlight=False)
        raise typer.Exit(2) from None

    witness = _checked_witness(ctx)

    async def go() -> bytes:
        async with bootstrap(
            settings_of(ctx), temporal="none", role="auditor", pool_size=2
        ) as services:
            return await stored_minutes(
                services.store, name, html=html, signer=signer, witness=witness
            )

    body = run(go())
    out.write_bytes(body)
    signed = " (signed)" if signer is not None else ""
    print(f"{name}: minutes written to {out}{signed}")


@app.command("reminders")
def reminders(ctx: typer.Context, block: str, year: int, stream: StreamOpt = None) -> None:
    """The reminders the cycle wrote to the outbox and nobody has delivered yet."""

    async def go() -> list[dict[str, Any]]:
        async with bootstrap(
            settings_of(ctx), temporal="none", role="auditor", pool_size=2
        ) as services:
            return await services.outbox.pending(_stream(block, year, stream))

    rows = run(go())
    for r in rows:
        p = r["payload"]
        print(
            f"{r['due_at'].isoformat()}  {r['recipient']}: {p['stage']} deadline "
            f"{p['deadline']} ({p['days_before']} days before): {', '.join(p['actions'])}"
        )
    if not rows:
        print("no reminders waiting")


# ---- the auditors' pack (app/audit) ---------------------------------------------------------


def _minutes_hook(ctx: typer.Context) -> Any:
    """The minutes PDF maker (app.documents.minutes), signed when THIDUA_SIGN_P12 is set."""
    from functools import partial

    from ..documents import DocumentError
    from ..documents.minutes import minutes_pdf
    from ..documents.record import signer_of

    try:
        signer = signer_of(settings_of(ctx))
    except DocumentError as exc:
        err.print(f"[red]error:[/red] {exc.code} ({exc.field}): {exc.message}", highlight=False)
        raise typer.Exit(2) from None
    return partial(minutes_pdf, sign=signer)


@app.command("export")
def export(
    ctx: typer.Context,
    block: str,
    year: int,
    out_path: Annotated[Path, typer.Argument(metavar="OUT.zip", help="the zip to write")],
    stream: StreamOpt = None,
    minutes: Annotated[bool, typer.Option(help="include the minutes PDF")] = True,
) -> None:
    """Export a cycle for auditors: its events as canonical JSON lines, their hashes, a
    manifest, the minutes PDF and verify.py (python3 verify.py OUT.zip checks it offline)."""
    from app.audit import export_cycle

    name = _stream(block, year, stream)
    hook = _minutes_hook(ctx) if minutes else None
    witness = _checked_witness(ctx)
    if witness is not None and witness.findings:
        err.print(f"[red]finding[/red]: witness: {witness.findings[0]}", highlight=False)
        raise typer.Exit(1)

    async def go() -> dict[str, Any]:
        async with bootstrap(
            settings_of(ctx), temporal="none", role="auditor", pool_size=2
        ) as services:
            return await export_cycle(
                services.store,
                name,
                out_path,
                minutes_pdf=hook,
                witness=witness,
                evidence=services.evidence,
            )

    try:
        manifest = run(go())
    except ValueError as exc:  # unknown stream
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    files = manifest.get("evidence", [])
    print(
        f"{out_path}: {manifest['count']} events of {name}, last hash {manifest['last_hash']}"
        + ("" if manifest["minutes"] else " (no minutes PDF)")
        + (f", {sum(f['in_export'] for f in files)} evidence files" if files else "")
    )
    if not manifest["store_verdict"]["ok"]:
        err.print(
            f"[red]finding[/red]: the store fails verification: "
            f"{manifest['store_verdict']['problems'][0]}",
            highlight=False,
        )
        raise typer.Exit(1)


@app.command("verify-export")
def verify_export_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar="EXPORT.zip", exists=True, dir_okay=False)],
    against_store: Annotated[
        bool,
        typer.Option(help="also compare with the store now (a deleted tail, a rewritten past)"),
    ] = False,
) -> None:
    """Verify an export offline (the checks of its verify.py); exit 1 naming the first bad
    line; exit 2 for an export past verify.py's bounds (a zip bomb, an over-long line)."""
    from app.audit import compare_with_store, verify_export
    from app.audit.export import TooLarge, unpack_problem

    try:
        bad = unpack_problem(path)  # the bounds first: before a database is started
        if bad is not None:
            err.print(f"[red]cannot check[/red]: {path}: {bad}", highlight=False)
            raise typer.Exit(2)
        if against_store:

            async def go() -> Any:
                async with bootstrap(
                    settings_of(ctx), temporal="none", role="auditor", pool_size=2
                ) as services:
                    return await compare_with_store(services.store, path)

            check = run(go())
        else:
            check = verify_export(path)
    except TooLarge as exc:
        err.print(f"[red]cannot check[/red] ({exc.code}): {exc}", highlight=False)
        raise typer.Exit(2) from None
    for p in check.problems:
        err.print(f"[red]finding[/red]: {p}", highlight=False)
    if check.problems:
        raise typer.Exit(1)
    m = check.manifest
    print(f"ok: {m['stream']}: {m['count']} events, chain intact, last hash {m['last_hash']}")


@app.command("reconcile")
def reconcile_command(
    ctx: typer.Context,
    block: BlockArg = None,
    year: YearArg = None,
    stream: StreamOpt = None,
    workflow_id: Annotated[
        str | None, typer.Option(help="the workflow id, when not cycle:BLOCK:YEAR")
    ] = None,
    every: AllOpt = False,
    only_year: YearOpt = None,
) -> None:
    """Compare a cycle's Temporal history (accepted updates, appends, deadlines) with its event
    stream; exit 1 listing every difference. With --all [--year Y]: every cycle stream of the
    store against its workflow, with a progress bar."""
    from app.audit import reconcile, reconcile_all
    from workflows.messages import cycle_key

    name = _one_or_all(block, year, stream, every, only_year)
    if name is None:

        async def every_cycle() -> Any:
            async with bootstrap(
                settings_of(ctx), temporal="find", role="auditor", pool_size=2
            ) as services:
                assert services.temporal is not None
                with _bar("reconciling") as progress:
                    return await reconcile_all(
                        services.temporal, services.store, year=only_year, progress=progress
                    )

        results = run(every_cycle())
        for r in results:
            for d in r.differences:
                err.print(f"[red]difference[/red]: {r.stream}: {d}", highlight=False)
        bad = [r for r in results if not r.ok]
        print(
            f"{len(results)} cycle(s) reconciled, {len(bad)} with differences"
            + (f": {', '.join(r.stream for r in bad)}" if bad else "")
        )
        if bad:
            raise typer.Exit(1)
        return

    wid = workflow_id or cycle_key(block or "", year or 0)[0]

    async def go() -> Any:
        async with bootstrap(
            settings_of(ctx), temporal="find", role="auditor", pool_size=2
        ) as services:
            assert services.temporal is not None
            return await reconcile(services.temporal, services.store, wid, name)

    r = run(go())
    print(
        f"{wid} ({len(r.runs)} run(s), {r.updates} updates, version {r.workflow_version}) "
        f"vs {name} (version {r.store_version})"
    )
    for d in r.differences:
        err.print(f"[red]difference[/red]: {d}", highlight=False)
    if r.differences:
        raise typer.Exit(1)
    print("ok: every accepted update has its events, every event its update, deadline or start")


@contextmanager
def _bar(what: str) -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar on stderr: yields progress(done, total, stream)."""
    from rich.progress import Progress as Bar

    with Bar(console=err, transient=True) as bar:
        task = bar.add_task(what, total=None)

        def progress(done: int, total: int, stream: str) -> None:
            bar.update(task, completed=done, total=total)

        yield progress


def _checked_witness(ctx: typer.Context, key: str | None = None) -> Any:
    """The witness checked on its own (app.witness.check), or None when none was ever made
    here; exit 2 with one line when it cannot be checked (missing, no key, key mismatch)."""
    from app.witness import WitnessError
    from app.witness.check import load_checked

    try:
        return load_checked(settings_of(ctx), key)
    except (WitnessError, OSError) as exc:
        err.print(f"[red]cannot check[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from None


async def temporal_cycles(services: Any) -> tuple[Any, dict[str, str]] | None:
    """(client, {cycle stream: workflow id}) of every cycle workflow Temporal knows, or None
    when Temporal is not reachable (not configured, no `dev up` running, or not answering)."""
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.service import RPCError

    settings = services.settings
    address = settings.temporal_address or (services.dev.temporal_address if services.dev else None)
    if not address:
        return None
    namespace = (
        settings.temporal_namespace
        if settings.temporal_address or not services.dev
        else services.dev.namespace
    )
    try:
        client = await asyncio.wait_for(
            Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter), 5
        )
        cycles = {}
        async for wf in client.list_workflows("WorkflowType = 'EmulationCycle'"):
            head, sep, rest = wf.id.partition("cycle:")
            block, _, year = rest.rpartition(":")
            if sep and block and year.isdigit():
                cycles[f"{head}cycle-{block}-{year}"] = wf.id
        return client, cycles
    except (RuntimeError, OSError, TimeoutError, RPCError) as exc:
        err.print(f"note: Temporal at {address} not consulted ({exc})", highlight=False)
        return None


def _verify_all(
    ctx: typer.Context, year: int | None, parse: bool, use_temporal: bool = True
) -> None:
    from app.audit import reconcile_if_held, verify_all
    from app.audit.verify_all import of_year

    witness = _checked_witness(ctx)
    if witness is None:
        err.print(
            "note: no witness checkpoints yet (the worker signs them): the chains alone"
            " are checked",
            highlight=False,
        )
    else:
        for f in witness.findings:
            err.print(f"[red]finding[/red]: witness: {f}", highlight=False)

    async def go() -> tuple[list[Any], dict[str, list[str]]]:
        async with bootstrap(
            settings_of(ctx), temporal="none", role="auditor", pool_size=2
        ) as services:
            temporal = await temporal_cycles(services) if use_temporal else None
            cycles = temporal[1] if temporal else {}
            witnessed = witness.log.by_stream(witness.latest.size) if witness else None
            with _bar("verifying") as progress:
                failures = await verify_all(
                    services.store,
                    year,
                    progress,
                    parse=parse,
                    witnessed=witnessed,
                    also=cycles,
                    evidence=services.evidence,
                )
            # Temporal, the second witness: each cycle's appends (versions and hashes) against
            # its stream
            differences: dict[str, list[str]] = {}
            if temporal:
                with _bar("reconciling") as progress:
                    names = of_year(sorted(cycles), year)
                    for n, stream in enumerate(names, start=1):
                        r = await reconcile_if_held(
                            temporal[0], services.store, cycles[stream], stream
                        )
                        if r.history and r.differences:
                            differences[stream] = list(r.differences)
                        progress(n, len(names), stream)
            return failures, differences

    failures, differences = run(go())
    for f in failures:
        err.print(f"[red]failing[/red]: {f}", highlight=False)
    for stream, ds in differences.items():
        err.print(
            f"[red]failing[/red]: {stream}: Temporal's history: {ds[0]}"
            + (f" (and {len(ds) - 1} more)" if len(ds) > 1 else ""),
            highlight=False,
        )
    if failures or differences or (witness is not None and witness.findings):
        raise typer.Exit(1)
    against = (
        f", against the signed checkpoint of {witness.latest.size} events"
        if witness is not None
        else ""
    )
    print(f"ok: every stream verifies{against}")


@app.command("verify-all", hidden=True)
def verify_all_command(
    ctx: typer.Context,
    year: Annotated[int | None, typer.Option(help="only the cycles of this year")] = None,
    parse: Annotated[
        bool, typer.Option(help="also parse every event as a domain event (slower)")
    ] = False,
    temporal: Annotated[
        bool, typer.Option(help="also compare each cycle with its Temporal history")
    ] = True,
) -> None:
    """The same as `audit verify --all` (kept for scripts that call it)."""
    _verify_all(ctx, year, parse, temporal)


# ---- the witness (app/witness) --------------------------------------------------------------

checkpoint_app = typer.Typer(
    help="The witness's signed checkpoints (outside the database).", no_args_is_help=True
)
app.add_typer(checkpoint_app, name="checkpoint")

KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--key",
        help="the witness's public key (base64) to check with, instead of the configured one",
    ),
]


@checkpoint_app.command("show")
def checkpoint_show(
    ctx: typer.Context,
    key: KeyOpt = None,
    stream: Annotated[
        str | None,
        typer.Option(help="with --out: the stream whose events' inclusion proofs to write"),
    ] = None,
    out_path: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="write the checkpoint with the stream's inclusion proofs (JSON), for "
            "`python3 verify.py EXPORT.zip --against FILE`",
        ),
    ] = None,
) -> None:
    """The latest signed checkpoint (c2sp.org/tlog-checkpoint), where it is kept and the public
    key that checks it; with --stream S --out FILE, that checkpoint with S's inclusion proofs."""
    from app.witness.log import bundle

    if (stream is None) != (out_path is None):
        err.print("[red]invalid:[/red] --stream and --out go together", highlight=False)
        raise typer.Exit(2)
    witness = _checked_witness(ctx, key)
    if witness is None:
        err.print(
            "[red]cannot check[/red]: no witness checkpoints yet (the worker signs them;"
            " `thidua audit checkpoint write` signs one now)",
            highlight=False,
        )
        raise typer.Exit(2)
    numbers = witness.log.numbers()
    if stream is not None and out_path is not None:
        data = bundle(witness.log, numbers[-1], witness.public_text, stream)
        out_path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
        print(
            f"{out_path}: checkpoint {numbers[-1]} ({witness.latest.size} events) with "
            f"{len(data['leaves'])} inclusion proofs of {stream}"
        )
    print(
        f"# witness {witness.log.dir}, checkpoint {numbers[-1]}, public key {witness.public_text}"
    )
    sys.stdout.write(witness.log.note(numbers[-1]))
    for f in witness.findings:
        err.print(f"[red]finding[/red]: {f}", highlight=False)
    if witness.findings:
        raise typer.Exit(1)


@checkpoint_app.command("verify")
def checkpoint_verify(
    ctx: typer.Context,
    key: KeyOpt = None,
    record: Annotated[
        str | None,
        typer.Option(
            help="also check a minutes' record (its QR code: thidua:STREAM@VERSION#HASH;cp=SIZE:"
            "ROOT) against the witness"
        ),
    ] = None,
) -> None:
    """Check the witness on its own: every checkpoint signed by the key, each consistent with
    the one before (RFC 9162 consistency proofs), the latest one's root equal to the tree over
    the recorded events. Exit 1 on a finding, 2 when it cannot be checked. (`audit verify --all`
    checks the store against it.)"""
    witness = _checked_witness(ctx, key)
    if witness is None:
        err.print("[red]cannot check[/red]: missing witness: no checkpoints yet", highlight=False)
        raise typer.Exit(2)
    findings = list(witness.findings)
    if record is not None:
        from app.witness import WitnessError
        from app.witness.check import check_record

        try:
            findings += [f"record: {f}" for f in check_record(witness, record)]
        except WitnessError as exc:
            err.print(f"[red]invalid:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
    for f in findings:
        err.print(f"[red]finding[/red]: {f}", highlight=False)
    if findings:
        raise typer.Exit(1)
    print(
        f"ok: {len(witness.log.numbers())} checkpoint(s) signed and consistent, the latest "
        f"covers {witness.latest.size} events"
        + ("; the record's checkpoint and head are the witness's" if record else "")
    )


@checkpoint_app.command("write")
def checkpoint_write(ctx: typer.Context) -> None:
    """Record the events the witness has not seen yet and sign a checkpoint now (the worker
    does this at every stage close and every few minutes)."""
    from app.witness import Witness, WitnessError, witness_key_path

    async def go() -> Any:
        async with bootstrap(settings_of(ctx), temporal="none", pool_size=2) as services:
            w = Witness(services.store, settings_of(ctx))
            return w, await w.step()

    try:
        w, cp = run(go())
    except WitnessError as exc:
        err.print(f"[red]cannot check[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from None
    if cp is None:
        print(f"{w.log.dir}: the latest checkpoint already covers every event")
    else:
        print(
            f"{w.log.dir}: checkpoint of {cp.size} events signed with "
            f"{witness_key_path(settings_of(ctx))}"
        )
