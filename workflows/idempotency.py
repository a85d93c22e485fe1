"""What a request id is bound to: who sent which command.

A request id (the HTTP Idempotency-Key, the CLI's --request-id) is scoped to one cycle and bound
to the sha256 of the canonical JSON of {actor, command}. The same id with the same binding gets
the first answer; the same id from another caller or with another command is refused
(`idempotency_key_reused`). Pure and deterministic: the workflow and the client both use it.
"""

from __future__ import annotations

import hashlib

from domain.codec import canonical_json
from domain.commands import Command
from domain.values import Actor

__all__ = ["REUSED", "binding"]

REUSED = "idempotency_key_reused"


def binding(actor: Actor, command: Command) -> str:
    """The hex sha256 of {actor (kind, unit, name), command} as canonical JSON."""
    body = {"actor": actor.model_dump(mode="json"), "command": command.model_dump(mode="json")}
    return hashlib.sha256(canonical_json(body)).hexdigest()
