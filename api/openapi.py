"""The OpenAPI 3.1 document of the org API, served at /api/v1/openapi.json.

Kept beside the views on purpose: a test compares its paths with the app's routes, and a
schemathesis run checks every answer against it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api import openapi_renewal
from domain.licenses import MACHINE_ID
from domain.model import Interval

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

INT, STR, BOOL = {"type": "integer"}, {"type": "string"}, {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "type": [schema["type"], "null"]}


def obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


INTERVAL = {"type": "string", "enum": [i.value for i in Interval]}
TIER = {"type": "string", "minLength": 1, "maxLength": 64}
FEATURES = {"type": "array", "items": STR}
PLAN = obj({"seats": INT, "interval": INTERVAL, "tier": STR})
# Whose code the discount field named: a Stripe promotion code or seatflow's own.
DISCOUNT_SOURCE = {"type": ["string", "null"], "enum": ["stripe", "seatflow", None]}
NEXT_INVOICE = obj({"at": nullable(TIME), "amount": nullable(INT), "currency": nullable(STR)})
SCHEMAS: dict[str, Any] = {
    "Error": obj({"error": obj({"code": STR, "message": STR})}),
    "Subscription": obj(
        {
            "license_type": STR,
            "tier": STR,
            "seats": INT,
            "interval": STR,
            "status": STR,
            "current_period_start": TIME,
            "current_period_end": TIME,
            "next_invoice": NEXT_INVOICE,
            "upgradable": BOOL,
            "offline_licenses_allowed": BOOL,
            "scheduled_change": {
                "oneOf": [{"$ref": "#/components/schemas/ScheduledChange"}, {"type": "null"}]
            },
        }
    ),
    "Subscriptions": obj(
        {
            "organization": obj({"id": STR, "name": STR}),
            "subscriptions": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Subscription"},
            },
        }
    ),
    "EstimateRequest": obj(
        {
            "license_type": {"type": "string", "minLength": 1, "maxLength": 64},
            "seats": {"type": "integer", "minimum": 1, "maximum": 100000},
            "interval": INTERVAL,
            "discount_code": {
                "type": "string",
                "minLength": 1,
                "maxLength": 64,
                "description": "seatflow's own discount code or a Stripe promotion code (case "
                "does not matter); when both exist with one text, seatflow's own code wins. "
                "A code that cannot be used is a 400 naming why (discount_code_invalid, "
                "discount_code_inactive, discount_code_expired, discount_code_exhausted, "
                "discount_code_other_customer, discount_code_first_time_only, "
                "discount_code_minimum_amount, discount_code_currency, "
                "discount_code_unsupported).",
            },
            "tier": TIER,
        },
        required=["license_type", "seats", "interval"],
    )
    | {
        "examples": [
            {"license_type": "node_locked", "seats": 5, "interval": "year"},
            {"license_type": "node_locked", "seats": 5, "interval": "year", "tier": "professional"},
        ]
    },
    "Estimate": obj(
        {
            "id": STR,
            "license_type": STR,
            "current": PLAN,
            "requested": PLAN,
            "amount": INT,
            "currency": STR,
            "trial": BOOL,
            "breakdown": obj(
                {
                    "new_term": INT,
                    "old_term": INT,
                    "before_discount": INT,
                    "discount": INT,
                    "discount_code": nullable(STR),
                    "discount_source": DISCOUNT_SOURCE,
                    "old_unused_minutes": INT,
                    "old_total_minutes": INT,
                    "new_unused_minutes": INT,
                    "new_total_minutes": INT,
                }
            ),
            "cycle": obj({"start": TIME, "current_end": TIME, "new_end": TIME}),
            "next_invoice": NEXT_INVOICE,
            "computed_at": TIME,
            "expires_at": TIME,
            "text": obj(
                {
                    "amount": STR,
                    "new_term": STR,
                    "old_term": STR,
                    "discount": STR,
                    "next_invoice": STR,
                }
            ),
        }
    ),
    "UpgradeRequest": obj({"estimate_id": {"type": "string", "minLength": 1, "maxLength": 64}}),
    "Upgrade": obj(
        {
            "id": STR,
            "state": {
                "type": "string",
                "enum": [
                    "requested",
                    "charging",
                    "awaiting_payment",
                    "requires_action",
                    "paid",
                    "applied",
                    "payment_failed",
                    "expired",
                    "canceled",
                    "refunded",
                ],
            },
            "license_type": STR,
            "estimate_id": STR,
            "from": PLAN,
            "to": PLAN,
            "currency": STR,
            "estimate_amount": INT,
            "amount_due": nullable(INT),
            "charged_amount": nullable(INT),
            "paid_amount": nullable(INT),
            "estimate_drift": nullable(INT),
            "stripe_invoice_id": nullable(STR),
            "failure_reason": nullable(STR),
            "refunded_amount": nullable(INT),
            # The code and what it took off the amount due when the charge was priced
            # (null until then); a Stripe promotion code is taken off by Stripe's invoice.
            "discount": {
                "oneOf": [
                    obj(
                        {
                            "code": STR,
                            "source": {"type": "string", "enum": ["stripe", "seatflow"]},
                            "amount": nullable(INT),
                        }
                    ),
                    {"type": "null"},
                ]
            },
            "payment_url": nullable(STR),
            "created_at": TIME,
            "updated_at": TIME,
            "history": {
                "type": "array",
                "items": obj({"from": nullable(STR), "to": STR, "at": TIME, "cause": STR}),
            },
        }
    ),
    "License": obj(
        {
            "id": STR,
            "license_type": STR,
            "tier": STR,
            "features": FEATURES,
            "seats": INT,
            "interval": STR,
            "version": INT,
            "status": {"type": "string", "enum": ["current", "superseded", "revoked"]},
            "valid_until": TIME,
            "issued_at": TIME,
            "cause": STR,
        }
    ),
    "Licenses": obj(
        {
            "current": {"type": "array", "items": {"$ref": "#/components/schemas/License"}},
            "history": {"type": "array", "items": {"$ref": "#/components/schemas/License"}},
        }
    ),
    "OfflineLicense": obj(
        {
            "id": STR,
            "license_type": STR,
            "machine_id": STR,
            "tier": STR,
            "features": FEATURES,
            "version": INT,
            "status": {"type": "string", "enum": ["active", "released", "revoked"]},
            "expires_at": TIME,
        }
    ),
    "OfflineLicenseCreated": {
        "allOf": [{"$ref": "#/components/schemas/OfflineLicense"}, obj({"file": STR})]
    },
    "OfflineLicenseRequest": obj(
        {
            "license_type": {"type": "string", "minLength": 1, "maxLength": 64},
            "machine_id": {
                "type": "string",
                "minLength": 1,
                "maxLength": 64,
                "pattern": f"^{MACHINE_ID.pattern}$",
            },
        }
    )
    | {"examples": [{"license_type": "node_locked", "machine_id": "build-agent-1"}]},
    "OfflineLicenses": obj(
        {
            "usage": {
                "type": "array",
                "items": obj({"license_type": STR, "active": INT, "seats": INT}),
            },
            "offline_licenses": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/OfflineLicense"},
            },
        }
    ),
    "LicenseFile": obj(
        {"license": {"type": "object"}, "signature": STR, "algorithm": STR, "key_id": STR}
    ),
}
RECEIPT = obj(
    {
        "invoice_id": STR,
        "number": nullable(STR),
        "amount_paid": INT,
        "amount_paid_text": STR,
        "currency": STR,
        "paid_at": nullable(TIME),
        "hosted_invoice_url": nullable(STR),
        "invoice_pdf": nullable(STR),
    }
)
# The receipt of a paid upgrade: in `GET …/upgrades/{id}` and in the history.
SCHEMAS["Upgrade"]["properties"]["receipt"] = {"oneOf": [RECEIPT, {"type": "null"}]}
SCHEMAS["UpgradeHistory"] = obj(
    {
        "upgrades": {
            "type": "array",
            "items": obj(
                {
                    "id": STR,
                    "state": SCHEMAS["Upgrade"]["properties"]["state"],
                    "license_type": STR,
                    "from": PLAN,
                    "to": PLAN,
                    "currency": STR,
                    "estimate_amount": INT,
                    "amount_due": nullable(INT),
                    "charged_amount": nullable(INT),
                    "paid_amount": nullable(INT),
                    "estimate_drift": nullable(INT),
                    "discount_code": nullable(STR),
                    "requested_by": nullable(STR),
                    "requested_at": TIME,
                    "receipt": {"oneOf": [RECEIPT, {"type": "null"}]},
                }
            ),
        }
    }
)
SCHEMAS.update(openapi_renewal.SCHEMAS)
CARD = obj({"brand": STR, "last4": STR, "exp_month": INT, "exp_year": INT})
SCHEMAS["PaymentMethod"] = obj({"card": {"oneOf": [CARD, {"type": "null"}]}})
ERRORS = {
    str(code): {
        "description": text,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for code, text in (
        (400, "malformed request"),
        (401, "no or invalid token"),
        (403, "role not allowed"),
        (404, "not found (or another organization's)"),
        (409, "conflict"),
        (413, "body too large"),
        (415, "not JSON"),
        (422, "a business rule was broken"),
        (503, "briefly unavailable"),
    )
}


def _op(
    summary: str,
    status: int,
    schema: str,
    body: str | None = None,
    params: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": params or [],
        "responses": {
            str(status): {
                "description": summary,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
                },
            },
            **ERRORS,
        },
    }
    if status == 202:  # a repeated Idempotency-Key returns the same upgrade with 200
        operation["responses"]["200"] = operation["responses"]["202"]
    if status == 201 and schema == "OfflineLicenseCreated":
        operation["responses"]["200"] = operation["responses"]["201"]
    if body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
        }
    return operation


def _id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": STR}


ORG = "/api/v1/organizations/{org_id}"
IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "seatflow org API",
            "version": "1.0.0",
            "description": "Estimates, upgrades and licenses for an organization's "
            "owner and admins. Money is in integer minor units.",
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths(),
    }


def paths() -> dict[str, Any]:
    """Every route of the org API (a test holds this to the app's routes)."""
    org = [_id("org_id")]
    return {
        f"{ORG}/subscriptions": {
            "get": _op("List subscriptions", 200, "Subscriptions", params=org)
        },
        f"{ORG}/estimates": {
            "post": _op("Estimate an upgrade", 201, "Estimate", "EstimateRequest", org)
        },
        f"{ORG}/upgrades": {
            "get": _op("Upgrade history, newest first", 200, "UpgradeHistory", params=org),
            "post": _op("Submit an upgrade", 202, "Upgrade", "UpgradeRequest", [*org, IDEMPOTENCY]),
        },
        f"{ORG}/upgrades/{{upgrade_id}}": {
            "get": _op("Follow an upgrade", 200, "Upgrade", params=[*org, _id("upgrade_id")])
        },
        f"{ORG}/upgrades/{{upgrade_id}}/cancel": {
            "post": _op(
                "Cancel an unpaid upgrade", 200, "Upgrade", params=[*org, _id("upgrade_id")]
            )
        },
        f"{ORG}/payment-method": {"get": _op("The card on file", 200, "PaymentMethod", params=org)},
        f"{ORG}/upgrades/{{upgrade_id}}/retry": {
            "post": _op(
                "Pay a failed upgrade's invoice again",
                202,
                "Upgrade",
                params=[*org, _id("upgrade_id")],
            )
        },
        f"{ORG}/licenses": {
            "get": _op("Current licenses and history", 200, "Licenses", params=org)
        },
        f"{ORG}/licenses/{{license_id}}/file": {
            "get": _op(
                "Download a signed license file",
                200,
                "LicenseFile",
                params=[*org, _id("license_id")],
            )
        },
        f"{ORG}/offline-licenses": {
            "get": _op("Offline licenses and seats used", 200, "OfflineLicenses", params=org),
            "post": _op(
                "Bind a machine to a seat",
                201,
                "OfflineLicenseCreated",
                "OfflineLicenseRequest",
                org,
            ),
        },
        f"{ORG}/offline-licenses/{{activation_id}}": {
            "delete": _op(
                "Release a seat", 200, "OfflineLicense", params=[*org, _id("activation_id")]
            )
        },
        f"{ORG}/offline-licenses/{{activation_id}}/file": {
            "get": _op(
                "Download a signed offline license",
                200,
                "LicenseFile",
                params=[*org, _id("activation_id")],
            )
        },
        **openapi_renewal.paths(ORG, _op, _id),
    }


@bp.get("/openapi.json")
def openapi() -> Any:
    return document()
