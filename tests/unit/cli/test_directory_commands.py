"""`seatflow org list`, `member list`, `token list|create --expires-in-days|revoke`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.unit.cli.test_commands import seatflow

pytestmark = pytest.mark.slow  # every test here starts a process


def test_an_operator_lists_organizations_members_and_tokens_and_revokes_one(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    env["SEATFLOW_DATA_DIR"] = str(tmp_path)
    assert seatflow("db", "upgrade", env=env).returncode == 0
    org = json.loads(seatflow("org", "create", "--name", "Acme", env=env).stdout)
    added = seatflow(
        "member", "add", "--org", org["id"], "--email", "o@a.example", "--role", "owner", env=env
    )
    member = json.loads(added.stdout)
    created = seatflow(
        "token", "create", "--member", member["id"], "--expires-in-days", "30", env=env
    )
    assert created.returncode == 0, created.stderr
    token = json.loads(created.stdout)
    assert token["token"].startswith("sf_") and token["expires_at"]

    orgs = json.loads(seatflow("org", "list", env=env).stdout)
    assert [o["id"] for o in orgs] == [org["id"]]
    members = json.loads(seatflow("member", "list", "--org", org["id"], env=env).stdout)
    assert [(m["id"], m["role"]) for m in members] == [(member["id"], "owner")]
    [listed] = json.loads(seatflow("token", "list", "--org", org["id"], env=env).stdout)
    assert (listed["id"], listed["revoked_at"]) == (token["id"], None)
    assert listed["expires_at"] and "token" not in listed and "token_hash" not in listed

    assert seatflow("token", "revoke", str(token["id"]), env=env).returncode == 0
    [listed] = json.loads(seatflow("token", "list", "--org", org["id"], env=env).stdout)
    assert listed["revoked_at"] is not None
    again = seatflow("token", "revoke", str(token["id"]), env=env)
    assert again.returncode == 1 and "no token" in again.stderr
