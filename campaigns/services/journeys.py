"""Triggered journeys: customers enter a running journey on an occasion its trigger finds
(``triggers``), then go through its steps in order — wait, check a condition, send the
message — until the end, or leave early (they bought, they did not meet a condition).

The beat task ``campaigns.run_journeys`` calls ``run_journeys`` every few minutes. For each
running journey it

1. enrols the new entrants set-based: one read of the trigger's occasions, one
   ``bulk_create(ignore_conflicts=True)`` (the unique (journey, customer, occasion) makes a
   repeated run or a second worker enter nobody twice);
2. advances the enrollments whose next step is due, in keyset batches, each batch in one
   transaction under the journey's lock (``locks.lock_campaign``: a pause waits for it, two
   workers take turns) with its rows locked (``locks.lock_due_enrollments``, skipping rows
   another run holds). Per batch and step: one query finds who bought since entering (they
   leave, reason ``purchased``, before any step), one query evaluates a condition for the
   whole batch, a message step is planned and recorded at once through the campaign send's
   own path (variants and holdout, channel preference, codes, ``notify_many`` judging
   consent, caps and quiet hours), and one UPDATE writes where everyone stands.

A message's idempotency key names the enrollment and the step, and ``JourneyMessage`` is
unique per (enrollment, step): however often the task runs, nobody gets a step twice.
"""

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from campaigns.locks import lock_campaign, lock_due_enrollments
from campaigns.models import (
    Campaign,
    CampaignRecipient,
    CampaignVariant,
    JourneyEnrollment,
    JourneyMessage,
    JourneyStep,
)
from campaigns.rules import compile_rules
from campaigns.services.experiments import HOLDOUT, Arm, assign
from campaigns.services.lifecycle import complete_campaign
from campaigns.services.sending import (
    hand_out_codes,
    outbox_message,
    personalise,
    preferred_channel,
    reachable_among,
    render_message,
    variables_used,
)
from campaigns.services.templating import survey_link
from campaigns.services.triggers import find_entrants, journey_variables, purchases
from customers.models import Customer, Notification
from customers.notifications import Message, notify_many
from omni.core.errors import InvalidInput

logger = logging.getLogger(__name__)

Status = JourneyEnrollment.Status
Exit = JourneyEnrollment.ExitReason
Reason = CampaignRecipient.Reason


@dataclass
class JourneyRun:
    entered: int = 0
    advanced: int = 0  # enrollments a batch took up
    queued: int = 0
    suppressed: int = 0
    unreachable: int = 0
    held_out: int = 0
    exited: int = 0
    completed: int = 0

    def add(self, other: "JourneyRun") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def run_journeys(*, now: datetime | None = None, batch_size: int | None = None) -> JourneyRun:
    """Enrol and advance every running journey; returns what this run did."""
    now = now or timezone.now()
    batch_size = batch_size or settings.JOURNEY_BATCH_SIZE
    total = JourneyRun()
    running = Campaign.objects.filter(kind=Campaign.Kind.TRIGGERED, status=Campaign.Status.RUNNING)
    for campaign_id in running.order_by("pk").values_list("pk", flat=True):
        try:
            total.entered += enrol_entrants(campaign_id=campaign_id, now=now)
            total.add(advance_journey(campaign_id=campaign_id, now=now, batch_size=batch_size))
        except InvalidInput:
            # A condition that stopped compiling (a category deleted since): this journey's
            # batch rolls back and waits for a fix; the other journeys carry on.
            logger.exception("Journey %s cannot run", campaign_id)
    return total


@transaction.atomic
def enrol_entrants(*, campaign_id: int, now: datetime) -> int:
    """Enter everyone the journey's trigger finds now; returns how many entered (an occasion
    that entered before is not entered again)."""
    campaign = lock_campaign(campaign_id)
    if campaign.status != Campaign.Status.RUNNING or not campaign.is_journey:
        return 0
    if campaign.ends_at is not None and campaign.ends_at <= now:
        return 0
    entrants = find_entrants(campaign, now=now)
    if not entrants:
        return 0
    before = campaign.enrollments.count()
    JourneyEnrollment.objects.bulk_create(
        [
            JourneyEnrollment(
                campaign=campaign,
                customer_id=entrant.customer_id,
                occasion=entrant.occasion[:100],
                context=entrant.context,
                next_run_at=now,
                entered_at=now,
            )
            for entrant in entrants
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return campaign.enrollments.count() - before


def advance_journey(*, campaign_id: int, now: datetime, batch_size: int) -> JourneyRun:
    """Take the due enrollments of one journey in batches (by id) until none is left; then a
    journey past its end with nobody inside is completed."""
    total = JourneyRun()
    after = 0
    while True:
        with transaction.atomic():
            campaign = lock_campaign(campaign_id)
            if campaign.status != Campaign.Status.RUNNING:
                return total
            batch = lock_due_enrollments(campaign_id, due_by=now, after=after, limit=batch_size)
            if not batch:
                _complete_if_ended(campaign, now)
                return total
            after = batch[-1].pk
            total.add(advance_batch(campaign, batch, now=now))


def _complete_if_ended(campaign: Campaign, now: datetime) -> None:
    if campaign.ends_at is None or campaign.ends_at > now:
        return
    if campaign.enrollments.filter(status=Status.ACTIVE).exists():
        return
    complete_campaign(campaign, now=now)
    campaign.save(update_fields=["status", "finished_at", "updated_at"])


def advance_batch(
    campaign: Campaign, batch: Sequence[JourneyEnrollment], *, now: datetime
) -> JourneyRun:
    """Run each enrollment's due steps, one step at a time for the whole batch, until each
    waits, leaves or is done. The caller holds the journey's lock and the rows' locks."""
    result = JourneyRun(advanced=len(batch))
    steps = list(campaign.steps.order_by("position"))
    pending = list(batch)
    while pending:
        pending = _leave_if_gone(campaign, pending, now=now, result=result)
        by_step: defaultdict[int, list[JourneyEnrollment]] = defaultdict(list)
        for enrollment in pending:
            by_step[enrollment.step].append(enrollment)
        pending = []
        for index, group in sorted(by_step.items()):
            if index >= len(steps):
                for enrollment in group:
                    enrollment.status, enrollment.finished_at = Status.COMPLETED, now
                result.completed += len(group)
                continue
            pending += _run_step(campaign, steps[index], index, group, now=now, result=result)
    JourneyEnrollment.objects.bulk_update(
        batch, ["step", "next_run_at", "status", "exit_reason", "exit_step", "finished_at"]
    )
    return result


def _leave(enrollment: JourneyEnrollment, reason: str, now: datetime) -> None:
    enrollment.status, enrollment.exit_reason = Status.EXITED, reason
    enrollment.exit_step, enrollment.finished_at = enrollment.step, now


def _leave_if_gone(
    campaign: Campaign, pending: list[JourneyEnrollment], *, now: datetime, result: JourneyRun
) -> list[JourneyEnrollment]:
    """Before every step: an erased customer leaves, and (unless the journey says otherwise)
    so does one who bought in any channel after entering — one query for the batch."""
    bought: set[int] = set()
    if campaign.exit_on_purchase and pending:
        after_entry = purchases().filter(
            customer=OuterRef("customer_id"), placed_at__gt=OuterRef("entered_at")
        )
        bought = set(
            JourneyEnrollment.objects.filter(pk__in=[e.pk for e in pending])
            .filter(Exists(after_entry))
            .values_list("pk", flat=True)
        )
    staying = []
    for enrollment in pending:
        if enrollment.customer.erased_at is not None:
            _leave(enrollment, Exit.ERASED, now)
        elif enrollment.pk in bought:
            _leave(enrollment, Exit.PURCHASED, now)
        else:
            staying.append(enrollment)
            continue
        result.exited += 1
    return staying


def _run_step(
    campaign: Campaign,
    step: JourneyStep,
    index: int,
    group: list[JourneyEnrollment],
    *,
    now: datetime,
    result: JourneyRun,
) -> list[JourneyEnrollment]:
    """Run one step for a group at it; returns those whose next step is due at once."""
    if step.kind == JourneyStep.Kind.WAIT:
        assert step.wait_hours is not None
        for enrollment in group:
            enrollment.step = index + 1
            enrollment.next_run_at = now + timedelta(hours=step.wait_hours)
        return []
    if step.kind == JourneyStep.Kind.CONDITION:
        meeting = set(
            Customer.objects.filter(pk__in={e.customer_id for e in group})
            .filter(compile_rules(step.rules, now=now))
            .values_list("pk", flat=True)
        )
        going_on = []
        for enrollment in group:
            if enrollment.customer_id in meeting:
                enrollment.step = index + 1
                going_on.append(enrollment)
            else:
                _leave(enrollment, Exit.CONDITION, now)
                result.exited += 1
        return going_on
    _send_step(campaign, step, index, group, now=now, result=result)
    for enrollment in group:
        enrollment.step = index + 1
    return group


def _send_step(
    campaign: Campaign,
    step: JourneyStep,
    index: int,
    group: list[JourneyEnrollment],
    *,
    now: datetime,
    result: JourneyRun,
) -> None:
    """The message step for a group, as a campaign's send plans a batch: the variant (or
    the step's own) or the holdout, the first channel the customer can get, their code, the
    personalised message with the occasion's values, all judged by ``notify_many`` at once."""
    variants = {v.code: v for v in campaign.variants.all()}
    arms = [Arm(code, v.weight) for code, v in variants.items()]
    customers = {e.customer_id: e.customer for e in group}
    arm: dict[int, str] = {}
    for customer in customers.values():
        drawn = assign(
            campaign_id=campaign.public_id,
            customer_id=customer.public_id,
            arms=arms,
            holdout_percent=campaign.holdout_percent,
        )
        arm[customer.pk] = step.variant_code if step.variant_code and drawn != HOLDOUT else drawn
    targeted = [c for c in customers.values() if arm[c.pk] != HOLDOUT]
    reachable = reachable_among(targeted, campaign.channels)
    chosen = {c.pk: preferred_channel(campaign.channels, reachable[c.pk]) for c in targeted}
    codes = hand_out_codes(campaign, [c.pk for c in targeted])
    used_variants: list[CampaignVariant] = list(variants.values())
    used = variables_used(campaign, used_variants, journey_variables(campaign))
    values = personalise(
        campaign, [c for c in targeted if chosen[c.pk]], used=used, codes=codes, now=now
    )
    rows: list[JourneyMessage] = []
    outgoing: list[tuple[JourneyMessage, Message]] = []
    for enrollment in group:
        customer = enrollment.customer
        row = JourneyMessage(enrollment=enrollment, step=index)
        rows.append(row)
        if arm[customer.pk] == HOLDOUT:
            row.reason = Reason.HOLDOUT
            result.held_out += 1
            continue
        variant = row.variant = variants[arm[customer.pk]]
        row.channel = chosen[customer.pk]
        row.coupon_id = codes[customer.pk].coupon_id if customer.pk in codes else None
        if not row.channel:
            row.reason = Reason.NO_CHANNEL
        elif campaign.code_batch_id is not None and customer.pk not in codes:
            row.reason, row.channel = Reason.NO_CODE, ""
        if row.reason:
            result.unreachable += 1
            continue
        personal = {**values[customer.pk], **enrollment.context}
        if "survey_link" in used:  # the survey about the order the journey follows
            personal["survey_link"] = survey_link(
                customer, {**enrollment.context, "campaign_code": str(campaign.public_id)}
            )
        message = render_message(variant, row.channel, personal)
        outgoing.append(
            (
                row,
                outbox_message(
                    campaign=campaign,
                    customer=customer,
                    variant=variant,
                    message=message,
                    not_before=None,
                    idempotency_key=f"journey:{campaign.public_id}:{enrollment.pk}:{index}",
                ),
            )
        )
    recorded = notify_many([message for _, message in outgoing])
    for (row, _), notification in zip(outgoing, recorded, strict=True):
        row.notification = notification
        if notification.status == Notification.Status.SUPPRESSED:
            result.suppressed += 1
        else:
            result.queued += 1
    JourneyMessage.objects.bulk_create(rows)
