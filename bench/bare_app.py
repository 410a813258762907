"""The baseline: a bare Flask app that reads the body and answers 200, nothing else."""

from flask import Flask, request


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/webhooks/stripe")
    def receive() -> tuple[str, int]:
        request.get_data()
        return '{"received":true}', 200

    @app.get("/healthz")
    def healthz() -> tuple[str, int]:
        return "ok", 200

    return app
