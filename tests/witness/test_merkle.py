"""RFC 9162 tree hashing and proofs against the RFC's recursive definitions, and the signed
checkpoint note (c2sp.org/tlog-checkpoint + signed-note)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.witness.log import Leaf, WitnessLog
from app.witness.merkle import Tree, leaf_hash, node_hash, verify_consistency, verify_inclusion
from app.witness.note import Checkpoint, NoteError, sign, verify

pytestmark = pytest.mark.pure


def mth(d: list[bytes]) -> bytes:
    """RFC 9162 2.1.1, literally."""
    n = len(d)
    if n == 0:
        return hashlib.sha256().digest()
    if n == 1:
        return leaf_hash(d[0])
    k = 1 << (n - 1).bit_length() - 1
    return node_hash(mth(d[:k]), mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1 << (n - 1).bit_length() - 1
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = 1 << (n - 1).bit_length() - 1
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


LEAVES = [bytes([i]) * 32 for i in range(40)]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 40])
def test_root_and_proofs_are_those_of_the_rfc(n: int) -> None:
    d = LEAVES[:n]
    tree = Tree([leaf_hash(x) for x in d])
    assert tree.root() == mth(d)
    for m in range(n):
        proof = tree.inclusion_proof(m)
        assert proof == path(m, d)
        assert verify_inclusion(m, n, leaf_hash(d[m]), proof, tree.root())
        assert not verify_inclusion(m, n, leaf_hash(b"x"), proof, tree.root())
        if n > 1:
            assert not verify_inclusion((m + 1) % n, n, leaf_hash(d[m]), proof, tree.root())
    for old in range(1, n + 1):
        proof = tree.consistency_proof(old)
        assert proof == subproof(old, d, True)
        assert verify_consistency(old, n, mth(d[:old]), tree.root(), proof)
        if old < n:
            changed = [*d[: old - 1], b"changed", *d[old:]]
            assert not verify_consistency(old, n, mth(changed[:old]), tree.root(), proof)
            assert not verify_consistency(old, n, mth(d[:old]), mth(changed), proof)


def test_proofs_inside_a_larger_tree() -> None:
    tree = Tree([leaf_hash(x) for x in LEAVES])
    for size in (5, 17, 32):
        root = mth(LEAVES[:size])
        assert verify_inclusion(3, size, leaf_hash(LEAVES[3]), tree.inclusion_proof(3, size), root)
        assert tree.consistency_proof(4, size) == subproof(4, LEAVES[:size], True)


def test_a_checkpoint_note_signs_and_verifies() -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    cp = Checkpoint("thidua/test", 12, bytes(range(32)), ("last-position 99",))
    note = sign(cp, key)
    assert note.startswith("thidua/test\n12\n") and "\n\n\u2014 thidua/test " in note
    assert verify(note, key.public_key()) == cp
    assert cp.extension("last-position") == "99"
    with pytest.raises(NoteError, match="another key"):
        verify(note, other.public_key())
    with pytest.raises(NoteError, match="bad signature"):
        verify(note.replace("\n12\n", "\n11\n"), key.public_key())
    with pytest.raises(NoteError, match="not a signed note"):
        verify("garbage", key.public_key())


def test_the_witness_log_checks_its_own_checkpoints(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    w = WitnessLog(tmp_path)
    with w.locked():
        w.init_key(key)
        w.add([Leaf(10 + i, f"s{i % 2}", i // 2 + 1, os.urandom(32)) for i in range(5)])
        assert w.checkpoint(key) is not None
        assert w.checkpoint(key) is None  # nothing new
        w.add([Leaf(20, "s0", 4, os.urandom(32))])
        assert w.checkpoint(key).size == 6  # type: ignore[union-attr]
    fresh = WitnessLog(tmp_path)
    latest, findings = fresh.verify()
    assert findings == [] and latest.size == 6
    assert [x.version for x in fresh.by_stream(6)["s0"]] == [1, 2, 3, 4]
    # someone edits the recorded leaves: the signed root no longer matches
    leaves = tmp_path / "leaves.jsonl"
    lines = leaves.read_bytes().splitlines(keepends=True)
    leaves.chmod(0o644)
    leaves.write_bytes(b"".join(lines[:-1]))
    latest, findings = WitnessLog(tmp_path).verify()
    assert findings == ["checkpoint 2: signs 6 events, the witness records 5 (its leaves were cut)"]
    leaves.write_bytes(b"".join(lines[:-1]) + lines[-1].replace(b'"s0"', b'"s1"'))
    latest, findings = WitnessLog(tmp_path).verify()
    assert len(findings) == 1 and "root differs" in findings[0]


def test_a_half_written_leaf_is_dropped_and_another_key_is_refused(tmp_path: Path) -> None:
    from app.witness.log import WitnessError

    key = Ed25519PrivateKey.generate()
    w = WitnessLog(tmp_path)
    with w.locked():
        w.init_key(key)
        w.add([Leaf(1, "s", 1, os.urandom(32))])
        w.checkpoint(key)
    with (tmp_path / "leaves.jsonl").open("ab") as f:
        f.write(b'[2,"s",2,"ab')  # a crash mid-line: never signed
    again = WitnessLog(tmp_path)
    with again.locked():
        assert len(again.leaves) == 1
        again.add([Leaf(2, "s", 2, os.urandom(32))])
        assert again.checkpoint(key).size == 2  # type: ignore[union-attr]
        with pytest.raises(WitnessError, match="key mismatch"):
            again.init_key(Ed25519PrivateKey.generate())
        with pytest.raises(WitnessError, match="after the last recorded position"):
            again.add([Leaf(2, "s", 3, os.urandom(32))])
    latest, findings = WitnessLog(tmp_path).verify()
    assert findings == [] and latest.size == 2
    with pytest.raises(WitnessError, match="key mismatch"):
        WitnessLog(tmp_path).verify(Ed25519PrivateKey.generate().public_key())
