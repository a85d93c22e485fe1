"""Start-up of the command line: `thidua --help` (and `--version`) against `python -c pass`.

    python bench/cli.py [--turns N]      (default 15)

Each turn runs `python -c pass`, then `thidua --help`, then `thidua --version`, alternating so
that a machine that slows down or speeds up weighs on all alike; the ratio of a turn is the
command's wall time over the bare interpreter's in that turn. Target: help_vs_python <= 8 (the
median of the per-turn ratios). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=15)
    turns = parser.parse_args().turns
    thidua = shutil.which("thidua") or str(Path(sys.executable).parent / "thidua")
    bare = [sys.executable, "-c", "pass"]
    wall(bare), wall([thidua, "--help"])  # warm the file cache once
    help_ratios, version_ratios, python_s, help_s = [], [], [], []
    for _ in range(turns):
        p = wall(bare)
        h = wall([thidua, "--help"])
        v = wall([thidua, "--version"])
        python_s.append(p)
        help_s.append(h)
        help_ratios.append(h / p)
        version_ratios.append(v / p)
    result = {
        "turns": turns,
        "python_ms": round(statistics.median(python_s) * 1000, 1),
        "help_ms": round(statistics.median(help_s) * 1000, 1),
        "help_vs_python": round(statistics.median(help_ratios), 2),
        "version_vs_python": round(statistics.median(version_ratios), 2),
        "target": 8,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
