"""Finding the stack a command talks to: the configured one, or the one `thidua dev up` runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from .settings import Settings

__all__ = ["connect_temporal", "dev_file", "read_dev", "write_dev"]


def dev_file(settings: Settings) -> Path:
    return settings.home / "dev.json"


def write_dev(settings: Settings, info: dict[str, Any]) -> None:
    dev_file(settings).write_text(json.dumps(info), encoding="utf-8")


def read_dev(settings: Settings) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(dev_file(settings).read_text(encoding="utf-8"))
        return data
    except (OSError, ValueError):
        return None


async def connect_temporal(settings: Settings) -> tuple[Client, str]:
    """A client on TEMPORAL_ADDRESS, else on the server of `thidua dev up`; and the task
    queue its worker serves."""
    address = settings.temporal_address
    queue = settings.task_queue
    if not address:
        dev = read_dev(settings)
        if dev is None:
            raise RuntimeError(
                "no Temporal to talk to: start the stack with `thidua dev up` (in another "
                "terminal) or set TEMPORAL_ADDRESS"
            )
        address, queue = dev["temporal_address"], dev.get("task_queue", queue)
    try:
        client = await Client.connect(
            address, namespace=settings.temporal_namespace, data_converter=pydantic_data_converter
        )
    except RuntimeError as exc:
        hint = "" if settings.temporal_address else (
            f" (from {dev_file(settings)}: is `thidua dev up` still running?)"
        )
        raise RuntimeError(f"cannot reach Temporal at {address}{hint}: {exc}") from exc
    return client, queue
