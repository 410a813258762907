"""What the receiver stores: a Stripe event, recognised from its JSON body.

Parsing and the row it becomes are in config/inbox.py, shared with reconciliation; the
writing itself is in webhooks/writer.py (one grouped, idempotent INSERT).
"""

from __future__ import annotations

from config.inbox import IncomingEvent, NotAnEvent

__all__ = ["IncomingEvent", "NotAnEvent"]
