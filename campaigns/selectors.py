"""Reads about segments shared by the admin, the clerk pages and (later) offers and coupons:
"is this customer in segment X", "the members of X", "the segments of this customer", and
the live count of a rule tree while a marketer edits it.

Membership answers read the materialised members (as of the segment's last refresh, which
``Segment.refreshed_at`` tells): one index probe per question, cheap enough for every cart.
``matching_customers`` evaluates rules now instead (one query, over every customer).

Offers and coupons: the offers a customer can use now, with their conditions in words.

Campaigns: the counter messages a clerk sees for a customer, a campaign previewed as one
customer would get it, and its results per variant against the holdout (the admin).

Recommendations: "also bought" for a product and products for a customer, from the affinities
``services.refresh_affinities`` computes nightly.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from campaigns import services
from campaigns.models import (
    Campaign,
    CampaignRecipient,
    Coupon,
    CustomerRfm,
    JourneyEnrollment,
    JourneyMessage,
    JourneyStep,
    Offer,
    ProductAffinity,
    Redemption,
    Segment,
    SegmentChange,
    SegmentMembership,
)
from campaigns.rules import compile_rules, relations, validate_segment_rules
from campaigns.services import shopper_of
from campaigns.services.offers import automatic_offers, with_conditions
from customers.models import Customer, Notification
from inventory.models import Product

# Room to hash the subqueries of a segment over a million customers (as refreshes have).
COUNT_WORK_MEM = "128MB"


def members(segment: Segment) -> QuerySet[Customer]:
    """The segment's customers (never an erased one)."""
    return Customer.objects.filter(erased_at=None, segment_memberships__segment=segment)


def is_member(*, customer: Customer, segment: Segment) -> bool:
    return SegmentMembership.objects.filter(
        customer=customer, segment=segment, customer__erased_at=None
    ).exists()


def segments_of(customer: Customer) -> QuerySet[Segment]:
    """The segments a customer is in now (by name)."""
    if customer.erased_at is not None:
        return Segment.objects.none()
    return Segment.objects.filter(memberships__customer=customer).order_by("name")


def members_among(segment: Segment, customer_ids: Iterable[int]) -> set[int]:
    """Which of these customers are in the segment: one query for a whole list."""
    return set(
        SegmentMembership.objects.filter(
            segment=segment, customer_id__in=list(customer_ids), customer__erased_at=None
        ).values_list("customer_id", flat=True)
    )


def recent_changes(segment: Segment, limit: int = 20) -> QuerySet[SegmentChange]:
    return segment.changes.select_related("customer").order_by("-changed_at", "-pk")[:limit]


def rfm_of(customer: Customer) -> CustomerRfm | None:
    return CustomerRfm.objects.filter(customer=customer).first()


def matching_customers(rules: Any, *, now: datetime | None = None) -> QuerySet[Customer]:
    """The customers the rules select right now (not materialised): one query."""
    now = now or timezone.now()
    return Customer.objects.filter(erased_at=None).filter(compile_rules(rules, now=now))


def count_matching(rules: Any, *, segment: Segment | None = None) -> int:
    """How many customers the rules select now, for the admin while the rules are edited.
    Checks them as a save would (``RuleError``); the count may run at most
    ``SEGMENT_COUNT_TIMEOUT_SECONDS`` on PostgreSQL (then ``OperationalError``)."""
    if segment is not None:  # circles through other segments, as saving would refuse
        validate_segment_rules(rules, segment=segment)
    query = matching_customers(rules)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true), "
                    "set_config('work_mem', %s, true)",
                    [str(settings.SEGMENT_COUNT_TIMEOUT_SECONDS * 1000), COUNT_WORK_MEM],
                )
        return query.count()


@dataclass(frozen=True)
class PersonalOffer:
    offer: Offer
    code: str | None  # the customer's own code, for a coupon offer
    conditions: list[str]  # in words, for the shopper or the clerk


def conditions_in_words(offer: Offer) -> list[str]:
    """What the customer must do or be, as a sentence each (conditions read with
    ``with_conditions``)."""
    words = []
    if offer.min_spend:
        words.append(f"On a cart of at least {offer.min_spend}.")
    skus = [sku.code for sku in offer.skus.all()]
    categories = [c.name for c in offer.categories.all()]
    if skus or categories:
        words.append("On " + ", ".join(categories + skus) + ".")
    if offer.redeemable != Offer.Where.BOTH:
        words.append(f"{offer.get_redeemable_display()}.")
    if offer.channels:
        words.append("In " + ", ".join(offer.channels) + ".")
    stores = [s.name for s in offer.stores.all()]
    if stores:
        words.append("At " + ", ".join(stores) + ".")
    tiers = [t.name for t in offer.tiers.all()]
    if tiers:
        words.append("For " + ", ".join(tiers) + " members.")
    if offer.ends_at:
        words.append(f"Until {offer.ends_at:%Y-%m-%d}.")
    if offer.exclusive:
        words.append("Cannot be combined with other offers.")
    if offer.max_discount is not None:
        words.append(f"At most {offer.max_discount} off an order.")
    return words


def offers_for_customer(customer: Customer, *, now: datetime | None = None) -> list[PersonalOffer]:
    """The offers and coupons this customer can use now: automatic offers whose conditions on
    the person (tier, segment) they meet, and their own personal codes with uses left. Shared
    codes are not listed: they are given out by campaigns, not discovered. A bounded number of
    queries."""
    now = now or timezone.now()
    shopper = shopper_of(customer)
    mine = []
    for offer in automatic_offers(now):
        tiers = {t.pk for t in offer.tiers.all()}
        if tiers and shopper.tier_id not in tiers:
            continue
        if offer.segment_id is not None and offer.segment_id not in shopper.segments:
            continue
        mine.append(PersonalOffer(offer, None, conditions_in_words(offer)))
    live_coupon_offers = with_conditions(
        Offer.objects.filter(
            Q(starts_at=None) | Q(starts_at__lte=now),
            Q(ends_at=None) | Q(ends_at__gt=now),
            is_active=True,
            coupons__customer=customer,
            coupons__is_active=True,
        ).distinct()
    )
    offers = {offer.pk: offer for offer in live_coupon_offers}
    codes = Coupon.objects.filter(customer=customer, is_active=True, offer_id__in=offers).filter(
        Q(max_uses=None) | Q(times_used__lt=F("max_uses"))
    )
    for code, offer_id in codes.order_by("pk").values_list("code", "offer_id"):
        offer = offers[offer_id]
        mine.append(PersonalOffer(offer, code, conditions_in_words(offer)))
    return mine


# --- Recommendations --------------------------------------------------------------------------


def also_bought(product: Product, *, limit: int = 10) -> list[Product]:
    """Active products most often bought with ``product`` (best score first), in one query."""
    pairs = (
        ProductAffinity.objects.filter(product=product, related__is_active=True)
        .select_related("related")
        .order_by("-score", "related_id")[:limit]
    )
    return [pair.related for pair in pairs]


def recommended_for(customer: Customer, *, limit: int = 10) -> list[Product]:
    """Products for this customer: those most bought together with what they bought (scores
    summed over their products), never one they already bought; for a customer with no
    history, or one whose products have no affinities yet, the window's best-sellers they have
    not bought. Three queries at most."""
    bought = _products_bought_by(customer)
    ranked = list(
        ProductAffinity.objects.filter(product_id__in=bought, related__is_active=True)
        .exclude(related_id__in=bought)
        .values("related_id")
        .annotate(total=Sum("score"))
        .order_by("-total", "related_id")
        .values_list("related_id", flat=True)[:limit]
    )
    if not ranked:
        ranked = _best_sellers(excluding=bought, limit=limit)
    products = Product.objects.in_bulk(ranked)
    return [products[pk] for pk in ranked if pk in products]


def _products_bought_by(customer: Customer) -> QuerySet[Customer, Any]:
    """The products of the customer's purchases, as a subquery (through ``Customer``'s
    relations: campaigns does not import orders)."""
    return (
        Customer.objects.filter(
            pk=customer.pk,
            orders__status__in=relations.purchase_statuses(),
            orders__lines__sku__product__isnull=False,
        )
        .values("orders__lines__sku__product_id")
        .distinct()
    )


def _best_sellers(*, excluding: QuerySet[Customer, Any], limit: int) -> list[int]:
    since = timezone.now() - timedelta(days=settings.RECOMMEND_WINDOW_DAYS)
    return list(
        relations.order_line_model()
        ._default_manager.filter(
            order__placed_at__gte=since,
            order__status__in=relations.purchase_statuses(),
            sku__product__is_active=True,
        )
        .exclude(sku__product_id__in=excluding)
        .values("sku__product_id")
        .annotate(orders=Count("order_id", distinct=True))
        .order_by("-orders", "sku__product_id")
        .values_list("sku__product_id", flat=True)[:limit]
    )


# --- Campaigns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CounterMessage:
    """What a clerk sees for a customer in store: a campaign's counter message, theirs."""

    campaign: str
    text: str
    code: str


def counter_messages_for(
    customer: Customer, *, now: datetime | None = None
) -> list[CounterMessage]:
    """The counter messages of campaigns this customer is in (not held out), while the
    campaign runs and for its conversion window after it started. A fixed number of queries
    whatever the number of campaigns."""
    now = now or timezone.now()
    if customer.erased_at is not None:
        return []
    receipts = [
        receipt
        for receipt in CampaignRecipient.objects.filter(
            customer=customer,
            variant__isnull=False,
            campaign__status__in=[
                Campaign.Status.RUNNING,
                Campaign.Status.PAUSED,
                Campaign.Status.COMPLETED,
            ],
        )
        .exclude(variant__counter_message="")
        .select_related(
            "campaign__offer",
            "campaign__coupon__offer",
            "campaign__code_batch__offer",
            "variant",
            "coupon",
        )
        .order_by("-campaign__started_at", "-pk")
        if receipt.campaign.started_at is None
        or receipt.campaign.status != Campaign.Status.COMPLETED
        or now
        <= receipt.campaign.started_at + timedelta(days=receipt.campaign.conversion_window_days)
    ]
    if not receipts:
        return []
    used: set[str] = set()
    for receipt in receipts:
        used |= services.variables_in(receipt.variant.counter_message)  # type: ignore[union-attr]
    # The customer's values once (tier, store, products...), then each campaign's own code
    # and offer: a fixed number of queries whatever the number of campaigns.
    shared = services.personalise(receipts[0].campaign, [customer], used=used, codes={}, now=now)
    messages = []
    for receipt in receipts:
        variant = receipt.variant
        assert variant is not None
        offer = receipt.campaign.the_offer
        code = receipt.coupon.code if receipt.coupon else ""
        values = {**shared[customer.pk], "code": code, "offer": offer.name if offer else ""}
        messages.append(
            CounterMessage(
                campaign=receipt.campaign.name,
                text=services.render(variant.counter_message, values),
                code=code,
            )
        )
    return messages


def customer_for_preview(term: str) -> Customer | None:
    """A customer by public id or e-mail, for previewing a campaign as they would get it."""
    term = term.strip()
    try:
        public_id = uuid.UUID(term)
    except ValueError:
        return Customer.objects.filter(erased_at=None, email__iexact=term).order_by("pk").first()
    return Customer.objects.filter(erased_at=None, public_id=public_id).first()


@dataclass(frozen=True)
class VariantPreview:
    code: str
    messages: list[services.Rendered]
    counter: str
    sms: services.SmsLength | None


@dataclass(frozen=True)
class CampaignPreview:
    """A campaign as one customer would get it: their variant (or the holdout), the channel
    chosen for them, and every variant rendered in every channel of the campaign."""

    customer: Customer
    assigned: str  # the variant's code, "" for the holdout, "*" for the winner to come
    reachable: set[str]
    channel: str
    variants: list[VariantPreview]


PREVIEW_CODE = "YOURCODE"  # stands for a unique code not handed out yet


def preview_campaign(campaign: Campaign, customer: Customer) -> CampaignPreview:
    """Writes nothing: a code of the batch the customer does not hold yet shows as
    ``PREVIEW_CODE``."""
    now = timezone.now()
    variants = list(campaign.variants.all())
    arms = [services.Arm(v.code, v.weight) for v in variants]
    assigned = services.assign(
        campaign_id=campaign.public_id,
        customer_id=customer.public_id,
        arms=arms,
        holdout_percent=campaign.holdout_percent,
        test_percent=campaign.test_percent,
    )
    if assigned == services.REST and campaign.winner is not None:
        assigned = campaign.winner.code
    reachable = services.reachable_channels(customer, campaign.channels)
    code = ""
    if campaign.coupon is not None:
        code = campaign.coupon.code
    elif campaign.code_batch_id is not None:
        held = Coupon.objects.filter(batch_id=campaign.code_batch_id, customer=customer).first()
        code = held.code if held else PREVIEW_CODE
    codes = {customer.pk: services.HandedCode(code, 0)} if code else {}
    values = services.personalise(
        campaign,
        [customer],
        used=set(services.VARIABLES),
        codes=codes,
        now=now,
    )[customer.pk]
    # A campaign sent about no order has no survey to link to: the preview shows a sample.
    values["survey_link"] = services.sample_survey_link(
        customer, campaign_code=str(campaign.public_id)
    )
    rendered = []
    for variant in variants:
        messages = [services.render_message(variant, ch, values) for ch in campaign.channels]
        sms = next((m for m in messages if m.channel == "sms"), None)
        rendered.append(
            VariantPreview(
                code=variant.code,
                messages=messages,
                counter=services.render(variant.counter_message, values),
                sms=services.sms_length(sms.body) if sms else None,
            )
        )
    return CampaignPreview(
        customer=customer,
        assigned=assigned,
        reachable=reachable,
        channel=services.preferred_channel(campaign.channels, reachable),
        variants=rendered,
    )


@dataclass
class ChannelDelivery:
    """What became of a campaign's messages in one channel (from the outbox's rows)."""

    channel: str
    messages: int = 0
    waiting: int = 0  # quiet hours or a local send time not come yet
    queued: int = 0
    sent: int = 0
    failed: int = 0
    suppressed: dict[str, int] = field(default_factory=dict)  # by reason
    opened: int = 0
    clicked: int = 0
    converted: int = 0  # recipients who ordered within the conversion window
    revenue: Decimal = Decimal("0")  # what those orders came to


@dataclass
class CampaignDelivery:
    channels: list[ChannelDelivery]
    not_sent: dict[str, int]  # recipients no message was made for, by reason (holdout...)
    redemptions: dict[str, tuple[int, Decimal]]  # the campaign's codes used, by channel


def campaign_delivery(campaign: Campaign) -> CampaignDelivery:
    """The campaign's funnel per channel — messages, waiting, sent, failed, suppressed by
    reason, opened, clicked, converted and their revenue (as ``campaign_results`` counts
    them) — and the uses of its codes (handed out, or its shared coupon used by its recipients)
    per channel of the order, released uses left out. Two queries."""
    rows = (
        services.with_conversions(CampaignRecipient.objects.filter(campaign=campaign), campaign)
        .values("channel", "reason", "notification__status", "notification__suppression_reason")
        .annotate(
            n=Count("pk"),
            opened=Count("pk", filter=Q(notification__opened_at__isnull=False)),
            clicked=Count("pk", filter=Q(notification__clicked_at__isnull=False)),
            conversions=Count("pk", filter=Q(converted=True)),
            revenue=Sum("spent"),
        )
        .order_by("channel")
    )
    channels: dict[str, ChannelDelivery] = {}
    not_sent: dict[str, int] = {}
    for row in rows:
        status = row["notification__status"]
        if status is None:
            not_sent[row["reason"]] = not_sent.get(row["reason"], 0) + row["n"]
            continue
        counts = channels.setdefault(row["channel"], ChannelDelivery(row["channel"]))
        counts.messages += row["n"]
        counts.opened += row["opened"]
        counts.clicked += row["clicked"]
        counts.converted += row["conversions"]
        counts.revenue += row["revenue"] or Decimal("0")
        if status == Notification.Status.SUPPRESSED:
            reason = row["notification__suppression_reason"]
            counts.suppressed[reason] = counts.suppressed.get(reason, 0) + row["n"]
        elif status in {"waiting", "queued", "sent", "failed"}:
            setattr(counts, status, getattr(counts, status) + row["n"])
    recipients = CampaignRecipient.objects.filter(campaign=campaign)
    its_codes = Q(coupon__in=recipients.exclude(coupon=None).values("coupon"))
    if campaign.coupon_id is not None:
        its_codes |= Q(coupon=campaign.coupon_id, customer__in=recipients.values("customer"))
    uses = (
        Redemption.objects.filter(its_codes, status=Redemption.Status.USED)
        .values("channel")
        .annotate(n=Count("pk"), discount=Sum("discount"))
        .order_by("channel")
    )
    return CampaignDelivery(
        channels=[channels[name] for name in sorted(channels)],
        not_sent=not_sent,
        redemptions={u["channel"]: (u["n"], u["discount"]) for u in uses},
    )


def journey_results(campaign: Campaign) -> list[services.GroupResult]:
    """``campaign_results`` for a journey: each enrollment counts once, from its first message
    step (a held-out enrollment from the step where it would have had it), converted when its
    customer ordered within the conversion window after it. One query."""
    first_step = (
        JourneyMessage.objects.filter(enrollment=OuterRef("enrollment"))
        .order_by("step")
        .values("step")[:1]
    )
    rows = (
        services.with_conversions(
            JourneyMessage.objects.filter(
                enrollment__campaign=campaign, step=Subquery(first_step)
            ).annotate(customer_ref=F("enrollment__customer")),
            campaign,
            customer="customer_ref",
            due=F("created_at"),
        )
        .values("variant__code")
        .annotate(
            recipients=Count("pk"),
            conversions=Count("pk", filter=Q(converted=True)),
            revenue=Sum("spent"),
        )
        .order_by("variant__code")
    )
    return _compared(rows)


def campaign_results(campaign: Campaign) -> list[services.GroupResult]:
    """Conversion rate, revenue per recipient and uplift against the holdout, per variant.

    A recipient converted when they placed an order (any channel, any status but cancelled or
    expired) within the campaign's conversion window after their message was due (queued, or
    its local send time); revenue is those orders' totals. Every customer assigned to a variant
    counts as its recipient, reached or not ("intent to treat"): the holdout is a random share
    of the same audience, so that is the fair comparison. One query.
    """
    rows = (
        services.with_conversions(CampaignRecipient.objects.filter(campaign=campaign), campaign)
        .values("variant__code")
        .annotate(
            recipients=Count("pk"),
            conversions=Count("pk", filter=Q(converted=True)),
            revenue=Sum("spent"),
        )
        .order_by("variant__code")
    )
    return _compared(rows)


def _compared(rows: Iterable[dict[str, Any]]) -> list[services.GroupResult]:
    """Per-variant counts (a ``variant__code`` of None: the holdout) compared with the
    holdout."""
    groups = {
        row["variant__code"] or services.HOLDOUT: services.GroupCounts(
            label=row["variant__code"] or "holdout",
            recipients=row["recipients"],
            conversions=row["conversions"],
            revenue=row["revenue"] or Decimal("0"),
        )
        for row in rows
    }
    holdout = groups.pop(services.HOLDOUT, None)
    return services.compare([groups[code] for code in sorted(groups)], holdout)


# --- Journeys --------------------------------------------------------------------------------


@dataclass
class JourneyStepFunnel:
    """Where a journey's enrollments stand at one step."""

    position: int
    label: str
    reached: int = 0  # got to this step (and ran it, wait at it or left before it)
    waiting: int = 0  # inside the journey at this step: held by a wait, or due
    exited: dict[str, int] = field(default_factory=dict)  # left before this step, by reason
    sent: int = 0  # messages recorded in the outbox, not suppressed
    not_sent: dict[str, int] = field(default_factory=dict)  # holdout, no channel, suppressed...


@dataclass
class JourneyFunnel:
    entered: int = 0
    active: int = 0
    completed: int = 0
    exited: dict[str, int] = field(default_factory=dict)
    steps: list[JourneyStepFunnel] = field(default_factory=list)


def journey_funnel(campaign: Campaign, *, now: datetime | None = None) -> JourneyFunnel:
    """The enrollment funnel of a journey per step, in three queries whatever its size: the
    steps, the enrollments grouped by where they stand, the messages grouped by outcome."""
    now = now or timezone.now()
    steps = list(campaign.steps.order_by("position"))
    funnel = JourneyFunnel(
        steps=[JourneyStepFunnel(step.position, _step_label(step)) for step in steps]
    )
    rows = (
        JourneyEnrollment.objects.filter(campaign=campaign)
        .values("status", "step", "exit_step", "exit_reason")
        .annotate(n=Count("pk"), holding=Count("pk", filter=Q(next_run_at__gt=now)))
    )
    for row in rows:
        n, status, at = row["n"], row["status"], row["step"]
        funnel.entered += n
        if status == JourneyEnrollment.Status.COMPLETED:
            funnel.completed += n
            reached_until = len(steps) - 1
        elif status == JourneyEnrollment.Status.EXITED:
            reason = row["exit_reason"]
            funnel.exited[reason] = funnel.exited.get(reason, 0) + n
            reached_until = row["exit_step"] if row["exit_step"] is not None else at
            if reached_until < len(steps):
                exited = funnel.steps[reached_until].exited
                exited[reason] = exited.get(reason, 0) + n
        else:
            funnel.active += n
            # Held by the wait just done (their step moved past it), or due at their step.
            holding, due = row["holding"], n - row["holding"]
            for count, where in ((holding, at - 1), (due, at)):
                where = min(where, len(steps) - 1)
                if count and where >= 0:
                    funnel.steps[where].waiting += count
                    for index in range(where + 1):
                        funnel.steps[index].reached += count
            continue
        for index in range(min(reached_until, len(steps) - 1) + 1):
            funnel.steps[index].reached += n
    messages = (
        JourneyMessage.objects.filter(enrollment__campaign=campaign)
        .values("step", "reason", "notification__status", "notification__suppression_reason")
        .annotate(n=Count("pk"))
    )
    for outcome in messages:
        if outcome["step"] >= len(steps):
            continue
        stage = funnel.steps[outcome["step"]]
        if outcome["reason"]:
            key = outcome["reason"]
        elif outcome["notification__status"] == Notification.Status.SUPPRESSED:
            key = f"suppressed: {outcome['notification__suppression_reason']}"
        else:
            stage.sent += outcome["n"]
            continue
        stage.not_sent[key] = stage.not_sent.get(key, 0) + outcome["n"]
    return funnel


def _step_label(step: JourneyStep) -> str:
    if step.kind == JourneyStep.Kind.WAIT:
        return f"wait {step.wait_hours} h"
    if step.kind == JourneyStep.Kind.CONDITION:
        return "condition"
    return f"message{f' (variant {step.variant_code})' if step.variant_code else ''}"
