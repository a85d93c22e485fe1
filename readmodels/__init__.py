"""Read models, beneath the services: projections of the global log that the services, lists
and pages read. Each read model is its own module (its SQL and its queries beside its
handler); they import domain and eventstore, never app, workflows or activities; `all_read_models()` lists the ones the worker keeps
current and `thidua projections rebuild` rebuilds."""

from __future__ import annotations

from eventstore.projection import ReadModel

from .blocks import BlocksReadModel
from .cycles import CyclesReadModel
from .pending import PendingReadModel
from .people import PeopleReadModel

__all__ = ["all_read_models"]


def all_read_models() -> list[ReadModel]:
    return [CyclesReadModel(), PeopleReadModel(), BlocksReadModel(), PendingReadModel()]
