"""structlog, configured once: JSON off a terminal, the console renderer on one."""

from __future__ import annotations

import logging
import sys

import structlog

__all__ = ["configure_logging"]

_done = False


class _Stderr:
    """structlog's logger: each line to the sys.stderr of the moment it is written (a logger
    bound to the stream of the moment of configuration wrote into a closed file once a test
    runner or a CLI test harness had swapped sys.stderr and closed its stand-in)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def _stderr_logger(*_: object) -> _Stderr:
    return _Stderr()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The standard library's handler, likewise to the sys.stderr of the moment."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _: object) -> None:
        pass


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
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=True,
    )
    # The standard library's loggers (temporalio, asyncio) go through the same renderer.
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
                # the Temporal SDK's workflow lines carry the workflow and the update (whose id starts
                # with the command's request id) as `extra`: kept in the line
            ],
            foreign_pre_chain=[
                *processors,
                structlog.stdlib.ExtraAdder(
                    allow=("temporal_workflow", "temporal_update", "temporal_activity")
                ),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
