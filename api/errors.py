"""Every error leaves the API as JSON `{"error": {"code", "message"}}`."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, SecurityError

from adapters.database import DatabaseUnavailable
from api.statuses import status_of
from domain.errors import DomainError
from domain.ports import ChargeRejected, ChargeUnavailable

log = logging.getLogger("seatflow.api")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error(status: int, code: str, message: str) -> tuple[Any, int]:
    return jsonify({"error": {"code": code, "message": message}}), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api(exc: ApiError) -> tuple[Any, int]:
        return error(exc.status, exc.code, exc.message)

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> tuple[Any, int]:
        return error(status_of(exc), exc.code, exc.message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        # A person, not a program: a page (not for an untrusted host: no links can be built).
        if not request.path.startswith("/api/") and not isinstance(exc, SecurityError):
            if exc.response is not None:  # abort(redirect(...))
                return exc.response
            return render_template("error.html", error=exc), exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        return error(exc.code or 500, code, exc.description or code)

    @app.errorhandler(ChargeUnavailable)
    def _stripe_down(exc: ChargeUnavailable) -> tuple[Any, int]:
        log.warning("Stripe unavailable", extra={"error": exc.kind})
        return error(503, "stripe_unavailable", "Stripe is briefly unavailable; retry")

    @app.errorhandler(ChargeRejected)
    def _stripe_refused(exc: ChargeRejected) -> tuple[Any, int]:
        log.error("Stripe refused a request", extra={"error": exc.kind})
        return error(502, "stripe_rejected", exc.message)

    @app.errorhandler(DatabaseUnavailable)
    def _db(exc: DatabaseUnavailable) -> tuple[Any, int]:
        log.error("database unavailable", extra={"error": type(exc).__name__})
        return error(503, "unavailable", "the service is briefly unavailable; retry")
