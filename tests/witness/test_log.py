"""The witness directory read back: every leaf line parsed (in one go), a damaged line named by
its number, a changed leaf found by the checkpoint's root."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.witness.log import LEAVES, Leaf, WitnessError, WitnessLog, make_key

pytestmark = pytest.mark.pure


def _witness(tmp_path: Path, n: int = 30) -> tuple[WitnessLog, object]:
    log = WitnessLog(tmp_path / "w")
    log.dir.mkdir(parents=True)
    key = make_key(tmp_path / "witness.key")
    with log.locked():
        log.init_key(key)
    log.add(
        [
            Leaf(
                i + 1, f"cycle-k{i // 5}-2018", i % 5 + 1, hashlib.sha256(str(i).encode()).digest()
            )
            for i in range(n)
        ]
    )
    assert log.checkpoint(key) is not None
    return log, key


def test_the_leaves_read_back_equal_the_recorded_ones_and_verify(tmp_path: Path) -> None:
    log, key = _witness(tmp_path)
    again = WitnessLog(log.dir)
    latest, findings = again.verify(key.public_key())  # type: ignore[attr-defined]
    assert findings == [] and latest.size == 30
    assert again.leaves == log.leaves
    assert [x.version for x in again.by_stream(30)["cycle-k2-2018"]] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "damage",
    [b'[1,"x",1]\n', b"not json\n", b'[1,"x",1,"abcd"]\n', b'["1","x",1,"' + b"00" * 32 + b'"]\n'],
)
def test_a_line_that_is_no_leaf_is_named_by_its_number(tmp_path: Path, damage: bytes) -> None:
    log, _ = _witness(tmp_path)
    path = log.dir / LEAVES
    lines = path.read_bytes().splitlines(keepends=True)
    lines[6] = damage
    path.write_bytes(b"".join(lines))
    with pytest.raises(WitnessError, match=f"{LEAVES} line 7"):
        WitnessLog(log.dir).load()


def test_a_changed_leaf_is_found_by_the_checkpoint(tmp_path: Path) -> None:
    log, key = _witness(tmp_path)
    path = log.dir / LEAVES
    text = path.read_bytes().replace(b'"cycle-k1-2018",2,', b'"cycle-k9-2018",2,', 1)
    path.write_bytes(text)
    _, findings = WitnessLog(log.dir).verify(key.public_key())  # type: ignore[attr-defined]
    assert any("root differs" in f for f in findings), findings
