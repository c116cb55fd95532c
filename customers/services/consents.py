"""Recording consent decisions, appended to the customer's history with their evidence."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from customers.locks import lock_customers
from customers.models import Consent, ConsentPurpose, ContactChannel, Customer
from omni.core.channels import Channel
from omni.core.errors import InvalidInput


@dataclass(frozen=True)
class ConsentDecision:
    channel: str
    purpose: str
    granted: bool


def _check_decision(decision: ConsentDecision, source_channel: str) -> None:
    errors = {}
    if decision.channel not in ContactChannel.values:
        errors["channel"] = [f"Expected one of {', '.join(ContactChannel.values)}."]
    if decision.purpose not in ConsentPurpose.values:
        errors["purpose"] = [f"Expected one of {', '.join(ConsentPurpose.values)}."]
    if source_channel not in Channel.values:
        errors["source_channel"] = [f"Expected one of {', '.join(Channel.values)}."]
    if errors:
        raise InvalidInput("Unknown consent channel, purpose or source.", details=errors)


@transaction.atomic
def record_consents(
    *,
    customer: Customer,
    decisions: Iterable[ConsentDecision],
    source_channel: str,
    ip_address: str | None = None,
    user_agent: str = "",
    recorded_by: User | None = None,
    only_changes: bool = True,
) -> list[Consent]:
    """Append the customer's decisions to the history, with their evidence (the request's IP
    and user agent, or the staff member who recorded it). With ``only_changes`` a decision
    equal to the current state adds no row, so a preferences form can send everything."""
    decisions = list(decisions)
    for decision in decisions:
        _check_decision(decision, source_channel)
    # Lock the customer so two concurrent updates see each other's rows in order.
    lock_customers([customer.public_id])
    current: dict[tuple[str, str], bool] = {}
    if only_changes:
        for consent in customer.consents.order_by("-recorded_at", "-id").only(
            "channel", "purpose", "granted"
        ):
            current.setdefault((consent.channel, consent.purpose), consent.granted)
    now = timezone.now()
    rows = []
    for decision in decisions:
        key = (decision.channel, decision.purpose)
        if only_changes and current.get(key, False) == decision.granted and key in current:
            continue
        current[key] = decision.granted
        rows.append(
            Consent(
                customer=customer,
                channel=decision.channel,
                purpose=decision.purpose,
                granted=decision.granted,
                source_channel=source_channel,
                recorded_at=now,
                ip_address=ip_address or None,
                user_agent=(user_agent or "")[:512],
                recorded_by=recorded_by,
            )
        )
    return Consent.objects.bulk_create(rows)


def record_consent(
    *,
    customer: Customer,
    channel: str,
    purpose: str,
    granted: bool,
    source_channel: str,
    ip_address: str | None = None,
    user_agent: str = "",
    recorded_by: User | None = None,
) -> Consent:
    """Append one decision, even when it repeats the current state (a renewed consent)."""
    (consent,) = record_consents(
        customer=customer,
        decisions=[ConsentDecision(channel=channel, purpose=purpose, granted=granted)],
        source_channel=source_channel,
        ip_address=ip_address,
        user_agent=user_agent,
        recorded_by=recorded_by,
        only_changes=False,
    )
    return consent
