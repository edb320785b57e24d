"""structlog as JSON lines on stderr, for our loggers and every library's; identifiers are bound
with `structlog.contextvars`. A command's own output (tables, summaries) goes to stdout."""

from __future__ import annotations

import logging
import sys
from functools import partial
from typing import Any

import orjson
import structlog

# Libraries that narrate their routine at INFO: Faust and mode a line per service started and
# ~400 lines of partition tables, pgserver every initdb line, httpx every registry request.
# Their warnings and errors still come through; at DEBUG, everything does.
CHATTY_LOGGERS = (
    "librdkafka",
    "faust",
    "mode",
    "aiokafka",
    "pgserver",
    "httpx",
    "httpx2",
    "httpcore",
    "asyncio",
)


def _render(_: Any, __: str, event_dict: structlog.typing.EventDict) -> str:
    return orjson.dumps(event_dict, default=str).decode()


def _processors() -> list[structlog.typing.Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]


def json_formatter() -> structlog.stdlib.ProcessorFormatter:
    """Any library's log record as one JSON line, with its level, time, logger name and the
    identifiers bound in `structlog.contextvars`, like our own lines."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *_processors()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _render,
        ],
    )


def configure_logging(level: str = "INFO") -> logging.Handler:
    """Our lines and every library's as JSON on stderr, from `level` up (libraries' routine
    from WARNING up); returns the root logger's one handler."""
    number = logging.getLevelName(level.upper())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(number)
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(number, logging.WARNING))
    # Python's warnings (a library's DeprecationWarning, ...) become log lines too.
    logging.captureWarnings(True)
    structlog.configure(
        processors=[
            *_processors(),
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(number),
        logger_factory=structlog.BytesLoggerFactory(sys.stderr.buffer),
        cache_logger_on_first_use=True,
    )
    return handler


def faust_worker_options() -> dict[str, Any]:
    """`faust.Worker` arguments that leave logging as configured here: no coloured banner, no
    root handler of mode's own, no print() redirected into plain-text log records."""
    return {"quiet": True, "override_logging": False, "redirect_stdouts": False}


def faust_logging_config(level: str = "INFO") -> dict[str, Any]:
    """Faust's `logging_config` setting, for when Faust sets logging up itself (`faust -A
    streams.app worker`): its own would replace ours with coloured plain text. Applying this
    one (`logging.config.dictConfig`) is `configure_logging(level)`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        # dictConfig keeps a handler's "level" key for itself: the level goes in the factory.
        "handlers": {"json": {"()": partial(configure_logging, level)}},
        "root": {"level": level.upper(), "handlers": ["json"]},
    }
