"""Alternating turns of a baseline and ours, and the median of the per-turn ratios.

A benchmark on a shared machine measures two things one after the other; whatever the machine
does meanwhile (a neighbour's burst, a CPU that cools down) falls on whichever runs at that
moment. So each bench runs its two sides in turns, baseline then ours, ours then baseline, …
(each turn's order is the reverse of the one before), takes a ratio within each turn, and reports
the median of the per-turn ratios, with every turn's figures printed. A burst spoils one turn,
not the figure.

    pairs = Turns("cycles/s", "bare", "real")
    for turn, first, second in pairs.schedule(5):
        got = {first: await measure(first), second: await measure(second)}
        pairs.add(got["bare"], got["real"])
    pairs.ratio   # median of real/bare over the turns
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO, TypeVar

__all__ = ["Turns", "rotation"]

T = TypeVar("T")


def rotation(kinds: Sequence[T], turns: int) -> Iterator[tuple[int, Sequence[T]]]:
    """(turn, kinds in the order to run them): as given in even turns, reversed in odd ones; for
    benches with more than a baseline and ours."""
    if turns < 1:
        raise ValueError("turns is 1 or more")
    for t in range(turns):
        yield t, kinds if t % 2 == 0 else kinds[::-1]


@dataclass
class Turns:
    """The figures of `what` (e.g. "cycles/s") for `baseline` and `ours`, turn by turn. A ratio
    is ours / baseline; whether higher is better depends on the figure (a rate or a time)."""

    what: str
    baseline: str = "baseline"
    ours: str = "ours"
    out: TextIO = field(default_factory=lambda: sys.stderr)
    base_values: list[float] = field(default_factory=list)
    our_values: list[float] = field(default_factory=list)

    def schedule(self, turns: int) -> Iterator[tuple[int, str, str]]:
        """(turn, first, second): baseline first in even turns, ours first in odd ones."""
        for t, (first, second) in rotation((self.baseline, self.ours), turns):
            yield t, first, second

    def add(self, base: float, ours: float) -> float:
        """Record one turn; prints it and returns its ratio."""
        if base <= 0:
            raise ValueError(f"{self.baseline}'s {self.what} is {base}: no ratio")
        self.base_values.append(base)
        self.our_values.append(ours)
        r = ours / base
        print(
            f"  turn {len(self.base_values)}: {self.what} {self.baseline} {base:,.3f}, "
            f"{self.ours} {ours:,.3f}, ratio {r:.3f}",
            file=self.out,
            flush=True,
        )
        return r

    @property
    def ratios(self) -> list[float]:
        return [o / b for b, o in zip(self.base_values, self.our_values, strict=True)]

    @property
    def ratio(self) -> float:
        """The median of the per-turn ratios."""
        if not self.base_values:
            raise ValueError("no turn recorded")
        return statistics.median(self.ratios)

    def summary(self, key: str) -> dict[str, Any]:
        """`key` (the median ratio), `key`_turns (each turn's ratio) and the median figures of
        each side (`key`_baseline_median, `key`_ours_median, in the unit of `what`)."""
        return {
            key: round(self.ratio, 3),
            f"{key}_turns": [round(r, 3) for r in self.ratios],
            f"{key}_baseline_median": round(statistics.median(self.base_values), 3),
            f"{key}_ours_median": round(statistics.median(self.our_values), 3),
        }
