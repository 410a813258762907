"""The guard both web apps share: JSON nested too deeply is a 400, never a 500."""

from __future__ import annotations

from api import create_app
from config.database import make_engine
from tests.builders import build_world

# As deep as the API's 64 KiB body limit allows; far past the parser's recursion limit.
DEEP = b'{"a":' + b"[" * 30_000 + b"]" * 30_000 + b"}"


def test_the_org_api_answers_400_to_json_nested_30000_deep(sqlite_settings) -> None:
    client = create_app(sqlite_settings).test_client()
    world = build_world(make_engine(sqlite_settings))
    response = client.post(
        f"/api/v1/organizations/{world.org_id}/estimates",
        data=DEEP,
        headers={
            "Authorization": f"Bearer {world.tokens['owner']}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 400
