"""Start-up of the command line: `thidua --help` (and `--version`) against `python -c pass`.

    python bench/cli.py [--turns N]      (default 15)

The commands run in turns (bench/_turns.py): in even turns `python -c pass` first, then
`thidua --help` and `thidua --version`; in odd turns the other way round, so that a machine that
slows down or speeds up weighs on all alike. The ratio of a turn is the command's wall time over
the bare interpreter's in that turn. Target: help_vs_python <= 8 (the median of the per-turn
ratios). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench._turns import Turns  # noqa: E402


def wall(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=15)
    turns = parser.parse_args().turns
    thidua = shutil.which("thidua") or str(Path(sys.executable).parent / "thidua")
    bare = [sys.executable, "-c", "pass"]
    wall(bare), wall([thidua, "--help"])  # warm the file cache once
    helps = Turns("s", "python -c pass", "thidua --help")
    versions = Turns("s", "python -c pass", "thidua --version")
    for _, first, _ in helps.schedule(turns):
        if first == "python -c pass":
            p = wall(bare)
            h, v = wall([thidua, "--help"]), wall([thidua, "--version"])
        else:
            h, v = wall([thidua, "--help"]), wall([thidua, "--version"])
            p = wall(bare)
        helps.add(p, h)
        versions.add(p, v)
    result = {
        "turns": turns,
        **helps.summary("help_vs_python"),
        "version_vs_python": round(versions.ratio, 2),
        "target": 8,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
