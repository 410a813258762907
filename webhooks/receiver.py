"""`POST /webhooks/stripe`.

Order of work: size, content type, signature over the raw body, event shape, durable insert,
then enqueue by task name after the commit. No business work happens here, and nothing a
caller sent (body, signature, secret) is logged.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from config.events import is_handled
from config.tasks import PROCESS_STRIPE_EVENT
from webhooks import inbox
from webhooks.signature import SignatureError, verify

log = logging.getLogger("seatflow.webhooks")
bp = Blueprint("webhooks", __name__)


def _reply(status: int, **body: Any) -> tuple[Any, int]:
    return jsonify(body), status


def _read_body(limit: int) -> bytes | None:
    """Return the body, or None if it is larger than `limit` (never reading much past it)."""
    declared = request.content_length
    if declared is not None and declared > limit:
        return None
    body = request.stream.read(limit + 1)
    return None if len(body) > limit else body


@bp.post("/webhooks/stripe")
def receive() -> tuple[Any, int]:
    ext = current_app.extensions
    settings = ext["seatflow.settings"]
    body = _read_body(settings.webhook_max_body)
    if body is None:
        log.warning("webhook rejected", extra={"reason": "too_large"})
        return _reply(413, error="body too large")
    if request.mimetype != "application/json":
        log.warning("webhook rejected", extra={"reason": "content_type"})
        return _reply(415, error="content type must be application/json")
    try:
        secret_index = verify(
            body,
            request.headers.get("Stripe-Signature"),
            settings.stripe_webhook_secrets,
            settings.stripe_webhook_tolerance,
        )
        event = inbox.IncomingEvent.parse(body)
    except (SignatureError, inbox.NotAnEvent) as exc:
        log.warning("webhook rejected", extra={"reason": str(exc)})
        return _reply(400, error=str(exc))

    handled = is_handled(event.type)
    try:
        new = inbox.store(
            ext["seatflow.engine"], event, body, secret_index, "received" if handled else "ignored"
        )
    except (DBAPIError, SQLAlchemyError) as exc:
        # Stripe retries non-2xx deliveries for up to three days: nothing is lost.
        log.error(
            "inbox unavailable", extra={"event_id": event.event_id, "error": type(exc).__name__}
        )
        return _reply(503, error="storage unavailable, retry later")

    log.info(
        "webhook stored",
        extra={
            "event_id": event.event_id,
            "event_type": event.type,
            "duplicate": not new,
            "secret_index": secret_index,
        },
    )
    if new and handled:
        _enqueue(event.event_id)
    return _reply(200, received=True, duplicate=not new)


def _enqueue(event_id: str) -> None:
    try:
        current_app.extensions["seatflow.celery"].send_task(
            PROCESS_STRIPE_EVENT, args=[event_id], retry=False
        )
    except Exception as exc:  # broker down: the stored row is swept later
        log.warning(
            "enqueue failed, left for the sweeper",
            extra={"event_id": event_id, "error": type(exc).__name__},
        )
