"""Sending a campaign: its audience read in batches by customer id (keyset), each batch
planned set-based (variant or holdout, channel, code, personalisation: a fixed number of
queries whatever its size) and written in one transaction under the campaign's lock — its
``CampaignRecipient`` rows, the outbox messages of the reachable recipients through
``customers.notifications.notify_many`` (the whole batch judged and inserted at once), and the
campaign's cursor and counters.

Resumable and idempotent three times over: the cursor only moves with the batch it covers (a
worker killed mid-batch rolls the whole batch back); a customer who already has a recipient
row is skipped; and each message's idempotency key, ``campaign:<campaign>:<customer>``, makes
the outbox return the first row rather than queue a second.

Channel preference: the campaign's channels in order; a customer gets the first one they
consented to (marketing) and can be reached on (an e-mail, a phone, an app install). The
per-customer answer (``reachable_channels``, for previews) and the batch's
(``reachable_among``) read the same facts: the latest consent and the address.
"""

import logging
import re
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape, unescape
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.locks import lock_campaign, lock_code_batch, lock_free_codes
from campaigns.models import Campaign, CampaignRecipient, CampaignVariant, Coupon
from campaigns.services.experiments import HOLDOUT, REST, Arm, assign
from campaigns.services.lifecycle import complete_campaign
from campaigns.services.recommendations import recommended_products
from campaigns.services.templating import check, render
from campaigns.services.winner import winner_due
from customers.models import ConsentPurpose, Customer, Identity, Notification
from customers.notifications import (
    Message,
    address_for,
    notify_many,
    open_pixel_url,
    tracked_link,
)
from customers.selectors import contactable, may_contact
from inventory.models import Location

logger = logging.getLogger(__name__)

Reason = CampaignRecipient.Reason
MARKETING = ConsentPurpose.MARKETING
# The customer fields a batch reads (nothing else of the profile is needed to send; the
# outbox reads ``erased_at`` again).
CUSTOMER_FIELDS = (
    "pk",
    "public_id",
    "first_name",
    "email",
    "phone",
    "time_zone",
    "preferred_store_code",
    "erased_at",
)


@dataclass(frozen=True)
class Rendered:
    """One message in one channel, as the customer will get it."""

    channel: str
    subject: str
    body: str
    html: str = ""
    link: str = ""


@dataclass(frozen=True)
class HandedCode:
    code: str
    coupon_id: int


@dataclass
class BatchResult:
    reached: int = 0  # audience members planned in this batch
    queued: int = 0
    suppressed: int = 0
    unreachable: int = 0
    held_out: int = 0
    done: bool = False


@dataclass
class Plan:
    """What a batch knows about its customers, read set-based."""

    reachable: dict[int, set[str]] = field(default_factory=dict)
    values: dict[int, dict[str, object]] = field(default_factory=dict)
    zones: dict[int, str] = field(default_factory=dict)


# --- Channels -------------------------------------------------------------------------------


def reachable_channels(customer: Customer, channels: Iterable[str]) -> set[str]:
    """The channels among ``channels`` this customer consented to and has an address for."""
    return {
        channel
        for channel in channels
        if address_for(customer, channel) and may_contact(customer, channel, MARKETING)
    }


def reachable_among(customers: Sequence[Customer], channels: Iterable[str]) -> dict[int, set[str]]:
    """``reachable_channels`` for a whole batch: one query per channel, one for app installs."""
    ids = [customer.pk for customer in customers]
    reachable: dict[int, set[str]] = {customer.pk: set() for customer in customers}
    channels = list(channels)
    with_device: set[int] = set()
    if Notification.Channel.PUSH in channels:
        with_device = set(
            Identity.objects.filter(customer_id__in=ids, kind=Identity.Kind.DEVICE)
            .values_list("customer_id", flat=True)
            .distinct()
        )
    has_address: dict[str, set[int]] = {
        Notification.Channel.EMAIL: {c.pk for c in customers if c.email},
        Notification.Channel.SMS: {c.pk for c in customers if c.phone},
        Notification.Channel.PUSH: with_device,
    }
    for channel in channels:
        addressed = has_address[channel]
        if not addressed:
            continue
        consented = contactable(
            channel, MARKETING, Customer.objects.filter(pk__in=sorted(addressed))
        ).values_list("pk", flat=True)
        for customer_id in consented:
            reachable[customer_id].add(channel)
    return reachable


def preferred_channel(preferences: Sequence[str], reachable: set[str]) -> str:
    """The first channel of the campaign's order the customer can get, or ""."""
    return next((channel for channel in preferences if channel in reachable), "")


# --- Personalisation ------------------------------------------------------------------------


def variables_used(
    campaign: Campaign, variants: Sequence[CampaignVariant], extra: Collection[str] = ()
) -> set[str]:
    used: set[str] = set()
    for variant in variants:
        for name in CampaignVariant.TEMPLATE_FIELDS:
            used |= check(getattr(variant, name), extra)
    return used


def personalise(
    campaign: Campaign,
    customers: Sequence[Customer],
    *,
    used: set[str],
    codes: dict[int, HandedCode],
    now: datetime,
) -> dict[int, dict[str, object]]:
    """The template values of each customer: only what the templates use is read (tier and
    points one query, stores one, products four)."""
    ids = [customer.pk for customer in customers]
    loyalty: dict[int, tuple[str, int]] = {}
    if used & {"tier", "points"}:
        for pk, tier, points in Customer.objects.filter(pk__in=ids).values_list(
            "pk", "loyalty_account__tier__name", "loyalty_account__available"
        ):
            loyalty[pk] = (tier or "", points or 0)
    stores = store_names(customers) if "store" in used else {}
    products = recommended_products(ids, now=now) if "products" in used else {}
    offer = campaign.the_offer
    return {
        customer.pk: {
            "first_name": customer.first_name,
            "tier": loyalty.get(customer.pk, ("", 0))[0],
            "points": loyalty.get(customer.pk, ("", 0))[1],
            "store": stores.get(customer.preferred_store_code, ""),
            "code": codes[customer.pk].code if customer.pk in codes else "",
            "offer": offer.name if offer else "",
            "products": products.get(customer.pk, []),
        }
        for customer in customers
    }


def store_names(customers: Sequence[Customer]) -> dict[str, str]:
    codes = {c.preferred_store_code for c in customers if c.preferred_store_code}
    if not codes:
        return {}
    return dict(Location.objects.filter(code__in=codes).values_list("code", "name"))


def render_message(variant: CampaignVariant, channel: str, values: dict[str, object]) -> Rendered:
    """The variant's message for ``channel`` with the customer's values."""
    if channel == Notification.Channel.EMAIL:
        return Rendered(
            channel,
            subject=render(variant.email_subject, values),
            body=render(variant.email_text, values),
            html=render(variant.email_html, values, html=True),
        )
    if channel == Notification.Channel.SMS:
        return Rendered(channel, subject="", body=render(variant.sms_text, values))
    return Rendered(
        channel,
        subject=render(variant.push_title, values),
        body=render(variant.push_body, values),
        link=render(variant.push_link, values),
    )


# --- Local time -----------------------------------------------------------------------------


def customer_zones(customers: Sequence[Customer]) -> dict[int, str]:
    """Each customer's time zone: their own, else their preferred store's, else the shop's."""
    codes = {
        c.preferred_store_code for c in customers if c.preferred_store_code and not c.time_zone
    }
    store_zones = (
        dict(Location.objects.filter(code__in=codes).values_list("code", "time_zone"))
        if codes
        else {}
    )
    return {
        c.pk: c.time_zone or store_zones.get(c.preferred_store_code) or settings.TIME_ZONE
        for c in customers
    }


def local_send_time(send_at: datetime, zone: str) -> datetime:
    """``send_at``'s wall-clock time (in the shop's zone) in ``zone``, as an instant."""
    wall = timezone.localtime(send_at, timezone.get_default_timezone()).replace(tzinfo=None)
    return wall.replace(tzinfo=ZoneInfo(zone))


# --- Codes ----------------------------------------------------------------------------------


def hand_out_codes(campaign: Campaign, customer_ids: Sequence[int]) -> dict[int, HandedCode]:
    """The code each customer gets: the shared coupon's, or one unique code of the batch per
    customer (the one they already hold, else a free one, now made theirs). A customer the
    batch has no code left for is missing from the answer. Four queries at most, under the
    batch's lock (another campaign handing out the same batch waits for this batch)."""
    if campaign.coupon is not None:
        return dict.fromkeys(customer_ids, HandedCode(campaign.coupon.code, campaign.coupon.pk))
    if campaign.code_batch_id is None or not customer_ids:
        return {}
    lock_code_batch(campaign.code_batch_id)
    held = {
        customer_id: HandedCode(code, pk)
        for customer_id, code, pk in Coupon.objects.filter(
            batch_id=campaign.code_batch_id, customer_id__in=customer_ids
        )
        .order_by("pk")
        .values_list("customer_id", "code", "pk")
    }
    needing = [pk for pk in customer_ids if pk not in held]
    free = lock_free_codes(campaign.code_batch_id, len(needing))
    for coupon, customer_id in zip(free, needing, strict=False):
        coupon.customer_id = customer_id
        held[customer_id] = HandedCode(coupon.code, coupon.pk)
    if free:
        Coupon.objects.bulk_update(free, ["customer"])
    return held


# --- The send -------------------------------------------------------------------------------


def message_key(campaign: Campaign, customer: Customer) -> str:
    return f"campaign:{campaign.public_id}:{customer.public_id}"


def outbox_message(
    *,
    campaign: Campaign,
    customer: Customer,
    variant: CampaignVariant,
    message: Rendered,
    not_before: datetime | None,
    idempotency_key: str = "",
) -> Message:
    """The one place a campaign message is made for the outbox: marketing under the customer's
    consent, caps and quiet hours (the outbox judges), keyed per campaign and customer so a
    repeated send queues nothing twice, its source naming the campaign (opens and clicks are
    credited to it). An e-mail's links go through the click redirect and it carries the open
    pixel, both under the public id the row will have."""
    public_id = uuid.uuid4()
    html = message.html
    if html:
        html = track_links(html, public_id)
        html += f'<img src="{open_pixel_url(public_id)}" width="1" height="1" alt="">'
    context: dict[str, Any] = {"campaign": str(campaign.public_id), "variant": variant.code}
    if message.link:
        context["link"] = message.link  # a push notification's deep link
    return Message(
        customer=customer,
        topic=campaign.outbox_source,
        channel=message.channel,
        kind=Notification.Kind.MARKETING,
        purpose=MARKETING,
        subject=message.subject,
        body=message.body,
        html_body=html,
        context=context,
        source=campaign.outbox_source,
        not_before=not_before,
        public_id=public_id,
        # A journey passes its own key: one message per enrollment and step.
        idempotency_key=idempotency_key or message_key(campaign, customer),
    )


# An absolute http(s) link in an href: what a marketer writes in a campaign's HTML.
HREF = re.compile(r"""href=(["'])(https?://[^"']+)\1""", re.IGNORECASE)


def track_links(html: str, public_id: uuid.UUID) -> str:
    """Every absolute http(s) link of the HTML through the click redirect (others, such as
    mailto:, stay as they are)."""
    return HREF.sub(
        lambda m: (
            f"href={m.group(1)}{escape(tracked_link(public_id, unescape(m.group(2))))}{m.group(1)}"
        ),
        html,
    )


def send_campaign(*, campaign_id: int, batch_size: int | None = None) -> BatchResult:
    """Send batches until the audience is done or the campaign stops running (paused,
    cancelled); returns the totals of this run. Each batch commits on its own."""
    batch_size = batch_size or settings.CAMPAIGN_SEND_BATCH_SIZE
    total = BatchResult()
    while True:
        result = send_next_batch(campaign_id=campaign_id, batch_size=batch_size)
        for name in ("reached", "queued", "suppressed", "unreachable", "held_out"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
        if result.done:
            total.done = True
            return total


@transaction.atomic
def send_next_batch(
    *, campaign_id: int, batch_size: int, now: datetime | None = None
) -> BatchResult:
    """Plan and queue the next ``batch_size`` members after the cursor, in one transaction
    under the campaign's lock. ``done`` when the campaign is not running (nothing is done)
    or when this batch found nobody left (it is then completed)."""
    now = now or timezone.now()
    campaign = lock_campaign(campaign_id)
    if campaign.status != Campaign.Status.RUNNING or campaign.is_journey:
        return BatchResult(done=True)  # a journey's messages go out step by step (journeys)
    assert campaign.segment is not None  # check_ready refused a campaign without audience
    customers = list(
        Customer.objects.filter(
            erased_at=None,
            segment_memberships__segment=campaign.segment,
            pk__gt=campaign.send_cursor,
        )
        .order_by("pk")
        .only(*CUSTOMER_FIELDS)[:batch_size]
    )
    if not customers:
        if campaign.tests_first and campaign.winner_id is None:
            # The test share is done: the rest waits for the winner (``choose_due_winners``).
            if campaign.winner_due_at is None:
                campaign.winner_due_at = winner_due(campaign, now=now)
                campaign.save(update_fields=["winner_due_at", "updated_at"])
            return BatchResult(done=True)
        complete_campaign(campaign, now=now)
        campaign.save(update_fields=["status", "finished_at", "updated_at"])
        return BatchResult(done=True)
    result = _send_to(campaign, customers, now=now)
    campaign.send_cursor = customers[-1].pk
    campaign.recipient_count += result.reached
    campaign.queued_count += result.queued
    campaign.suppressed_count += result.suppressed
    campaign.unreachable_count += result.unreachable
    campaign.holdout_count += result.held_out
    campaign.save(
        update_fields=[
            "send_cursor",
            "recipient_count",
            "queued_count",
            "suppressed_count",
            "unreachable_count",
            "holdout_count",
            "updated_at",
        ]
    )
    return result


def _assignments(
    campaign: Campaign, customers: list[Customer], variants: dict[str, CampaignVariant]
) -> dict[int, str]:
    """Each customer's variant code, ``HOLDOUT``, or ``REST`` (the winner, not chosen yet)."""
    arms = [Arm(code, variant.weight) for code, variant in variants.items()]
    winner = campaign.winner.code if campaign.winner is not None else REST
    assigned = {}
    for customer in customers:
        code = assign(
            campaign_id=campaign.public_id,
            customer_id=customer.public_id,
            arms=arms,
            holdout_percent=campaign.holdout_percent,
            test_percent=campaign.test_percent,
        )
        assigned[customer.pk] = winner if code == REST else code
    return assigned


def _send_to(campaign: Campaign, customers: list[Customer], *, now: datetime) -> BatchResult:
    result = BatchResult()
    done_before = set(
        CampaignRecipient.objects.filter(
            campaign=campaign, customer_id__in=[c.pk for c in customers]
        ).values_list("customer_id", flat=True)
    )
    customers = [c for c in customers if c.pk not in done_before]
    if not customers:
        return result
    variants = {variant.code: variant for variant in campaign.variants.all()}
    assigned = _assignments(campaign, customers, variants)
    # Beyond the test share and no winner yet: left for the winner's send, not recorded.
    customers = [c for c in customers if assigned[c.pk] != REST]
    targeted = [c for c in customers if assigned[c.pk] != HOLDOUT]
    reachable = reachable_among(targeted, campaign.channels)
    chosen = {c.pk: preferred_channel(campaign.channels, reachable[c.pk]) for c in targeted}
    to_send = [c for c in targeted if chosen[c.pk]]
    # Everyone targeted gets their code, also those no message reaches: the clerk hands it
    # over at the counter (``selectors.counter_messages_for``).
    codes = hand_out_codes(campaign, [c.pk for c in targeted])
    used = variables_used(campaign, list(variants.values()))
    values = personalise(campaign, to_send, used=used, codes=codes, now=now)
    zones = customer_zones(to_send) if campaign.local_time else {}
    rows = []
    outgoing: list[tuple[CampaignRecipient, Message]] = []
    for customer in customers:
        result.reached += 1
        code = assigned[customer.pk]
        row = CampaignRecipient(campaign=campaign, customer=customer)
        rows.append(row)
        if code == HOLDOUT:
            row.reason = Reason.HOLDOUT
            result.held_out += 1
            continue
        variant = row.variant = variants[code]
        row.channel = chosen[customer.pk]
        row.coupon_id = codes[customer.pk].coupon_id if customer.pk in codes else None
        if not row.channel:
            row.reason = Reason.NO_CHANNEL
            result.unreachable += 1
            continue
        if campaign.code_batch_id is not None and customer.pk not in codes:
            row.reason, row.channel = Reason.NO_CODE, ""
            result.unreachable += 1
            continue
        if campaign.local_time and campaign.send_at is not None:
            row.not_before = local_send_time(campaign.send_at, zones[customer.pk])
        message = render_message(variant, row.channel, values[customer.pk])
        outgoing.append(
            (
                row,
                outbox_message(
                    campaign=campaign,
                    customer=customer,
                    variant=variant,
                    message=message,
                    not_before=row.not_before,
                ),
            )
        )
    # The whole batch judged and recorded at once (caps counted across it), delivered in
    # batches once this transaction commits.
    recorded = notify_many([message for _, message in outgoing])
    for (row, _), notification in zip(outgoing, recorded, strict=True):
        row.notification = notification
        if notification.status == Notification.Status.SUPPRESSED:
            result.suppressed += 1
        else:
            result.queued += 1
    CampaignRecipient.objects.bulk_create(rows)
    return result
