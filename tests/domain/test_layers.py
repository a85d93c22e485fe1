"""Imports go one way, floor by floor (README "Layout"):

    domain  <  eventstore  <  readmodels
    domain  <  workflows   <  activities (which also use eventstore)
    app (the composition root and the entry points) above them all.

domain imports nothing of ours and does no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.pure

ROOT = Path(__file__).resolve().parents[2]
OURS = {"domain", "workflows", "activities", "eventstore", "readmodels", "app"}


def imports(package: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        (
            "domain",
            OURS - {"domain"}
            | {
                "asyncpg",
                "temporalio",
                "structlog",
                "typer",
                "os",
                "socket",
                "subprocess",
                "time",
                "random",
                "asyncio",
            },
        ),
        (
            "workflows",
            {
                "asyncpg",
                "structlog",
                "fastapi",
                "typer",
                "app",
                "eventstore",
                "activities",
                "readmodels",
            },
        ),
        ("activities", {"app", "typer", "fastapi", "readmodels"}),
        ("eventstore", {"workflows", "activities", "readmodels", "temporalio", "app"}),
        ("readmodels", {"workflows", "activities", "temporalio", "app", "typer", "fastapi"}),
    ],
)
def test_imports_go_one_way(package: str, forbidden: set[str]) -> None:
    assert imports(package) & forbidden == set()
