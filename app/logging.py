"""structlog, configured once: JSON off a terminal, the console renderer on one."""

from __future__ import annotations

import logging
import sys

import structlog

__all__ = ["configure_logging"]

_done = False


def configure_logging(level: str = "INFO", fmt: str = "auto") -> None:
    global _done
    if _done:
        return
    _done = True
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    )
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # The standard library's loggers (temporalio, asyncio) go through the same renderer.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer,
        # the Temporal SDK's workflow lines carry the workflow and the update (whose id starts
        # with the command's request id) as `extra`: kept in the line
        ], foreign_pre_chain=[*processors, structlog.stdlib.ExtraAdder(
            allow=("temporal_workflow", "temporal_update", "temporal_activity"))])
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
