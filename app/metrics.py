"""Prometheus metrics of thidua's own (prometheus-client), in the process's default registry.

API (`/metrics` of `thidua api`):
    thidua_http_requests_total{method, route, status}      route = the route template
    thidua_http_request_duration_seconds{method, route}    latency histogram

Worker (`/metrics` on METRICS_PORT, after the Temporal SDK's own `temporal_*` series):
    thidua_cycles{stage}                        cycles by stage, from the read model
    thidua_pending_tasks{days_to_deadline}      actions still expected, by days to the deadline
                                                (`overdue`, `0`, `1`, `2-7`, `8-30`, `>30`, `none`)
    thidua_outbox_backlog                       notifications (reminders, new tasks) not yet delivered
    thidua_outbox_overdue                       … of which the due time has passed
    thidua_readmodel_lag_events{model}          events past a read model's checkpoint
    thidua_readmodel_lag_seconds{model}         age of the oldest event it has not applied
    thidua_activities_total{activity, outcome}  activities run (outcome = ok | failed)
    thidua_activity_failures_total{activity, error}
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import asyncpg
import structlog
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, generate_latest

from domain.stages import STAGES

__all__ = [
    "ACTIVITIES",
    "ACTIVITY_FAILURES",
    "HTTP_LATENCY",
    "HTTP_REQUESTS",
    "StoreGauges",
    "exposition",
]

log = structlog.get_logger("thidua.metrics")

HTTP_REQUESTS = Counter(
    "thidua_http_requests",
    "HTTP requests answered, by route template and status",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "thidua_http_request_duration_seconds",
    "HTTP request latency, by route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

ACTIVITIES = Counter("thidua_activities", "Activities run, by outcome", ["activity", "outcome"])
ACTIVITY_FAILURES = Counter(
    "thidua_activity_failures",
    "Activity attempts that failed, by error type",
    ["activity", "error"],
)

CYCLES = Gauge("thidua_cycles", "Cycles by stage (read model)", ["stage"])
PENDING = Gauge(
    "thidua_pending_tasks",
    "Actions still expected, by days to their deadline",
    ["days_to_deadline"],
)
OUTBOX = Gauge("thidua_outbox_backlog", "Notifications written to the outbox, not yet delivered")
OUTBOX_OVERDUE = Gauge("thidua_outbox_overdue", "Undelivered notifications past their due time")
LAG_EVENTS = Gauge(
    "thidua_readmodel_lag_events", "Events past a read model's checkpoint", ["model"]
)
LAG_SECONDS = Gauge(
    "thidua_readmodel_lag_seconds",
    "Age of the oldest event a read model has not applied",
    ["model"],
)
SCRAPE_ERRORS = Counter("thidua_metrics_store_errors", "Scrapes whose read of the store failed")

_BUCKETS = ("overdue", "0", "1", "2-7", "8-30", ">30", "none")

_PENDING_SQL = """
SELECT CASE
    WHEN deadline IS NULL THEN 'none'
    WHEN deadline < $1 THEN 'overdue'
    WHEN deadline < $1 + interval '1 day' THEN '0'
    WHEN deadline < $1 + interval '2 days' THEN '1'
    WHEN deadline < $1 + interval '8 days' THEN '2-7'
    WHEN deadline < $1 + interval '31 days' THEN '8-30'
    ELSE '>30' END AS bucket, count(*) AS n
FROM pending_actions GROUP BY 1
"""
_LAG_SQL = """
SELECT c.name,
       (SELECT count(*) FROM (SELECT 1 FROM events e WHERE e.position > c.position
                              LIMIT 1000000) t) AS n,
       (SELECT min(recorded_at) FROM (SELECT recorded_at FROM events e
                                      WHERE e.position > c.position
                                      ORDER BY e.position LIMIT 1) t) AS oldest
FROM projection_checkpoints c
"""


class StoreGauges:
    """Sets the gauges read from the store; called before each scrape of the worker."""

    def __init__(self, pool: asyncpg.Pool, timeout: float = 5.0) -> None:
        self.pool, self.timeout = pool, timeout

    async def refresh(self) -> None:
        try:
            async with asyncio.timeout(self.timeout), self.pool.acquire() as conn:
                now = datetime.now(UTC)
                stages: dict[str, int] = {
                    r[0]: r[1]
                    for r in await conn.fetch("SELECT stage, count(*) FROM cycles GROUP BY stage")
                }
                pending: dict[str, int] = {r[0]: r[1] for r in await conn.fetch(_PENDING_SQL, now)}
                outbox = await conn.fetchrow(
                    "SELECT count(*), count(*) FILTER (WHERE due_at < $1) FROM outbox "
                    "WHERE sent_at IS NULL",
                    now,
                )
                assert outbox is not None  # an aggregate has one row
                backlog, overdue = outbox
                lags = await conn.fetch(_LAG_SQL)
        except Exception as exc:  # the store is down: the last values stand, the count says so
            SCRAPE_ERRORS.inc()
            log.warning("metrics.store_unreadable", error=type(exc).__name__)
            return
        for stage in {*STAGES, *stages}:
            CYCLES.labels(stage).set(stages.get(stage, 0))
        for bucket in _BUCKETS:
            PENDING.labels(bucket).set(pending.get(bucket, 0))
        OUTBOX.set(backlog)
        OUTBOX_OVERDUE.set(overdue)
        for row in lags:
            LAG_EVENTS.labels(row["name"]).set(row["n"])
            age = 0.0
            if row["oldest"] is not None:
                age = max(0.0, (now - row["oldest"]).total_seconds())
            LAG_SECONDS.labels(row["name"]).set(age)


def exposition(prefix: bytes = b"") -> bytes:
    """Our series in the Prometheus text format, after `prefix` (e.g. the SDK's)."""
    ours = generate_latest(REGISTRY)
    if prefix and not prefix.endswith(b"\n"):
        prefix += b"\n"
    return prefix + ours


async def fetch_text(url: str, timeout: float = 2.0) -> bytes:
    """Another exporter's text (the Temporal SDK's, on its local port); empty when it fails."""
    import httpx

    with contextlib.suppress(Exception):
        async with httpx.AsyncClient(timeout=timeout) as client:
            resp = await client.get(url)
            if resp.status_code == 200:
                return resp.content
    return b""
