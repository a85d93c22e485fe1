"""Driving the reference steps through a block's cycle of any year."""

from __future__ import annotations

import json
from typing import Any

from app.client import CycleClient
from domain.errors import DomainError
from tests.workflows.helpers import REFERENCE, reference


def reference_file() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REFERENCE.read_text(encoding="utf-8"))
    return data


def block_object(block_id: str, province: str | None = None) -> dict[str, Any]:
    """The reference block under another id (and province)."""
    block = dict(reference_file()["block"], id=block_id)
    if province is not None:
        block["province"] = province
    return block


async def run_reference_steps(cycles: CycleClient, block_id: str, year: int) -> None:
    """The reference case's steps, each doing what it says, on the block's cycle of `year`."""
    for step in reference().steps:
        try:
            await cycles.send(
                block_id, year, step.command, step.actor, request_id=f"step-{step.index}"
            )
        except DomainError as err:
            assert err.code == step.expect_error, f"step {step.index}: {err}"
        else:
            assert step.expect_error is None, f"step {step.index} was accepted"
