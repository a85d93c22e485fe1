"""The witness in the running service: where it lives (settings), the key, and the worker's
small periodic task that records new events and signs checkpoints — never on the append path."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from eventstore import EventStore

from ..settings import Settings
from .log import Leaf, WitnessError, WitnessLog, load_key, make_key
from .note import Checkpoint

__all__ = ["STAGE_CLOSES", "Witness", "follow_witness", "witness_dir", "witness_key_path"]

log = structlog.get_logger("thidua.witness")

STAGE_CLOSES = frozenset(
    {
        "pledge_closed",
        "scoring_closed",
        "review_held",
        "discipline_check_closed",
        "vote_round_closed",
        "election_round_closed",
        "leaders_decided",
        "leaders_agreed",
        "leaders_appointed",
        "deadline_missed",
        "cycle_cancelled",
        "cycle_completed",
    }
)
"""Event types after which the worker signs a checkpoint at once."""


def witness_dir(settings: Settings) -> Path:
    return settings.witness_dir or settings.thidua_home / "witness"


def witness_key_path(settings: Settings) -> Path:
    return settings.witness_key or settings.thidua_home / "witness.key"


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The witness key: the file the setting names (it must exist), or THIDUA_HOME/witness.key,
    made at first start (mode 0600)."""
    path = witness_key_path(settings)
    if settings.witness_key is None and not path.exists():
        key = make_key(path)
        log.info("witness.key_made", path=str(path))
        return key
    return load_key(path)


class Witness:
    """Records the store's events into the witness directory and signs checkpoints."""

    def __init__(self, store: EventStore, settings: Settings) -> None:
        self.store = store
        self.log = WitnessLog(witness_dir(settings), settings.witness_origin)
        self.key = signing_key(settings)
        self.log.dir.mkdir(parents=True, exist_ok=True)
        with self.log.locked():
            self.log.init_key(self.key)

    async def _lock(self) -> contextlib.AbstractContextManager[None]:
        # another process may hold it while it builds a tree: wait in a thread, not the loop
        cm = self.log.locked()
        await asyncio.to_thread(cm.__enter__)
        return _Entered(cm)

    async def record(self) -> tuple[int, bool]:
        """Append every event below the store's watermark not recorded yet: (how many, whether
        one of them closes a stage)."""
        added, closes = 0, False
        while True:
            events = await self.store.read_all(self.log.last_position, 5000)
            if not events:
                return added, closes
            self.log.add([Leaf(e.position, e.stream, e.version, bytes(e.hash)) for e in events])
            added += len(events)
            closes = closes or any(e.type in STAGE_CLOSES for e in events)

    async def step(self, *, sign: bool = True) -> Checkpoint | None:
        """Record new events; with `sign`, sign a checkpoint when there is anything unsigned."""
        with await self._lock():
            await self.record()
            if not sign:
                return None
            return await asyncio.to_thread(self.log.checkpoint, self.key)


class _Entered(contextlib.AbstractContextManager[None]):
    def __init__(self, cm: contextlib.AbstractContextManager[None]) -> None:
        self._cm = cm

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(None, None, None)


async def follow_witness(
    store: EventStore, settings: Settings, stop: asyncio.Event, poll: float = 5.0
) -> None:
    """The worker's periodic task: every `poll` seconds record new events; sign a checkpoint
    when a stage closed or `witness_interval_seconds` passed since the last one. A failure is
    logged and tried again (the witness falls behind, the store is untouched)."""
    try:
        witness = Witness(store, settings)
    except (WitnessError, OSError) as exc:
        log.error("witness.off", error=str(exc))
        return
    log.info("witness.started", dir=str(witness.log.dir), key=str(witness_key_path(settings)))
    last = float("-inf")  # the first round signs
    while not stop.is_set():
        try:
            with await witness._lock():
                _, closes = await witness.record()
                if closes or time.monotonic() - last >= settings.witness_interval_seconds:
                    cp = await asyncio.to_thread(witness.log.checkpoint, witness.key)
                    last = time.monotonic()
                    if cp is not None:
                        log.info("witness.checkpoint", size=cp.size)
        except Exception as exc:  # the database went away: say so, wait, go on
            log.warning("witness.behind", error=str(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll)
