"""Reading the witness for a check: which key to trust, the latest checkpoint and what the
witness itself says (its signatures, consistency proofs and recorded leaves)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..settings import Settings
from .log import PUBLIC, WitnessError, WitnessLog, load_key, load_public
from .note import Checkpoint, public_bytes
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
            raise WitnessError(f"witness key mismatch: {path} is not the key of the checkpoints"
                               f" in {log.dir} ({PUBLIC} differs)")
        return public
    if stored is None:
        raise WitnessError(f"witness: no key to check with ({path} and {log.dir / PUBLIC} are"
                           " both missing)")
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
