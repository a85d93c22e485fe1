"""Failover benchmark: how long the first update of a cycle takes after its worker dies, against
a warm update of the same cycle in the same run.

    python bench/failover.py [--rounds 3] [--after 0] [--settle 25] [--home DIR]

It starts `thidua dev up --no-api` on a fresh THIDUA_HOME (or uses the running stack of --home)
and, per round, on a fresh cycle of the reference block (its own workflow id prefix):

warm      two pledges are signed; the second one's latency is the warm figure;
kill -9   the running worker (dev.json's worker_pid) is killed with SIGKILL; once the process
          is gone (and --after seconds more) the next pledge is timed;
SIGTERM   after another warm pledge on the worker now serving the cycle, that worker gets
          SIGTERM (graceful stop); once it is gone the next pledge is timed.

Before each kill it waits --settle seconds so that `dev up` has its spare worker ready again.
After each failover, one more pledge warms the worker that took over and the next is timed as a
warm figure too. Latency is measured around CycleClient.send (its retries included). Rounds are
turns (bench/_turns.py): each failover's ratio is taken to the warm update measured just before
it in even rounds and just after it in odd ones, and the figure is the median of the per-round
ratios. The last line printed is one JSON object: per kind the median and max in ms and the
ratio with its per-round values.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# bench/eventstore.py would shadow the eventstore package: import from the repository root
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from temporalio.client import Client  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402

from app.client import CycleClient  # noqa: E402
from bench._turns import Turns  # noqa: E402
from domain.scenario import Scenario, load_scenario  # noqa: E402

REFERENCE = ROOT / "app" / "scenarios" / "kg-khoi-2-2018.json"
THIDUA = str(Path(sys.executable).parent / "thidua")


def dev_json(home: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((home / "dev.json").read_text("utf-8"))
    return data


def start_stack(home: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")}
    env["THIDUA_HOME"] = str(home)
    proc = subprocess.Popen(
        [THIDUA, "dev", "up", "--no-api"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(home / "dev-up.log").open("wb"),
    )
    deadline = time.monotonic() + 180
    while not (home / "dev.json").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"thidua dev up did not start; see {home / 'dev-up.log'}")
        time.sleep(0.5)
    return proc


async def gone(pid: int) -> None:
    """Until the process has exited (a zombie counts: it no longer runs)."""
    while True:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return
        if "\nState:\tZ" in status:
            return
        await asyncio.sleep(0.005)


async def new_worker(home: Path, old: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while True:
        pid = dev_json(home).get("worker_pid")
        if isinstance(pid, int) and pid != old:
            return pid
        if time.monotonic() > deadline:
            raise SystemExit("dev up did not name a new worker")
        await asyncio.sleep(0.05)


async def one_round(
    home: Path, client: Client, task_queue: str, sc: Scenario, after: float, settle: float
) -> dict[str, float]:
    cycles = CycleClient(client, task_queue, prefix=f"fo{uuid.uuid4().hex[:8]}-")
    await cycles.start(sc.start_command())
    pledges = [s for s in sc.steps if s.command.do == "sign_pledge"]

    async def send(i: int) -> float:
        t = time.perf_counter()
        await cycles.send(sc.block.id, sc.year, pledges[i].command, pledges[i].actor)
        return (time.perf_counter() - t) * 1000

    await send(0)
    warm = await send(1)
    await asyncio.sleep(settle)
    pid = dev_json(home)["worker_pid"]
    assert isinstance(pid, int)
    os.kill(pid, signal.SIGKILL)
    await gone(pid)
    await asyncio.sleep(after)
    after_kill = await send(2)
    await new_worker(home, pid)
    await send(3)
    warm2 = await send(4)
    await asyncio.sleep(settle)
    pid = dev_json(home)["worker_pid"]
    assert isinstance(pid, int)
    os.kill(pid, signal.SIGTERM)
    await gone(pid)
    await asyncio.sleep(after)
    after_term = await send(5)
    await new_worker(home, pid)
    await send(6)
    warm3 = await send(7)
    return {
        "warm": warm,
        "warm2": warm2,
        "warm3": warm3,
        "kill9": after_kill,
        "sigterm": after_term,
    }


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--after",
        type=float,
        default=0.0,
        help="seconds between the worker's exit and the timed update",
    )
    ap.add_argument(
        "--settle",
        type=float,
        default=25.0,
        help="seconds before each kill (dev up readies a new spare worker)",
    )
    ap.add_argument("--home", type=Path, help="use the running `thidua dev up` of this home")
    args = ap.parse_args()
    own = args.home is None
    home = Path(tempfile.mkdtemp(prefix="thidua-failover-")) if own else args.home
    stack = start_stack(home) if own else None
    try:
        dev = dev_json(home)
        client = await Client.connect(
            str(dev["temporal_address"]),
            namespace=str(dev["namespace"]),
            data_converter=pydantic_data_converter,
        )
        sc = load_scenario(REFERENCE.read_bytes())
        rows = []
        kill9 = Turns("ms", "warm", "after kill -9")
        term = Turns("ms", "warm", "after SIGTERM")
        for r, _, _ in kill9.schedule(args.rounds):
            row = await one_round(home, client, str(dev["task_queue"]), sc, args.after, args.settle)
            rows.append(row)
            print(
                f"round {r + 1}: " + ", ".join(f"{k} {v:.0f} ms" for k, v in row.items()),
                flush=True,
            )
            # each failover is paired with the warm update measured just before it in even
            # rounds, just after it (on the worker that took over) in odd ones
            kill9.add(row["warm"] if r % 2 == 0 else row["warm2"], row["kill9"])
            term.add(row["warm2"] if r % 2 == 0 else row["warm3"], row["sigterm"])
    finally:
        if stack is not None:
            stack.send_signal(signal.SIGTERM)
            stack.wait(60)
            subprocess.run(
                [THIDUA, "db", "stop"],
                env={**os.environ, "THIDUA_HOME": str(home)},
                capture_output=True,
                check=False,
            )
            shutil.rmtree(home, ignore_errors=True)
    warm = statistics.median([r[k] for r in rows for k in ("warm", "warm2", "warm3")])
    summary: dict[str, object] = {
        "rounds": args.rounds,
        "after_s": args.after,
        "warm_ms": round(warm),
    }
    for kind, pairs in (("kill9", kill9), ("sigterm", term)):
        values = [r[kind] for r in rows]
        summary[f"{kind}_ms"] = round(statistics.median(values))
        summary[f"{kind}_max_ms"] = round(max(values))
        summary.update(pairs.summary(f"{kind}_ratio"))
    print(json.dumps(summary))


if __name__ == "__main__":
    asyncio.run(main())
