"""Reading the witness for a check: which key to trust, the latest checkpoint and what the
witness itself says (its signatures, consistency proofs and recorded leaves)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..settings import Settings
from .log import PUBLIC, WitnessError, WitnessLog, load_key, load_public
from .note import RECORD, Checkpoint, public_bytes
from .service import witness_dir, witness_key_path

__all__ = ["Checked", "load_checked", "trusted_key"]


@dataclass
class Checked:
    log: WitnessLog
    latest: Checkpoint
    findings: list[str]
    public: Ed25519PublicKey

    @property
    def public_text(self) -> str:
        return base64.b64encode(public_bytes(self.public)).decode()


def trusted_key(settings: Settings, log: WitnessLog) -> Ed25519PublicKey:
    """The key checkpoints must be signed with: the configured witness key's public half, or,
    with no key file here (an auditor's machine), the witness's witness.pub. Both present and
    different: a key mismatch."""
    path = witness_key_path(settings)
    stored = None
    if (log.dir / PUBLIC).exists():
        stored = log.public_key()
    if path.exists():
        public = load_key(path).public_key()
        if stored is not None and public_bytes(stored) != public_bytes(public):
            raise WitnessError(
                f"witness key mismatch: {path} is not the key of the checkpoints"
                f" in {log.dir} ({PUBLIC} differs)"
            )
        return public
    if stored is None:
        raise WitnessError(
            f"witness: no key to check with ({path} and {log.dir / PUBLIC} are both missing)"
        )
    return stored


def load_checked(settings: Settings, public_text: str | None = None) -> Checked | None:
    """The witness checked on its own; None when the default witness directory has no
    checkpoints yet (nothing was ever witnessed here). WitnessError (cannot check) when a
    named witness directory is missing, a key is missing or does not match."""
    log = WitnessLog(witness_dir(settings), settings.witness_origin)
    if not log.exists or not log.numbers():
        if settings.witness_dir is not None:
            raise WitnessError(f"missing witness: {log.dir} holds no checkpoints")
        return None
    public = load_public(public_text) if public_text else trusted_key(settings, log)
    latest, findings = log.verify(public)
    return Checked(log, latest, findings, public)


def check_record(checked: Checked, record: str) -> list[str]:
    """A minutes' record (its QR code or keywords: `thidua:STREAM@VERSION#HASH;cp=SIZE:ROOT`)
    against the witness: the tree of its first SIZE events has that root, and holds the
    record's head. WitnessError when the text is not such a record."""
    named = RECORD.match(record.strip())
    if named is None or not named["cp_size"]:
        raise WitnessError(
            "--record: not a record with a checkpoint (thidua:STREAM@VERSION#HASH;cp=SIZE:ROOT)"
        )
    size, root = int(named["cp_size"]), named["cp_root"]
    log = checked.log
    if size > len(log.leaves):
        return [
            f"the record names a checkpoint of {size} events, the witness holds {len(log.leaves)}"
        ]
    findings = []
    if log.tree(size).root().hex() != root:
        findings.append(
            f"the witness's tree of {size} events has another root than the record"
            " names (the witness or the record was changed)"
        )
    stream, version, head = named["stream"], int(named["version"]), named["hash"]
    held = [x for x in log.leaves[:size] if x.stream == stream and x.version == version]
    if not held:
        findings.append(f"the witness's first {size} events do not hold {stream} version {version}")
    elif held[0].hash.hex() != head:
        findings.append(
            f"{stream} version {version}: the witness recorded another hash than the record names"
        )
    return findings
