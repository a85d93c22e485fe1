"""Reconcile a cycle's Temporal history with its event stream (placeholder, filled next)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Reconciliation", "reconcile"]


@dataclass(frozen=True)
class Reconciliation:
    differences: tuple[str, ...]


async def reconcile(*args: object) -> Reconciliation:
    raise NotImplementedError
