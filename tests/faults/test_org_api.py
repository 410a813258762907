"""The org API over real HTTP on PostgreSQL: isolation between organizations, roles,
removed members, hostile input, and two upgrades racing for one subscription."""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from adapters.unit_of_work import SqlUnitOfWork
from services import admin
from tests.builders import build_world
from tests.support import free_port, start_gunicorn, wait_until

pytestmark = pytest.mark.slow


def cycle_start() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)


def call(
    method: str, url: str, token: str | None, body: Any = None, raw: bytes | None = None
) -> tuple[int, dict[str, Any]]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def api(stack_factory):
    stack = stack_factory()
    port = free_port()
    stack.procs.append(start_gunicorn(stack.env, port, threads=8, app="api:create_app()"))
    other = build_world(stack.engine, customer="cus_other", start=cycle_start(), sub_id="sub_other")
    base = f"http://127.0.0.1:{port}/api/v1/organizations"
    return stack, other, base


def test_organizations_roles_and_removed_members(api) -> None:
    stack, other, base = api
    world = stack.world
    mine = f"{base}/{world.org_id}"
    theirs = f"{base}/{other.org_id}"
    assert call("GET", f"{theirs}/subscriptions", world.tokens["owner"])[0] == 404
    assert call("GET", f"{mine}/upgrades/upg_of_someone", world.tokens["owner"])[0] == 404
    status, body = call(
        "POST",
        f"{mine}/estimates",
        world.tokens["member"],
        {"license_type": "node_locked", "seats": 2, "interval": "month"},
    )
    assert (status, body["error"]["code"]) == (403, "forbidden_role")
    admin.remove_member(SqlUnitOfWork(stack.engine), world.admin["id"])
    assert call("GET", f"{mine}/subscriptions", world.tokens["admin"])[0] == 401
    assert call("GET", f"{mine}/subscriptions", None)[0] == 401
    hostile = [
        {"license_type": "node_locked'; DROP TABLE upgrades; --", "seats": 2, "interval": "month"},
        {"license_type": "node_locked", "seats": "2 OR 1=1", "interval": "month"},
        {"license_type": "x" * 10_000, "seats": 2, "interval": "month"},
    ]
    for body in hostile:
        status, answer = call("POST", f"{mine}/estimates", world.tokens["owner"], body)
        assert 400 <= status < 500 and answer["error"]["code"], (status, answer)
    status, answer = call("POST", f"{mine}/estimates", world.tokens["owner"], raw=b"[" * 100_000)
    assert (status, answer["error"]["code"]) == (413, "request_entity_too_large")
    assert call("GET", f"{mine}/subscriptions", world.tokens["owner"])[0] == 200


def test_two_upgrades_submitted_at_once_one_accepted_one_409(api) -> None:
    stack, other, base = api
    url = f"{base}/{other.org_id}"
    token = other.tokens["owner"]
    estimates = [
        call(
            "POST",
            f"{url}/estimates",
            token,
            {"license_type": "node_locked", "seats": n, "interval": "month"},
        )[1]["id"]
        for n in (2, 3)
    ]
    # Hold the organization's row from outside (NO KEY UPDATE: foreign-key checks still
    # pass), so the two requests are surely in flight together: each must wait for the
    # organization's row lock, then the second finds the first one's open upgrade.
    holder = stack.engine.connect()
    holder.execute(
        text("SELECT id FROM organizations WHERE id = :id FOR NO KEY UPDATE"),
        {"id": other.org_id},
    )
    with ThreadPoolExecutor(2) as pool:
        submitted = [
            pool.submit(call, "POST", f"{url}/upgrades", token, {"estimate_id": estimate})
            for estimate in estimates
        ]
        try:
            wait_until(lambda: stack.waiting_for_locks() == 2, 20)
        finally:
            holder.rollback()
            holder.close()
        results = [future.result() for future in submitted]
    assert sorted(status for status, _ in results) == [202, 409]
    [conflict] = [body for status, body in results if status == 409]
    assert conflict["error"]["code"] == "upgrade_already_open"
