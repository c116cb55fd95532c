"""Reading one touchpoint event as a storefront sends it: checks and normalises its fields,
without touching the database, so a batch can keep its good events and report the bad ones.

An event, as JSON::

    {"type": "product_view", "occurred_at": "2026-11-24T10:15:00+01:00",
     "event_id": "b9f3…", "anonymous_id": "web-7f2c…", "url": "https://…",
     "sku_code": "RAIN-JACKET-M", "product_code": "rain-jacket", "store_code": "PAR-RIV",
     "campaign_code": "autumn", "utm": {"source": "newsletter", "medium": "email"},
     "properties": {"query": "rain jacket"}}
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils.dateparse import parse_datetime

from customers.models import Touchpoint

MAX_BATCH_SIZE = 500
MAX_PROPERTIES_BYTES = 8_000
# Device clocks drift; an event further ahead than this is a bug in the sender.
FUTURE_TOLERANCE = timedelta(minutes=5)

TEXT_LIMITS = {
    "event_id": 64,
    "anonymous_id": 128,
    "url": 2048,
    "sku_code": 64,
    "product_code": 64,
    "store_code": 32,
    "campaign_code": 64,
}
UTM_KEYS = ("source", "medium", "campaign", "term", "content")
UTM_LIMIT = 100
KNOWN_FIELDS = {"type", "occurred_at", "utm", "properties", *TEXT_LIMITS}
# Kinds only a service of ours writes, whose rows reports trust: a storefront cannot send them.
SERVICE_ONLY_KINDS = frozenset({Touchpoint.Kind.SURVEY_ANSWER.value})
INGESTED_KINDS = [kind for kind in Touchpoint.Kind.values if kind not in SERVICE_ONLY_KINDS]


@dataclass
class EventDraft:
    """An event that passed every check, with the names of ``Touchpoint`` fields."""

    kind: str
    occurred_at: datetime
    event_id: str = ""
    anonymous_id: str = ""
    url: str = ""
    sku_code: str = ""
    product_code: str = ""
    store_code: str = ""
    campaign_code: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    properties: dict[str, Any] = field(default_factory=dict)


def parse_event(
    raw: Any, *, now: datetime, needs_anonymous_id: bool
) -> tuple[EventDraft | None, dict[str, list[str]]]:
    """The event as a draft, or ``None`` and its errors by field."""
    if not isinstance(raw, Mapping):
        return None, {"non_field": ["An event is a JSON object."]}
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}

    unknown = sorted(set(raw) - KNOWN_FIELDS)
    for name in unknown:
        errors[name] = ["Unknown field."]

    kind = raw.get("type")
    if kind not in INGESTED_KINDS:
        errors["type"] = [f"Expected one of {', '.join(INGESTED_KINDS)}."]
    values["kind"] = kind

    occurred_at = _parse_time(raw.get("occurred_at"), now=now, errors=errors)
    values["occurred_at"] = occurred_at

    for name, limit in TEXT_LIMITS.items():
        value = raw.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[name] = ["Expected a string."]
        elif len(value) > limit:
            errors[name] = [f"At most {limit} characters."]
        else:
            values[name] = value.strip()

    utm = raw.get("utm") or {}
    if not isinstance(utm, Mapping):
        errors["utm"] = ["Expected an object with source, medium, campaign, term, content."]
    else:
        for key in sorted(set(utm) - set(UTM_KEYS)):
            errors[f"utm.{key}"] = ["Unknown UTM field."]
        for key in UTM_KEYS:
            value = utm.get(key) or ""
            if not isinstance(value, str) or len(value) > UTM_LIMIT:
                errors[f"utm.{key}"] = [f"Expected a string of at most {UTM_LIMIT} characters."]
            else:
                values[f"utm_{key}"] = value

    properties = raw.get("properties") or {}
    if not isinstance(properties, Mapping):
        errors["properties"] = ["Expected an object."]
    elif len(json.dumps(properties, default=str)) > MAX_PROPERTIES_BYTES:
        errors["properties"] = [f"At most {MAX_PROPERTIES_BYTES} bytes of JSON."]
    else:
        values["properties"] = dict(properties)

    if needs_anonymous_id and not errors.get("anonymous_id") and not values.get("anonymous_id"):
        errors["anonymous_id"] = ["Required unless a customer is signed in."]

    if errors:
        return None, errors
    return EventDraft(**values), {}


def _parse_time(value: Any, *, now: datetime, errors: dict) -> datetime | None:
    if not value:
        errors["occurred_at"] = ["Required: when it happened, ISO 8601 with an offset."]
        return None
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        errors["occurred_at"] = ["Expected an ISO 8601 date and time."]
    elif parsed.tzinfo is None:
        errors["occurred_at"] = ["Include a time zone offset, e.g. 2026-11-24T10:15:00+01:00."]
    elif parsed > now + FUTURE_TOLERANCE:
        errors["occurred_at"] = ["Is in the future."]
    else:
        return parsed
    return None
