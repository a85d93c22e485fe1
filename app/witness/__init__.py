"""The witness: signed checkpoints of every event, outside the database (app/witness/log.py)."""

from .log import Leaf, WitnessError, WitnessLog
from .note import Checkpoint, NoteError
from .service import Witness, follow_witness, witness_dir, witness_key_path

__all__ = [
    "Checkpoint",
    "Leaf",
    "NoteError",
    "Witness",
    "WitnessError",
    "WitnessLog",
    "follow_witness",
    "witness_dir",
    "witness_key_path",
]
