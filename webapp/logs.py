"""Log lines for people (the default) or, with LOG_FORMAT=json, one JSON object per line for a log collector:
time, level, logger, message, and the request id (web) or job id (worker)."""
import json
import logging
import sys
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

LOGGERS = ("webapp", "worker")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "job_id"):
            value = getattr(record, key, None)
            if value not in (None, "-"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class RequestIdFilter(logging.Filter):
    """Stamp the current request's id on every record written while answering it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id") if has_request_context() else None
        return True


def _assign_request_id():
    # A proxy's id is kept (so its logs and ours line up) when it looks like one; else a fresh one.
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if 0 < len(given) <= 64 and given.isprintable() else uuid.uuid4().hex


def _echo_request_id(response):
    if "request_id" in g:
        response.headers["X-Request-ID"] = g.request_id
    return response


def install_handler(handler: logging.Handler, kind: str = "web") -> logging.Handler:
    """Make ``handler`` the one our loggers write to (replacing one installed before, so building the app
    twice does not print every line twice)."""
    handler.solo_oms = kind
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, "solo_oms", None)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    return handler


def _job_handler_installed() -> bool:
    return any(getattr(h, "solo_oms", None) == "job" for h in logging.getLogger("webapp").handlers)


def init_app(app: Flask, stream=None) -> None:
    """Request ids always; JSON lines on stderr when LOG_FORMAT=json."""
    app.before_request(_assign_request_id)
    app.after_request(_echo_request_id)
    # In a worker process the job logger (worker/logs.py) is already there and also stamps the job id.
    if app.config.get("LOG_FORMAT") == "json" and not _job_handler_installed():
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestIdFilter())
        install_handler(handler)
        for name in LOGGERS:
            logging.getLogger(name).propagate = False  # one line per record, not a second plain one
