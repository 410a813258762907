"""`StripeServer`: the fake Stripe over HTTP on 127.0.0.1, for the real `stripe` SDK.

It speaks Stripe's protocol: form-encoded parameters with nested keys, Bearer API keys, JSON
answers, Stripe's error shape and statuses (402 card errors, 400 invalid requests and
idempotency errors, 401, 404, 409, 429, 500), `Idempotency-Key` replay, `Request-Id`. Two
small pages stand in for Stripe's hosted ones: Checkout (`/checkout/{id}`) and the hosted
invoice page's 3D Secure step (`/i/{invoice}/...`).

    with StripeServer() as stripe_fake:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": stripe_fake.url})
"""

from __future__ import annotations

import base64
import copy
import fnmatch
import html
import json
import secrets
import socket
import threading
from collections.abc import Iterable
from typing import Any

from werkzeug import Request, Response
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.stripe_model import forms
from tests.stripe_model.base import StripeApiError
from tests.stripe_model.objects import CARDS
from tests.stripe_model.protocol import Faults, Idempotency, Received, Stored, fault_error
from tests.stripe_model.routes import answer
from tests.stripe_model.state import StripeState


class StripeServer:
    def __init__(
        self, state: StripeState | None = None, api_keys: Iterable[str] | None = None
    ) -> None:
        self.state = state or StripeState()
        self.api_keys = set(api_keys) if api_keys is not None else None
        self.faults = Faults()
        self.idempotency = Idempotency()
        self.received: list[Received] = []
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> StripeServer:
        self._server = make_server(
            "127.0.0.1", 0, self.wsgi, threaded=True, request_handler=_QuietHandler
        )
        self.state.base_url = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StripeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Stripe is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    # -- faults and what was received ------------------------------------------------------
    def lose_answer(
        self, pattern: str, times: int = 1, *, method: str | None = "POST", drop: bool = False
    ) -> None:
        """Do the work of the next matching request(s), then answer 500 (or, with `drop`,
        close the connection without an answer). The result is kept for its key."""
        self.faults.lose_answer(pattern, times, method=method, drop=drop)

    def fail_next(
        self,
        pattern: str,
        error: str = "rate_limit_error",
        times: int = 1,
        *,
        method: str | None = None,
    ) -> None:
        """Refuse the next matching request(s) before any work: `rate_limit_error` (429),
        `lock_timeout` (409), `api_error` (500), `invalid_request_error` (400) or
        `authentication_error` (401). Nothing is kept for their idempotency keys."""
        self.faults.fail_next(pattern, error, times, method=method)

    def requests(self, method: str | None = None, path: str | None = None) -> list[Received]:
        """Requests received, oldest first; `path` may be a glob (`/v1/invoices/*/pay`)."""
        with self.state.lock:
            return [
                r
                for r in self.received
                if method in (None, r.method)
                and (path is None or fnmatch.fnmatchcase(r.path, path))
            ]

    # -- WSGI ------------------------------------------------------------------------------
    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        api = request.path.startswith("/v1/")
        response = self._api(request) if api else self._page(request)
        result: Iterable[bytes] = response(environ, start_response)
        return result

    def _api(self, request: Request) -> Response:
        encoded = request.get_data(as_text=True) if request.method == "POST" else ""
        params = forms.decode(encoded or request.query_string.decode())
        api_key = _api_key(request.headers.get("Authorization", ""))
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        received = Received(
            request.method,
            request.path,
            params,
            key,
            api_key,
            request.headers.get("Stripe-Version"),
        )
        with self.state.lock:
            self.received.append(received)
            status, body, replayed = self._serve(received)
            received.status, received.replayed = status, replayed
            lost = self.faults.take(False, request.method, request.path)
            received.answer_lost = lost is not None
        if lost == "drop":
            _drop(request)
        if lost is not None:
            status, body = 500, fault_error("api_error").body()
        headers = {"Request-Id": f"req_{secrets.token_hex(7)}"}
        if key:
            headers["Idempotency-Key"] = key
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(json.dumps(body), status, headers, content_type="application/json")

    def _serve(self, received: Received) -> tuple[int, Any, bool]:
        """Status, body and whether it is a replay; called under the state's lock."""
        state, method, path = self.state, received.method, received.path
        try:
            self._authenticate(received.api_key)
            fault = self.faults.take(True, method, path)
            if fault is not None:
                raise fault_error(fault)
            scope = (str(received.api_key), received.idempotency_key or "")
            if received.idempotency_key:
                stored = self.idempotency.lookup(scope, method, path, received.params, state.now())
                if stored is not None:
                    return stored.status, stored.body, True
            status, body, keep = self._run(received)
            if received.idempotency_key and keep:
                self.idempotency.keep(
                    scope, Stored(method, path, received.params, status, body, state.now())
                )
            return status, body, False
        except StripeApiError as error:
            return error.status, error.body(), False

    def _run(self, received: Received) -> tuple[int, Any, bool]:
        state = self.state
        state.request = {
            "id": f"req_{secrets.token_hex(7)}",
            "idempotency_key": received.idempotency_key,
        }
        try:
            # A copy: a replay answers what was true then, and the body is written unlocked.
            result = answer(state, received.method, received.path, received.params)
            return 200, copy.deepcopy(result), True
        except StripeApiError as error:
            return error.status, error.body(), error.stored
        finally:
            state.request = {"id": None, "idempotency_key": None}

    def _authenticate(self, api_key: str | None) -> None:
        if not api_key:
            raise StripeApiError(
                401,
                "invalid_request_error",
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth.",
                stored=False,
            )
        allowed = (
            api_key in self.api_keys
            if self.api_keys is not None
            else api_key.startswith(("sk_test_", "rk_test_"))
        )
        if not allowed:
            raise StripeApiError(
                401,
                "invalid_request_error",
                f"Invalid API Key provided: {api_key[:8]}****{api_key[-4:]}",
                stored=False,
            )

    # -- hosted pages ----------------------------------------------------------------------
    def _page(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        try:
            if parts[0] == "checkout" and len(parts) == 2:
                return self._checkout(request, parts[1])
            if parts[0] == "i" and len(parts) == 3:
                return self._hosted_invoice(request, parts[1])
        except StripeApiError as error:
            return Response(html.escape(error.message), error.status)
        return Response("not found", 404)

    def _checkout(self, request: Request, session_id: str) -> Response:
        if request.method == "POST":
            behaviour = request.form.get("behaviour", "succeeds")
            if behaviour not in CARDS:
                return Response("unknown card behaviour", 400)
            session = self.state.complete_checkout(session_id, behaviour)
            return Response(status=303, headers={"Location": session["success_url"] or "/"})
        self.state.get("checkout.session", session_id)
        buttons = "".join(f'<button name="behaviour" value="{b}">{b}</button>' for b in CARDS)
        page = f"<h1>Add a card</h1><form method=post>{buttons}</form>"
        return Response(page, content_type="text/html")

    def _hosted_invoice(self, request: Request, invoice_id: str) -> Response:
        invoice = self.state.get("invoice", invoice_id)
        if request.method == "POST":
            self.state.complete_3ds(invoice_id, request.form.get("result") != "fail")
            invoice = self.state.get("invoice", invoice_id)
        page = (
            f"<h1>Invoice {html.escape(invoice_id)}: {invoice['status']}</h1>"
            f"<p>{invoice['amount_remaining']} {invoice['currency']} due</p>"
            "<form method=post><button name=result value=ok>Authenticate</button>"
            "<button name=result value=fail>Fail authentication</button></form>"
        )
        return Response(page, content_type="text/html")


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request: `StripeServer.received` is the record."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _api_key(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    if scheme.lower() == "basic" and value:
        return base64.b64decode(value).decode(errors="replace").partition(":")[0] or None
    return None


def _drop(request: Request) -> None:
    """Close the connection without an answer, as a network failure would."""
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        sock.shutdown(socket.SHUT_RDWR)
