"""Touchpoint ingestion: storefronts' batches of events, stored in bulk."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from customers.events import MAX_BATCH_SIZE, parse_event
from customers.models import Customer, Identity, Touchpoint
from customers.services.resolution import _attach_identities, anonymous_kind
from omni.core.channels import Channel
from omni.core.errors import InvalidInput


@dataclass(frozen=True)
class IngestionReport:
    accepted: int
    duplicates: int
    rejected: list[dict[str, Any]]


@transaction.atomic
def ingest_touchpoints(
    *,
    channel: str,
    events: Sequence[Any],
    customer: Customer | None = None,
    now: datetime | None = None,
) -> IngestionReport:
    """Store a storefront's batch of events (at most ``MAX_BATCH_SIZE``) with bulk inserts.

    Each event is checked on its own: a bad one is reported by its index and the others are
    stored. Events of a signed-in ``customer`` are theirs, and the anonymous ids they carry
    become the customer's identities (earlier anonymous events follow). Without a customer, an
    event needs an ``anonymous_id``; it is linked to the customer that id is known to belong
    to, or stays unlinked until the id is resolved. An ``event_id`` already stored for this
    channel is counted as a duplicate and not stored again, so a retried batch is harmless.
    The number of queries does not grow with the size of the batch.
    """
    if channel not in Channel.values:
        raise InvalidInput("Unknown channel.", details={"channel": ["Unknown channel."]})
    if not isinstance(events, Sequence) or isinstance(events, str | bytes):
        raise InvalidInput("Events come as a list.", details={"events": ["Expected a list."]})
    if not 1 <= len(events) <= MAX_BATCH_SIZE:
        raise InvalidInput(
            f"A batch holds 1 to {MAX_BATCH_SIZE} events; this one has {len(events)}.",
            details={"events": [f"Send 1 to {MAX_BATCH_SIZE} events per call."]},
        )
    now = now or timezone.now()
    drafts = []
    rejected = []
    for index, raw in enumerate(events):
        draft, errors = parse_event(raw, now=now, needs_anonymous_id=customer is None)
        if draft is None:
            rejected.append({"index": index, "errors": errors})
        else:
            drafts.append(draft)
    if not drafts:
        raise InvalidInput("No event in the batch could be stored.", details={"rejected": rejected})

    event_ids = [draft.event_id for draft in drafts if draft.event_id]
    seen = set(
        Touchpoint.objects.filter(channel=channel, event_id__in=event_ids).values_list(
            "event_id", flat=True
        )
        if event_ids
        else ()
    )
    fresh = []
    for draft in drafts:
        if draft.event_id:
            if draft.event_id in seen:
                continue
            seen.add(draft.event_id)
        fresh.append(draft)

    kind = anonymous_kind(channel)
    anonymous_ids = sorted({draft.anonymous_id for draft in fresh if draft.anonymous_id})
    if customer is not None:
        if anonymous_ids:
            customer = _attach_identities(
                customer,
                [(kind, value) for value in anonymous_ids],
                cause=f"signed-in events on {channel}",
                actor=None,
                merge_accounts=False,
            )
        owners = {}
    else:
        owners = dict(
            Identity.objects.filter(kind=kind, value__in=anonymous_ids).values_list(
                "value", "customer_id"
            )
            if anonymous_ids
            else ()
        )
    rows = [
        Touchpoint(
            customer_id=customer.pk if customer else owners.get(draft.anonymous_id),
            channel=channel,
            **draft.__dict__,
        )
        for draft in fresh
    ]
    # Concurrent resends of one event_id meet the unique constraint: the first one wins.
    Touchpoint.objects.bulk_create(rows, ignore_conflicts=True)
    return IngestionReport(
        accepted=len(rows), duplicates=len(drafts) - len(fresh), rejected=rejected
    )
