"""`thidua dev up` as a user runs it (the shared stack of tests/app/conftest.py): dev.json, the
Web UI, a worker killed alone, ports kept across a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request

import pytest

from app.devstack import find_binary
from app.discovery import _answers
from tests.app.devstack import DevStack, alive, thidua
from workflows.search import SEARCH_ATTRIBUTES

pytestmark = pytest.mark.temporal


def test_dev_json_names_every_service_and_the_web_ui_answers(stack: DevStack) -> None:
    info = stack.info()
    assert info["pid"] == stack.proc.pid  # type: ignore[union-attr]
    assert info["database_url"].startswith("postgresql://")
    assert info["temporal_address"].startswith("127.0.0.1:") and info["ui_url"]
    assert alive(info["worker_pid"])
    with urllib.request.urlopen(info["ui_url"], timeout=30) as r:
        assert r.status == 200
    printed = stack.log.read_text(errors="replace")
    for label in ("Temporal ", "Temporal Web UI " + info["ui_url"], "PostgreSQL "):
        assert label in printed
    # the witness's public key, made under THIDUA_HOME at first start (mode 0600)
    assert f"public key {info['witness_public_key']}" in printed
    assert (stack.home / "witness.key").stat().st_mode & 0o777 == 0o600
    listed = subprocess.run(
        [
            find_binary("temporal"),
            "operator",
            "search-attribute",
            "list",
            "--address",
            info["temporal_address"],
            "--namespace",
            info["namespace"],
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    custom = json.loads(listed)["customAttributes"]
    for name, kind in SEARCH_ATTRIBUTES:
        assert custom[name] == f"INDEXED_VALUE_TYPE_{kind.upper()}"


def test_a_worker_killed_alone_is_replaced_and_the_server_stays(
    started: str, stack: DevStack
) -> None:
    info = stack.info()
    os.kill(info["worker_pid"], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while stack.info()["worker_pid"] == info["worker_pid"]:
        assert time.monotonic() < deadline, "no new worker"
        time.sleep(0.1)
    assert stack.proc is not None and stack.proc.poll() is None
    assert _answers(info["temporal_address"])
    run = thidua(
        stack.home,
        "cycle",
        "send",
        started,
        "2018",
        "--as",
        "vp-ubnd",
        "--do",
        "sign_pledge",
        "-f",
        "unit=vp-ubnd",
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("accepted: pledge_signed")
    assert "dev.child_exited" in stack.log.read_text(errors="replace")


def test_ports_are_kept_across_a_restart(stack: DevStack) -> None:
    before = stack.info()
    assert stack.stop() == 0
    assert not (stack.home / "dev.json").exists()
    assert not alive(before["worker_pid"])
    after = stack.start()
    assert (after["temporal_address"], after["ui_url"]) == (
        before["temporal_address"],
        before["ui_url"],
    )
    assert after["pid"] != before["pid"]
