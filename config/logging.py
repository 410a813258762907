"""Logging setup: one JSON object per line in production, readable text in development."""

from __future__ import annotations

import json
import logging
import sys
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
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD)
        line = f"{record.levelname:<7} {record.name}: {record.getMessage()}"
        return f"{line} {extras}".rstrip()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time of each record."""

    @property
    def stream(self) -> Any:
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


def warn_at_start(settings: Settings) -> None:
    """Development runs on published secrets and local defaults: say so, loudly, when a
    process starts to serve (web, api, worker, beat, `seatflow dev`); a one-shot command's
    answer stays one line."""
    if settings.mode != "development":
        return
    logging.getLogger("seatflow.config").warning(
        "DEVELOPMENT MODE: SEATFLOW_ENV is not production, so published development "
        "secrets and local defaults are in use and a .env file is read. Never expose this "
        "process; set SEATFLOW_ENV=production to run for real."
    )
