"""One CSRF protection for every form: a token kept in the signed session cookie, checked once,
before any view, for every POST outside the bearer-token JSON API (`/api/`), whose requests a
browser never authenticates by itself. A new form is protected without a line of its own."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import Flask, abort, request, session

TOKEN_API = "/api/"


def csrf_token() -> str:
    """This session's token, for a form's hidden `csrf_token` field (or `X-CSRF-Token`)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return str(session["csrf"])


def _check() -> None:
    if request.method != "POST" or request.path.startswith(TOKEN_API):
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
    if not hmac.compare_digest(sent, session.get("csrf", "") or "\0"):
        abort(400, "the form expired; reload the page")


def _globals() -> dict[str, Any]:
    return {"csrf_token": csrf_token}


def install_csrf(app: Flask) -> None:
    app.before_request(_check)
    app.context_processor(_globals)
