"""A fake Stripe API that serves N subscriptions in pages, generated on the fly (no state),
for the reconciliation benchmark. Every 100th subscription has one more seat at Stripe than
the benchmark database holds locally (1 % drift)."""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PERIOD_START, PERIOD_END = 1_793_491_200, 1_796_083_200  # 2026-11-01, 2026-12-01 UTC


def subscription(i: int) -> dict:
    seats = i % 7 + 1 + (1 if i % 100 == 0 else 0)
    price = {
        "id": "price_node_locked_month",
        "object": "price",
        "currency": "usd",
        "unit_amount": 10000,
        "metadata": {"license_type": "node_locked"},
        "recurring": {"interval": "month", "interval_count": 1},
    }
    return {
        "id": f"sub_{i}",
        "object": "subscription",
        "customer": f"cus_{i}",
        "status": "active",
        "metadata": {},
        "items": {
            "object": "list",
            "has_more": False,
            "data": [
                {
                    "id": f"si_{i}",
                    "object": "subscription_item",
                    "quantity": seats,
                    "price": price,
                    "current_period_start": PERIOD_START,
                    "current_period_end": PERIOD_END,
                }
            ],
        },
    }


def make_handler(count: int) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/v1/subscriptions":
                limit = int(query.get("limit", 10))
                start = int(query.get("starting_after", "sub_0")[4:]) + 1
                ids = range(start, min(start + limit, count + 1))
                body = {
                    "object": "list",
                    "url": "/v1/subscriptions",
                    "data": [subscription(i) for i in ids],
                    "has_more": start + limit <= count,
                }
            elif url.path == "/v1/events":
                body = {"object": "list", "url": "/v1/events", "data": [], "has_more": False}
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args.count)).serve_forever()


if __name__ == "__main__":
    main()
