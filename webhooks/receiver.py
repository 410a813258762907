"""`POST /webhooks/stripe`.

Order of work: size, content type, signature over the raw body, event shape, durable insert,
then enqueue by task name after the commit. No business work happens here, and nothing a
caller sent (body, signature, secret) is logged.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, g, jsonify, request
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from config.events import is_handled
from config.metrics import REJECTED, SIGNATURES, WEBHOOKS
from config.tasks import PROCESS_STRIPE_EVENTS
from inbox.events import IncomingEvent, NotAnEvent
from web import runtime
from webhooks.signature import SignatureError, verify
from webhooks.writer import Delivery

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


def _reject(status: int, reason: str, message: str) -> tuple[Any, int]:
    REJECTED.labels(reason).inc()
    log.warning(
        "webhook rejected",
        extra={"reason": reason, "detail": message, "request_id": g.get("request_id")},
    )
    return _reply(status, error=message)


def _count_signatures(secrets: int, matched: int | None) -> None:
    for index in range(secrets):
        if matched is None or index < matched:
            SIGNATURES.labels(str(index), "mismatch").inc()
        elif index == matched:
            SIGNATURES.labels(str(index), "match").inc()


@bp.post("/webhooks/stripe")
def receive() -> tuple[Any, int]:
    settings = runtime().settings
    body = _read_body(settings.webhook_max_body)
    if body is None:
        return _reject(413, "too_large", "body too large")
    if request.mimetype != "application/json":
        return _reject(415, "content_type", "content type must be application/json")
    secrets = settings.stripe_webhook_secrets
    try:
        secret_index = verify(
            body,
            request.headers.get("Stripe-Signature"),
            secrets,
            settings.stripe_webhook_tolerance,
        )
    except SignatureError as exc:
        if exc.code == "mismatch":
            _count_signatures(len(secrets), None)
        return _reject(400, f"signature_{exc.code}", str(exc))
    _count_signatures(len(secrets), secret_index)
    try:
        event = IncomingEvent.parse(body)
    except NotAnEvent as exc:
        return _reject(400, "not_an_event", str(exc))
    return _store(event, body, secret_index, runtime().origin.refuses(event))


def _store(
    event: IncomingEvent, body: bytes, secret_index: int, refused: str | None
) -> tuple[Any, int]:
    """Store a verified event (its first state: inbox.table.inbox_row, ignored with the
    reason if `refused`), then answer."""
    writer = runtime().writer
    assert writer is not None, "the receiver's create_app sets its writer"
    try:
        new = writer.store(Delivery(event, body, secret_index, refused=refused))
    except (DBAPIError, SQLAlchemyError, TimeoutError) as exc:
        # Stripe retries non-2xx deliveries for up to three days: nothing is lost.
        REJECTED.labels("storage_unavailable").inc()
        log.error(
            "inbox unavailable",
            extra={
                "event_id": event.event_id,
                "error": type(exc).__name__,
                "request_id": g.get("request_id"),
            },
        )
        return _reply(503, error="storage unavailable, retry later")
    handled = is_handled(event.type) and refused is None
    outcome = "duplicate" if not new else "stored" if handled else "ignored"
    WEBHOOKS.labels(event.type, outcome).inc()
    log.info(
        "webhook " + outcome,
        extra={
            "event_id": event.event_id,
            "event_type": event.type,
            "secret_index": secret_index,
            "refused": refused,
            "request_id": g.get("request_id"),
        },
    )
    return _reply(200, received=True, duplicate=not new)


def enqueuer(celery: Any) -> Any:
    """Send the new events of one commit as one task message, by name, after the commit."""

    def enqueue(event_ids: list[str]) -> None:
        if not event_ids:
            return
        try:
            celery.send_task(
                PROCESS_STRIPE_EVENTS,
                args=[event_ids],
                retry=False,
                # Celery's own repr of the arguments costs more than the rest of the send.
                argsrepr=f"[{len(event_ids)} events]",
            )
        except Exception as exc:  # broker down: the stored rows are swept later
            log.warning(
                "enqueue failed, left for the sweeper",
                extra={"events": len(event_ids), "error": type(exc).__name__},
            )

    return enqueue
