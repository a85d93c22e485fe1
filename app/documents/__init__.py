"""Documents for auditors, made from a cycle's events alone: the minutes (biên bản) as HTML
and as a PDF/A-3b carrying the events, optionally signed with the agency's key."""

from .check import MinutesCheck, check_minutes
from .minutes import ATTACHMENT_NAME, events_jsonl, minutes_html, minutes_pdf, record_uri
from .signing import DocumentError, Signer, SigningKeyError

__all__ = [
    "ATTACHMENT_NAME",
    "DocumentError",
    "MinutesCheck",
    "Signer",
    "SigningKeyError",
    "check_minutes",
    "events_jsonl",
    "minutes_html",
    "minutes_pdf",
    "record_uri",
]
