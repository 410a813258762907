"""What the two web apps (the receiver and the API) share: their runtime, request ids, request
latency, trusted hosts and proxies, and the health, readiness and metrics routes."""

from __future__ import annotations

from flask import Flask, current_app

from bootstrap import Runtime

EXTENSION = "seatflow"  # app.extensions["seatflow"]: the app's `bootstrap.Runtime`


def runtime(app: Flask | None = None) -> Runtime:
    """The runtime of `app` (of the app handling this request if None)."""
    found: Runtime = (app or current_app).extensions[EXTENSION]
    return found
