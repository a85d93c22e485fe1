"""The witness: a directory outside the database where the worker records every event's hash
and signs checkpoints of the Merkle tree over them (RFC 9162 hashing, c2sp.org/tlog-checkpoint
format). The service's database role cannot reach it; a database superuser who cuts, rewrites,
forges or drops events afterwards is named by `thidua audit verify --all`.

    WITNESS_DIR/leaves.jsonl             one line per event, in the store's position order
                                         (read_all, below the watermark): [position, stream,
                                         version, hash hex]; leaf i of the tree =
                                         UTF-8("{stream}\n{version}\n") || the stored hash
    WITNESS_DIR/checkpoints/N.txt        the N-th signed checkpoint (never overwritten)
    WITNESS_DIR/checkpoints/N.proof      JSON: the consistency proof from checkpoint N-1 to N
    WITNESS_DIR/witness.pub              the public key (base64 of the 32 raw bytes)

Files are only ever appended to or created (O_EXCL, read-only afterwards); several processes
share the directory under a lock (flock on WITNESS_DIR/.lock). A line not covered by a checkpoint
is data the next checkpoint signs; a half-written last line (a crash) is dropped.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from .merkle import Tree, leaf_hash, verify_consistency
from .note import Checkpoint, NoteError, parse, public_bytes, sign, verify

__all__ = ["Leaf", "WitnessError", "WitnessLog", "leaf_data", "load_key", "load_public", "make_key"]

LEAVES = "leaves.jsonl"
CHECKPOINTS = "checkpoints"
PUBLIC = "witness.pub"


class WitnessError(Exception):
    """The witness cannot be read or checked (missing, unreadable, a key that does not match):
    one line, `audit` commands exit 2 on it."""


@dataclass(frozen=True, slots=True)
class Leaf:
    position: int
    stream: str
    version: int
    hash: bytes


def make_key(path: Path) -> Ed25519PrivateKey:
    """A new Ed25519 key in `path` (PEM, mode 0600, never overwritten)."""
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def load_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise WitnessError(f"witness key: {path} does not exist") from None
    except (OSError, ValueError, TypeError) as exc:
        raise WitnessError(f"witness key: {path} is not a readable PEM key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise WitnessError(f"witness key: {path} is not an Ed25519 key")
    return key


def load_public(text: str) -> Ed25519PublicKey:
    """A public key from its base64 text (witness.pub, `checkpoint show`)."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise WitnessError("witness public key: not the base64 of a 32-byte Ed25519 key") from None


def leaf_data(stream: str, version: int, stored_hash: bytes) -> bytes:
    """The tree's leaf for an event: its stream, version and stored hash (which covers the
    event's canonical body and, through the chain, everything before it in its stream)."""
    return f"{stream}\n{version}\n".encode() + stored_hash


def _leaf_line(leaf: Leaf) -> bytes:
    return (
        json.dumps(
            [leaf.position, leaf.stream, leaf.version, leaf.hash.hex()],
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        + b"\n"
    )


def _parse_leaf(line: bytes, n: int) -> Leaf:
    try:  # orjson: a witness of a year's events is read line by line at every check
        position, stream, version, h = orjson.loads(line)
        if not (type(position) is int and type(stream) is str and type(version) is int):
            raise ValueError("position, stream and version are an integer, a text, an integer")
        leaf = Leaf(position, stream, version, bytes.fromhex(h))
    except (ValueError, TypeError) as exc:  # orjson.JSONDecodeError is a ValueError
        raise WitnessError(f"witness: {LEAVES} line {n} is not a leaf ({exc})") from None
    if len(leaf.hash) != 32:
        raise WitnessError(f"witness: {LEAVES} line {n}: the hash is not 32 bytes")
    return leaf


class WitnessLog:
    """One witness directory. `read` loads it; `add` records events; `checkpoint` signs."""

    def __init__(self, directory: Path, origin: str = "thidua/witness") -> None:
        self.dir = Path(directory)
        self.origin = origin
        self.leaves: list[Leaf] = []
        self._hashes: list[bytes] = []
        self._offset = 0

    # ---- reading --------------------------------------------------------------------------

    @property
    def exists(self) -> bool:
        return (self.dir / CHECKPOINTS).is_dir()

    def _read_new_leaves(self, *, repair: bool = False) -> None:
        path = self.dir / LEAVES
        try:
            with path.open("rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1
        if end < len(data) and repair:  # a crash mid-line: never signed, drop it
            os.truncate(path, self._offset + end)
        lines = data[:end].splitlines()
        try:  # every line in one parse; a line that is no leaf is named by the slow path
            rows = orjson.loads(b"[" + b",".join(lines) + b"]") if lines else []
            new = [Leaf(p, s, v, bytes.fromhex(h)) for p, s, v, h in rows]
            if not all(
                type(x.position) is int
                and type(x.stream) is str
                and type(x.version) is int
                and len(x.hash) == 32
                for x in new
            ):
                raise ValueError("a leaf of another shape")
        except (ValueError, TypeError):
            new = [_parse_leaf(line, len(self.leaves) + i) for i, line in enumerate(lines, 1)]
        self.leaves += new
        self._hashes += [leaf_hash(leaf_data(x.stream, x.version, x.hash)) for x in new]
        self._offset += end

    def numbers(self) -> list[int]:
        """The checkpoints' numbers, in order."""
        try:
            names = os.listdir(self.dir / CHECKPOINTS)
        except FileNotFoundError:
            return []
        return sorted(int(n[:-4]) for n in names if n.endswith(".txt") and n[:-4].isdigit())

    def note(self, number: int) -> str:
        try:
            return (self.dir / CHECKPOINTS / f"{number:010d}.txt").read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise WitnessError(f"witness: checkpoint {number} unreadable ({exc})") from None

    def public_key(self) -> Ed25519PublicKey:
        try:
            return load_public((self.dir / PUBLIC).read_text("ascii"))
        except (OSError, UnicodeDecodeError):
            raise WitnessError(f"witness: no public key in {self.dir / PUBLIC}") from None

    def latest_note(self) -> str | None:
        numbers = self.numbers()
        return self.note(numbers[-1]) if numbers else None

    # ---- writing --------------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        (self.dir / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._read_new_leaves(repair=True)
            yield
        finally:
            os.close(fd)

    def init_key(self, key: Ed25519PrivateKey) -> None:
        """Write the public key beside the checkpoints (once); a different key is refused."""
        raw = base64.b64encode(public_bytes(key.public_key())).decode() + "\n"
        path = self.dir / PUBLIC
        if path.exists():
            if path.read_text("ascii") != raw:
                raise WitnessError(
                    f"witness key mismatch: {path} holds another public key than"
                    " the configured witness key"
                )
            return
        _create(path, raw.encode())

    def add(self, leaves: list[Leaf]) -> None:
        """Record events (under `locked`), in position order after the last one."""
        if not leaves:
            return
        last = self.leaves[-1].position if self.leaves else 0
        if leaves[0].position <= last:
            raise WitnessError("witness: events must come after the last recorded position")
        data = b"".join(_leaf_line(x) for x in leaves)
        fd = os.open(self.dir / LEAVES, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._offset += len(data)
        self.leaves.extend(leaves)
        self._hashes.extend(leaf_hash(leaf_data(x.stream, x.version, x.hash)) for x in leaves)

    @property
    def last_position(self) -> int:
        return self.leaves[-1].position if self.leaves else 0

    def signed_size(self) -> int:
        note = self.latest_note()
        if note is None:
            return 0
        return parse(note)[0].size

    def checkpoint(self, key: Ed25519PrivateKey) -> Checkpoint | None:
        """Sign a checkpoint of every recorded event (under `locked`); None when the latest
        checkpoint already covers them all."""
        numbers = self.numbers()
        size = len(self._hashes)
        previous = None
        if numbers:
            previous = parse(self.note(numbers[-1]))[0]
            if previous.size >= size:
                return None
        tree = Tree(self._hashes)
        cp = Checkpoint(self.origin, size, tree.root(), (f"last-position {self.last_position}",))
        number = numbers[-1] + 1 if numbers else 1
        if previous is not None and previous.size:
            proof = {
                "old": previous.size,
                "new": size,
                "proof": [
                    base64.b64encode(h).decode() for h in tree.consistency_proof(previous.size)
                ],
            }
            _create(
                self.dir / CHECKPOINTS / f"{number:010d}.proof", json.dumps(proof).encode() + b"\n"
            )
        _create(self.dir / CHECKPOINTS / f"{number:010d}.txt", sign(cp, key).encode())
        return cp

    # ---- checking -------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the recorded leaves afresh (another process writes them)."""
        self.leaves, self._hashes, self._offset = [], [], 0
        self.load()

    def load(self) -> None:
        """Read every recorded leaf (for checking)."""
        if not self.exists:
            raise WitnessError(f"witness: no checkpoints in {self.dir}")
        self._read_new_leaves()

    def verify(self, public: Ed25519PublicKey | None = None) -> tuple[Checkpoint, list[str]]:
        """Check the whole witness: every checkpoint signed by the key, each consistent with the
        one before (its proof), and the latest one's root equal to the tree over the recorded
        leaves. Returns (latest checkpoint, findings); WitnessError when it cannot be checked."""
        self.load()
        public = public or self.public_key()
        numbers = self.numbers()
        if not numbers:
            raise WitnessError(f"witness: no checkpoints in {self.dir}")
        findings: list[str] = []
        previous: Checkpoint | None = None
        latest: Checkpoint | None = None
        other_key = 0
        for n in numbers:
            try:
                cp = verify(self.note(n), public)
            except NoteError as exc:
                other_key += "another key" in str(exc)
                findings.append(f"checkpoint {n}: {exc}")
                continue
            if previous is not None:
                findings += _consistency(self, n, previous, cp)
            previous = latest = cp
        if other_key == len(numbers):
            raise WitnessError(
                "witness key mismatch: no checkpoint in "
                f"{self.dir / CHECKPOINTS} is signed by the given key"
            )
        if latest is None:
            return Checkpoint(self.origin, 0, b"\0" * 32), findings
        if latest.size > len(self._hashes):
            findings.append(
                f"checkpoint {numbers[-1]}: signs {latest.size} events, the witness"
                f" records {len(self._hashes)} (its leaves were cut)"
            )
        elif Tree(self._hashes[: latest.size]).root() != latest.root:
            findings.append(
                f"checkpoint {numbers[-1]}: its root differs from the tree over the"
                " recorded events (the witness's leaves were changed)"
            )
        return latest, findings

    def by_stream(self, size: int) -> dict[str, list[Leaf]]:
        """The first `size` leaves, by stream, in version order."""
        out: dict[str, list[Leaf]] = {}
        for leaf in self.leaves[:size]:
            out.setdefault(leaf.stream, []).append(leaf)
        return out

    def tree(self, size: int | None = None) -> Tree:
        return Tree(self._hashes if size is None else self._hashes[:size])


def _consistency(log: WitnessLog, n: int, old: Checkpoint, new: Checkpoint) -> list[str]:
    if new.size < old.size:
        return [
            f"checkpoint {n}: signs {new.size} events, fewer than the {old.size} of the one before"
        ]
    if old.size == 0:
        return []
    if new.size == old.size:
        return (
            []
            if new.root == old.root
            else [f"checkpoint {n}: another root for the same {new.size} events"]
        )
    path = log.dir / CHECKPOINTS / f"{n:010d}.proof"
    try:
        p: dict[str, Any] = json.loads(path.read_text("utf-8"))
        proof = [base64.b64decode(h, validate=True) for h in p["proof"]]
        ok = (p["old"], p["new"]) == (old.size, new.size) and verify_consistency(
            old.size, new.size, old.root, new.root, proof
        )
    except (OSError, ValueError, KeyError, TypeError):
        return [f"checkpoint {n}: no readable consistency proof from checkpoint {n - 1}"]
    return (
        []
        if ok
        else [
            f"checkpoint {n}: not consistent with checkpoint {n - 1} (history"
            " was rewritten between them)"
        ]
    )


def _create(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


BUNDLE = "thidua-checkpoint-bundle/1"


def bundle(log: WitnessLog, number: int, public_text: str, stream: str) -> dict[str, Any]:
    """A stream's events in checkpoint `number` with their inclusion proofs: what an export
    carries and what `verify.py --against` checks an (older) export with. The leaf of an event
    is leaf_data(stream, version, hash) (RFC 9162 leaf hash over it)."""
    note = log.note(number)
    cp = parse(note)[0]
    tree = log.tree(cp.size)
    leaves = [
        {
            "version": leaf.version,
            "hash": leaf.hash.hex(),
            "index": i,
            "proof": [h.hex() for h in tree.inclusion_proof(i)],
        }
        for i, leaf in enumerate(log.leaves[: cp.size])
        if leaf.stream == stream
    ]
    return {
        "format": BUNDLE,
        "stream": stream,
        "checkpoint": note,
        "public_key": public_text,
        "leaf": "SHA-256(0x00 || UTF-8(stream + '\\n' + version + '\\n') || hash) (RFC 9162)",
        "leaves": leaves,
    }
