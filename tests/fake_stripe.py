"""A fake Stripe API on pytest-httpserver: invoices, invoice items, pay, subscriptions, void.

It keeps Stripe's idempotency semantics (a repeated key gets the stored answer and does
nothing again), so tests can count real effects, and it can lose the answer of a call once
(the effect happened, the caller saw a 500) to provoke retries.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from pytest_httpserver import HTTPServer
from pytest_httpserver.httpserver import URIPattern
from werkzeug import Request, Response


class _StripeApi(URIPattern):
    def match(self, uri: str) -> bool:
        return uri.startswith("/v1/")


@dataclass
class FakeStripe:
    server: HTTPServer
    declined_customers: set[str] = field(default_factory=set)
    lose_answers: dict[str, int] = field(default_factory=dict)  # path → how many times
    requests: list[dict[str, Any]] = field(default_factory=list)
    charges: list[dict[str, Any]] = field(default_factory=list)
    subscription_updates: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)  # listable state
    events: list[dict[str, Any]] = field(default_factory=list)  # newest first, as Stripe lists
    undelivered: set[str] = field(default_factory=set)
    _answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    _invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> FakeStripe:
        self.server.expect_request(_StripeApi()).respond_with_handler(self._handle)
        return self

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def _handle(self, request: Request) -> Response:
        if request.method == "GET":
            status, body = self._read(request.path, dict(request.args))
            return Response(json.dumps(body), status, content_type="application/json")
        form = dict(parse_qsl(request.get_data(as_text=True)))
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            self.requests.append(
                {"method": request.method, "path": request.path, "key": key, "form": form}
            )
            if key and key in self._answers:
                status, body = self._answers[key]  # a replay: no new effect
            else:
                status, body = self._route(request.path, form)
                if key:
                    self._answers[key] = (status, body)
            if self.lose_answers.get(request.path, 0) > 0:
                self.lose_answers[request.path] -= 1
                error = {"error": {"type": "api_error", "message": "answer lost"}}
                return Response(json.dumps(error), 500, content_type="application/json")
        return Response(json.dumps(body), status, content_type="application/json")

    def _read(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        with self._lock:
            self.requests.append({"method": "GET", "path": path, "query": query})
            if parts == ["v1", "subscriptions"]:
                return 200, _page(list(self.subscriptions.values()), query, "/v1/subscriptions")
            if parts[:2] == ["v1", "subscriptions"] and len(parts) == 3:
                return 200, self.subscriptions[parts[2]]
            if parts[:2] == ["v1", "invoices"] and len(parts) == 3:
                return 200, self._invoices[parts[2]]
            if parts == ["v1", "events"]:
                events = self.events
                if query.get("delivery_success") == "false":
                    events = [e for e in events if e["id"] in self.undelivered]
                if "created[gte]" in query:
                    events = [e for e in events if e["created"] >= int(query["created[gte]"])]
                return 200, _page(events, query, "/v1/events")
        return 404, {"error": {"type": "invalid_request_error", "message": f"no route {path}"}}

    def _route(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        if parts == ["v1", "invoices"]:
            invoice_id = f"in_fake{len(self._invoices) + 1}"
            metadata = {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")}
            self._invoices[invoice_id] = {
                "id": invoice_id,
                "object": "invoice",
                "customer": form["customer"],
                "currency": form.get("currency", "usd"),
                "status": "draft",
                "amount_due": 0,
                "amount_paid": 0,
                "metadata": metadata,
            }
            return 200, self._invoices[invoice_id]
        if parts == ["v1", "invoiceitems"]:
            invoice = self._invoices[form["invoice"]]
            invoice["amount_due"] += int(form["amount"])
            return 200, {"id": f"ii_{len(self.requests)}", "object": "invoiceitem", **form}
        if parts[:2] == ["v1", "invoices"] and len(parts) == 4:
            invoice = self._invoices[parts[2]]
            return self._invoice_action(invoice, parts[3])
        if parts[:2] == ["v1", "subscriptions"] and len(parts) == 3:
            self.subscription_updates.append({"id": parts[2], **form})
            return 200, {"id": parts[2], "object": "subscription", "status": "active"}
        return 404, {"error": {"type": "invalid_request_error", "message": f"no route {path}"}}

    def _invoice_action(self, invoice: dict[str, Any], action: str) -> tuple[int, dict[str, Any]]:
        if action == "finalize":
            invoice["status"] = "open"
        elif action == "pay":
            if invoice["customer"] in self.declined_customers:
                return 402, {
                    "error": {
                        "type": "card_error",
                        "code": "card_declined",
                        "message": "Your card was declined.",
                    }
                }
            invoice.update(status="paid", amount_paid=invoice["amount_due"])
            self.charges.append(dict(invoice))
        elif action == "void":
            if invoice["status"] == "paid":
                return 400, {
                    "error": {
                        "type": "invalid_request_error",
                        "message": "paid invoices cannot be voided",
                    }
                }
            invoice["status"] = "void"
        return 200, dict(invoice)


def _page(items: list[dict[str, Any]], query: dict[str, str], url: str) -> dict[str, Any]:
    limit = int(query.get("limit", 10))
    start = 0
    if "starting_after" in query:
        ids = [item["id"] for item in items]
        start = ids.index(query["starting_after"]) + 1
    chunk = items[start : start + limit]
    return {"object": "list", "url": url, "data": chunk, "has_more": start + limit < len(items)}
