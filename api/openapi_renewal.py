"""The OpenAPI description of changes at renewal (`/scheduled-changes`), merged into the org
API's document by `api/openapi.py`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.model import Interval
from domain.renewal import ChangeState

INT, STR, BOOL = {"type": "integer"}, {"type": "string"}, {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
INTERVAL = {"type": "string", "enum": [i.value for i in Interval]}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "type": [schema["type"], "null"]}


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


TERMS = _obj({"seats": INT, "interval": STR, "tier": STR})
SCHEMAS: dict[str, Any] = {
    "ScheduledChangeRequest": _obj(
        {
            "license_type": {"type": "string", "minLength": 1, "maxLength": 64},
            "seats": {"type": "integer", "minimum": 1, "maximum": 100000},
            "interval": INTERVAL,
            "tier": {"type": "string", "minLength": 1, "maxLength": 64},
        },
        required=["license_type", "seats", "interval"],
    )
    | {
        "description": "Fewer seats, annual → monthly and/or a lower tier, from the next "
        "renewal (a trial's end, in a trial). Nothing is charged or refunded now.",
        "examples": [{"license_type": "node_locked", "seats": 3, "interval": "month"}],
    },
    "ScheduledChange": _obj(
        {
            "id": STR,
            "license_type": STR,
            "state": {"type": "string", "enum": [s.value for s in ChangeState]},
            "pending": BOOL,
            "from": TERMS,
            "to": TERMS,
            "effective_at": TIME,
            "next_invoice": _obj({"at": TIME, "amount": INT, "currency": STR}),
            "next_invoice_text": STR,
            "charged_now": {"type": "integer", "const": 0},
            "requested_by": STR,
            "cause": _nullable(STR),
            "created_at": TIME,
            "updated_at": TIME,
            "applied_at": _nullable(TIME),
        }
    ),
    "ScheduledChanges": _obj(
        {
            "scheduled_changes": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/ScheduledChange"},
            }
        }
    ),
}


def paths(
    org: str,
    op: Callable[..., dict[str, Any]],
    path_id: Callable[[str], dict[str, Any]],
) -> dict[str, Any]:
    ids = [path_id("org_id")]
    one = [*ids, path_id("change_id")]
    return {
        f"{org}/scheduled-changes": {
            "get": op("Changes at renewal, newest first", 200, "ScheduledChanges", params=ids),
            "post": op(
                "Schedule a change for the renewal (202; Stripe is told by a task)",
                202,
                "ScheduledChange",
                "ScheduledChangeRequest",
                ids,
            ),
        },
        f"{org}/scheduled-changes/{{change_id}}": {
            "get": op("A change at renewal", 200, "ScheduledChange", params=one)
        },
        f"{org}/scheduled-changes/{{change_id}}/cancel": {
            "post": op(
                "Cancel a pending change before its period ends", 200, "ScheduledChange", params=one
            )
        },
    }
