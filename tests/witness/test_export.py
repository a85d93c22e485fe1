"""Exports carry the witness's signed checkpoint and the cycle's inclusion proofs; verify.py
(standard library only, `env -i /usr/bin/python3`) checks the signature (pure-Python Ed25519)
and every proof, and `--against` a later checkpoint finds a cut export."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit.export import export_bytes
from app.audit.verify_script import ed25519_verify
from app.settings import Settings
from app.witness import Witness
from app.witness.check import load_checked
from app.witness.log import bundle
from domain.codec import to_record
from eventstore import EventStore
from tests.eventstore.cycles import reference_events
from tests.eventstore.test_integrity import tamper
from tests.workflows.helpers import eventually

ROOT = Path(__file__).parents[2]
THIDUA = [str(Path(sys.executable).parent / "thidua")]
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


@pytest.mark.pure
def test_the_pure_python_ed25519_agrees_with_cryptography() -> None:
    for n in range(8):
        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes_raw()
        message = os.urandom(n * 17)
        signature = key.sign(message)
        assert ed25519_verify(public, message, signature)
        assert not ed25519_verify(public, message + b"x", signature)
        assert not ed25519_verify(public, message, signature[:-1] + bytes([signature[-1] ^ 1]))
        other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
        assert not ed25519_verify(other, message, signature)


def verify_py(tmp_path: Path, zip_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """verify.py as an auditor runs it: extracted, an empty environment, the system python3."""
    script = tmp_path / "verify.py"
    with zipfile.ZipFile(zip_path) as z:
        script.write_bytes(z.read("verify.py"))
    return subprocess.run(
        ["env", "-i", PYTHON, str(script), str(zip_path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


@pytest.mark.db
async def test_a_cut_export_is_found_against_a_later_checkpoint(
    store: EventStore, pool: asyncpg.Pool, db_url: str, tmp_path: Path
) -> None:
    stream = f"cycle-x{uuid.uuid4().hex[:6]}-2018"
    records = [
        to_record(e).model_copy(update={"event_id": uuid.uuid4()}) for e in reference_events()[:8]
    ]
    await store.append(stream, 0, records)
    settings = Settings(thidua_home=tmp_path, database_url=db_url)  # type: ignore[arg-type]
    witness = Witness(store, settings)

    async def signed() -> None:
        await witness.step()
        assert len(witness.log.by_stream(witness.log.signed_size()).get(stream, [])) == 8

    await eventually(signed)  # an older transaction may hold the watermark back a moment
    checked = load_checked(settings)
    assert checked is not None and checked.findings == []

    # an honest export carries the checkpoint and verifies, signature and proofs
    data, manifest = await export_bytes(store, stream, witness=checked)
    assert manifest["checkpoint"]["events"] == 8
    honest = tmp_path / "honest.zip"
    honest.write_bytes(data)
    done = verify_py(tmp_path, honest)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"8 events in the signed checkpoint of witness key {checked.public_text}" in done.stdout
    # a proof that does not lead to the signed root is named
    with zipfile.ZipFile(honest) as z:
        members = {n: z.read(n) for n in z.namelist()}
    proofs = json.loads(members["checkpoint.json"])
    proofs["leaves"][2]["proof"][0] = "00" * 32
    members["checkpoint.json"] = json.dumps(proofs).encode()
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(forged, "w") as z:
        for n, body in members.items():
            z.writestr(n, body)
    done = verify_py(tmp_path, forged)
    assert done.returncode == 1
    assert "FAILED: checkpoint: version 3 is not in the signed tree" in done.stdout
    # another key than the one the auditor trusts: cannot check
    other = base64.b64encode(os.urandom(32)).decode()
    done = verify_py(tmp_path, honest, "--key", other)
    assert done.returncode == 2 and done.stdout.startswith("CANNOT CHECK"), done.stdout

    # the insider cuts the last three events and exports without the witness: the export
    # verifies on its own ...
    await tamper(pool, f"DELETE FROM events WHERE stream = '{stream}' AND version > 5")
    data, _ = await export_bytes(store, stream)
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data)
    done = verify_py(tmp_path, cut)
    assert done.returncode == 0, done.stdout
    # ... but not against a later checkpoint of the witness
    await store.append(
        f"cycle-y{uuid.uuid4().hex[:6]}-2018",
        0,
        [to_record(reference_events()[0]).model_copy(update={"event_id": uuid.uuid4()})],
    )
    await witness.step()
    later = load_checked(settings)
    assert later is not None and len(later.log.numbers()) >= 2
    bundle_path = tmp_path / "later.json"
    bundle_path.write_text(
        json.dumps(bundle(later.log, later.log.numbers()[-1], later.public_text, stream))
    )
    done = verify_py(tmp_path, cut, "--against", str(bundle_path))
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        f"FAILED: the later checkpoint holds versions 6..8 of {stream}, the export ends at"
        " version 5 (a cut export)"
    ) in done.stdout
    done = verify_py(tmp_path, honest, "--against", str(bundle_path))
    assert done.returncode == 0, done.stdout
    assert "all 8 events of the later checkpoint present" in done.stdout
    # an export made with the witness after the cut names the cut itself
    data, _ = await export_bytes(store, stream, witness=later)
    (tmp_path / "cut2.zip").write_bytes(data)
    done = verify_py(tmp_path, tmp_path / "cut2.zip")
    assert done.returncode == 1 and "(a cut export)" in done.stdout, done.stdout


@pytest.mark.db
async def test_the_workers_task_signs_at_a_stage_close_and_not_on_every_event(
    store: EventStore, db_url: str, tmp_path: Path
) -> None:
    import asyncio

    from app.witness import follow_witness
    from app.witness.log import WitnessLog
    from domain.events import PledgeClosed
    from tests.eventstore.conftest import env as envelope
    from tests.eventstore.conftest import pledge

    settings = Settings(
        thidua_home=tmp_path,
        database_url=db_url,  # type: ignore[arg-type]
        witness_interval_seconds=3600,
    )
    stream = f"cycle-w{uuid.uuid4().hex[:6]}-2018"
    await store.append(stream, 0, [pledge("a")])
    log = WitnessLog(tmp_path / "witness")
    stop = asyncio.Event()
    task = asyncio.create_task(follow_witness(store, settings, stop, poll=0.05))
    try:

        async def covers(version: int) -> None:
            assert not task.done()
            assert log.numbers()
            log.reload()
            held = log.by_stream(log.signed_size()).get(stream, [])
            assert [x.version for x in held][-1:] == [version]

        await eventually(lambda: covers(1))  # the first round signs
        await store.append(stream, 1, [pledge("b")])

        async def recorded() -> None:
            assert log.numbers()
            log.reload()
            assert stream in {x.stream for x in log.leaves[-3:]}
            assert len([x for x in log.leaves if x.stream == stream]) == 2

        await eventually(recorded)
        assert len(log.numbers()) == 1  # recorded, not signed: the interval is an hour
        await store.append(stream, 2, [to_record(PledgeClosed(**envelope(), reason="all_signed"))])
        await eventually(lambda: covers(3))  # a stage closed: signed at once
        assert len(log.numbers()) == 2
    finally:
        stop.set()
        await task
