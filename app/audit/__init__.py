"""The auditors' pack: exports that verify offline, reconciliation of a cycle's Temporal history
with its event stream, and verification of every stream."""

from .export import ExportCheck, compare_with_store, export_cycle, verify_export
from .reconcile import Reconciliation, reconcile, reconcile_all, reconcile_if_held
from .verify_all import Progress, StreamFailure, verify_all

__all__ = [
    "ExportCheck",
    "Progress",
    "Reconciliation",
    "StreamFailure",
    "compare_with_store",
    "export_cycle",
    "reconcile",
    "reconcile_all",
    "reconcile_if_held",
    "verify_all",
    "verify_export",
]
