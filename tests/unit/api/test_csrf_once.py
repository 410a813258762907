"""CSRF is checked once for the whole app: a form added later is protected without a line of
its own, and the bearer-token API is not asked for a cookie's token."""

from __future__ import annotations

from flask import Blueprint

from api import create_app
from config.settings import Settings


def test_a_form_added_later_refuses_a_post_without_the_sessions_token(
    sqlite_settings: Settings,
) -> None:
    app = create_app(sqlite_settings)
    later = Blueprint("later", __name__)
    later.add_url_rule("/orgs/<org_id>/later", "later", lambda org_id: "done", methods=["POST"])
    app.register_blueprint(later)
    client = app.test_client()

    assert client.post("/orgs/o1/later", data={}).status_code == 400
    assert client.post("/orgs/o1/later", data={"csrf_token": "forged"}).status_code == 400
    with client.session_transaction() as session:
        session["csrf"] = "the-token"
    assert client.post("/orgs/o1/later", data={"csrf_token": "the-token"}).status_code == 200
    assert client.post("/orgs/o1/later", headers={"X-CSRF-Token": "the-token"}).status_code == 200


def test_the_token_api_is_not_asked_for_a_cookies_token(sqlite_settings: Settings) -> None:
    app = create_app(sqlite_settings)
    response = app.test_client().post("/api/v1/organizations/o1/estimates", json={})
    assert response.status_code == 401  # refused for its missing bearer token, not for CSRF
