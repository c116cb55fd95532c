"""The consent condition: the customer's latest decision for a contact channel and purpose,
the rule of ``customers.selectors.may_contact`` (no decision means no), written as one
expression per customer (a probe of ``consent_latest_idx``) so a NOT group stays cheap."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact

from campaigns.rules.base import (
    CompileContext,
    Condition,
    Invalid,
    Param,
    ValidationContext,
    register,
)
from customers.models import Consent as ConsentRow
from customers.models import ConsentPurpose, ContactChannel


@register
class Consent(Condition):
    field = "consent"
    label = "Consent for a contact channel and purpose (the latest decision; none means no)"
    group = "Consent"
    operators = {
        "granted": f"a channel ({', '.join(ContactChannel.values)})",
        "not_granted": "a channel: withdrawn or never given",
    }
    params = {"purpose": Param(f"required: {', '.join(ConsentPurpose.values)}", True)}
    example = {"field": "consent", "operator": "granted", "value": "email", "purpose": "marketing"}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        if value not in ContactChannel.values:
            raise Invalid(
                f"unknown channel {value!r} (expected {', '.join(ContactChannel.values)})."
            )
        purpose = params["purpose"]
        if purpose not in ConsentPurpose.values:
            raise Invalid(
                f"unknown purpose {purpose!r} (expected {', '.join(ConsentPurpose.values)})."
            )
        return value, {"purpose": purpose}

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        latest = (
            ConsentRow.objects.filter(
                customer=OuterRef("pk"), channel=value, purpose=params["purpose"]
            )
            .order_by("-recorded_at", "-id")
            .values("granted")[:1]
        )
        granted = Q(Exact(Coalesce(Subquery(latest), Value(False)), True))
        return granted if operator == "granted" else ~granted
