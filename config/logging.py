"""Logging setup: one JSON object per line in production, readable text in development."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from config.settings import Settings

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            entry.update(_access_fields(record.args))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


# gunicorn's access-log atoms, as fields of the JSON line (`msg` keeps its usual text).
_ACCESS_ATOMS = {
    "remote": "h",
    "method": "m",
    "path": "U",
    "query": "q",
    "status": "s",
    "bytes": "B",
    "duration_s": "L",
    "user_agent": "a",
    "request_id": "{x-request-id}o",
}


def _access_fields(atoms: Mapping[str, Any]) -> dict[str, Any]:
    fields = {name: atoms.get(atom, "-") for name, atom in _ACCESS_ATOMS.items()}
    for name, kind in (("status", int), ("bytes", int), ("duration_s", float)):
        try:
            fields[name] = kind(fields[name])
        except (TypeError, ValueError):
            fields[name] = None
    return fields


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD)
        line = f"{record.levelname:<7} {record.name}: {record.getMessage()}"
        return f"{line} {extras}".rstrip()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time of each record, unless that is a stream
    turned into log records (Celery redirects a worker's and beat's stderr to its logger):
    seatflow's line would come out again as Celery's WARNING record, its own level and
    name lost in the message."""

    @property
    def stream(self) -> Any:
        if isinstance(getattr(sys.stderr, "logger", None), logging.Logger):
            return sys.__stderr__
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger("seatflow")
    if getattr(root, "_seatflow_configured", False):
        return
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if settings.production else TextFormatter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False
    root._seatflow_configured = True  # type: ignore[attr-defined]
    if settings.production:
        json_root_logger()


def json_root_logger(level: int | None = None) -> None:
    """Every other logger (Celery, kombu, SQLAlchemy, Python's warnings) writes JSON lines
    through one handler on the root logger; idempotent."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    if level is not None:
        root.setLevel(level)
    logging.captureWarnings(True)


def gunicorn_log_config() -> dict[str, Any]:
    """gunicorn's `logconfig_dict` in production: its error and access logs, and the root
    logger of its master, one JSON object per line (deploy/gunicorn.conf.py)."""

    def logger(stream: str) -> dict[str, Any]:
        return {"level": "INFO", "handlers": [stream], "propagate": False}

    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            },
        },
        "root": {"level": "WARNING", "handlers": ["stderr"]},
        "loggers": {"gunicorn.error": logger("stderr"), "gunicorn.access": logger("stdout")},
    }


def warn_at_start(settings: Settings) -> None:
    """Development runs on published secrets and local defaults: say so, loudly, when a
    process starts to serve (web, api, worker, beat, `seatflow dev`); a one-shot command's
    answer stays one line."""
    if settings.mode != "development" or settings.dev_child:
        return
    logging.getLogger("seatflow.config").warning(
        "DEVELOPMENT MODE: SEATFLOW_ENV is not production, so published development "
        "secrets and local defaults are in use and a .env file is read. Never expose this "
        "process; set SEATFLOW_ENV=production to run for real."
    )
