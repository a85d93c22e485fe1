"""Checkpoints in the transparency-log checkpoint format (c2sp.org/tlog-checkpoint), signed as a
note (c2sp.org/signed-note) with Ed25519:

    thidua.example/witness          origin (also the key's name)
    1234                            tree size (events)
    3q2+7w...=                      root hash, base64 (RFC 9162 tree over the events)
    last-position 987654            extension lines (opaque to other verifiers)

    — thidua.example/witness AbCd...    key id (4 bytes) || signature, base64

key id = SHA-256(name || "\\n" || 0x01 || public key)[:4]; the signature covers the text above the
blank line, final newline included.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = ["RECORD", "Checkpoint", "NoteError", "key_id", "public_bytes", "sign", "verify"]

_DASH = "\u2014"

RECORD = re.compile(
    r"^thidua:(?P<stream>[^@\s]+)@(?P<version>\d+)#(?P<hash>[0-9a-f]{64})"
    r"(?:;cp=(?P<cp_size>\d+):(?P<cp_root>[0-9a-f]{64}))?$"
)
"""The record a minutes' footer, QR code and keywords name (app.documents.minutes.record_uri):
its stream, head version and hash, and the witness's checkpoint (tree size, root) that holds
the head, when there was one."""


class NoteError(ValueError):
    """A checkpoint that does not parse, or whose signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = field(default=())

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"

    def extension(self, name: str) -> str | None:
        for line in self.extensions:
            key, _, value = line.partition(" ")
            if key == name:
                return value
        return None


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]


def sign(cp: Checkpoint, key: Ed25519PrivateKey) -> str:
    """The signed note of `cp` (origin = key name)."""
    body = cp.body()
    sig = key_id(cp.origin, public_bytes(key.public_key())) + key.sign(body.encode())
    return f"{body}\n{_DASH} {cp.origin} {base64.b64encode(sig).decode()}\n"


def parse(text: str) -> tuple[Checkpoint, str, list[tuple[str, bytes]]]:
    """(checkpoint, signed body, [(key name, key id || signature)]) of a note; NoteError when it
    is not one."""
    body, sep, sigs = text.partition("\n\n")
    if not sep or not body:
        raise NoteError("not a signed note: no blank line before the signatures")
    body += "\n"
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise NoteError("not a checkpoint: needs origin, size and root hash")
    origin, size_text, root_text, *ext = lines
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise NoteError("not a checkpoint: the tree size is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except ValueError:
        raise NoteError("not a checkpoint: the root hash is not base64") from None
    if len(root) != 32:
        raise NoteError("not a checkpoint: the root hash is not 32 bytes")
    signatures = []
    for line in sigs.split("\n"):
        if not line:
            continue
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != _DASH:
            raise NoteError("not a signed note: a signature line is malformed")
        try:
            signatures.append((parts[1], base64.b64decode(parts[2], validate=True)))
        except ValueError:
            raise NoteError("not a signed note: a signature is not base64") from None
    return Checkpoint(origin, int(size_text), root, tuple(ext)), body, signatures


def verify(text: str, public: Ed25519PublicKey) -> Checkpoint:
    """The checkpoint of a note signed by `public` under the note's origin; NoteError naming
    what is wrong otherwise."""
    cp, body, signatures = parse(text)
    raw = public_bytes(public)
    kid = key_id(cp.origin, raw)
    mine = [s for name, s in signatures if name == cp.origin and s[:4] == kid]
    if not mine:
        raise NoteError(
            f"no signature by the witness key ({cp.origin}, key id {kid.hex()}): "
            "signed with another key"
        )
    try:
        public.verify(mine[0][4:], body.encode())
    except InvalidSignature:
        raise NoteError("bad signature: the checkpoint was changed after it was signed") from None
    return cp
