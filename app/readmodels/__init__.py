"""Moved: the read models are the top-level package `readmodels` (beneath the services). This
alias keeps `app.readmodels…` imports of branches in flight working; delete it once nothing
imports app.readmodels."""

import sys

import readmodels
from readmodels import all_read_models, blocks, cycles, pending, people

__all__ = ["all_read_models"]

for _module in (blocks, cycles, pending, people):
    sys.modules[f"{__name__}.{_module.__name__.rsplit('.', 1)[1]}"] = _module
del readmodels
