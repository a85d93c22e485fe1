"""Typed search attributes of the cycle workflows, so that operators find cycles in the
Temporal Web UI (`ThiduaBlock = "kg-khoi-2" AND ThiduaYear = 2018`). A server must have them
registered before a workflow sets them: `thidua dev up` does it; deploy/README.md shows how on
a cluster."""

from __future__ import annotations

__all__ = ["SEARCH_ATTRIBUTES"]

SEARCH_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("ThiduaBlock", "Keyword"),
    ("ThiduaYear", "Int"),
    ("ThiduaStage", "Keyword"),
    ("ThiduaProvince", "Keyword"),
)
"""(name, type as the temporal CLI spells it)."""
