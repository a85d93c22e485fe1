"""Read models: projections of the global log that lists and pages read. Each read model is its
own module (its SQL beside its handler); `all_read_models()` lists the ones the worker keeps
current and `thidua projections rebuild` rebuilds."""

from __future__ import annotations

from eventstore.projection import ReadModel

from ..identity.people import PeopleReadModel
from .blocks import BlocksReadModel
from .cycles import CyclesReadModel
from .pending import PendingReadModel

__all__ = ["all_read_models"]


def all_read_models() -> list[ReadModel]:
    return [CyclesReadModel(), PeopleReadModel(), BlocksReadModel(), PendingReadModel()]
