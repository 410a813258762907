"""The receiver with its storage taken out: the ceiling of its request path.

Everything the receiver does per request (size and type checks, signature, parsing, metrics,
logging, the JSON answer) except the inbox insert and the task message. Used only to show
how much of the gap to the bare app is the request path itself; never for real traffic.
"""

from flask import Flask

from web import runtime
from webhooks import create_app as create_receiver


class _NoStore:
    def store(self, delivery: object) -> bool:
        return True


def create_app() -> Flask:
    app = create_receiver()
    runtime(app).writer = _NoStore()
    return app
