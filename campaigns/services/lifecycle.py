"""A campaign's life: draft → scheduled → running ⇄ paused → completed, or cancelled before it
completes. The moves allowed are in ``TRANSITIONS`` and nowhere else; each move locks the
campaign's row (``locks.lock_campaign``), so it waits for a batch of the send under way.

A campaign is checked whole before it may be scheduled or started (``check_ready``): an
audience, channels, a variant with content for each of them, templates the personalisation
language accepts, a send time in the future for a scheduled one. Starting a campaign queues
its send (``campaigns.send_campaign``) once the transaction commits; the beat task
``campaigns.start_due_campaigns`` starts scheduled ones whose time came.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.locks import lock_campaign
from campaigns.models import Campaign, CampaignVariant, JourneyStep
from campaigns.services.templating import TemplateInvalid, check
from campaigns.services.triggers import journey_variables
from campaigns.services.winner import best_variant
from customers.notifications import withdraw
from omni.core.errors import InvalidInput, InvalidTransition

Status = Campaign.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.SCHEDULED, Status.RUNNING, Status.CANCELLED}),
    Status.SCHEDULED: frozenset({Status.DRAFT, Status.RUNNING, Status.CANCELLED}),
    Status.RUNNING: frozenset({Status.PAUSED, Status.COMPLETED, Status.CANCELLED}),
    Status.PAUSED: frozenset({Status.RUNNING, Status.CANCELLED}),
    Status.COMPLETED: frozenset(),
    Status.CANCELLED: frozenset(),
}
# The world's most eastern time zone (Kiribati, UTC+14): a local-time campaign starts when
# its wall-clock time comes there, and each message waits for its customer's own time.
EARLIEST_OFFSET = timedelta(hours=14)
# A running campaign whose send touched it last this long ago lost its task: queued again.
STALLED_AFTER = timedelta(minutes=10)


def _move(campaign: Campaign, to: str, *, only_from: frozenset[str] | None = None) -> None:
    """``only_from``: the move is one of several into ``to`` (resume is paused → running)."""
    if to not in TRANSITIONS[campaign.status] or (
        only_from is not None and campaign.status not in only_from
    ):
        raise InvalidTransition(
            f"A {campaign.get_status_display().lower()} campaign cannot become "
            f"{Status(to).label.lower()}.",
            details={"status": campaign.status, "to": to},
        )
    campaign.status = to


def check_ready(campaign: Campaign) -> None:
    """Refuse (``InvalidInput`` naming each field) a campaign that cannot be sent as it is."""
    errors: dict[str, list[str]] = {}
    if campaign.segment_id is None and not campaign.is_journey:
        errors["segment"] = ["Choose the audience (a segment)."]
    if campaign.is_journey:
        _check_journey(campaign, errors)
    if not campaign.channels:
        errors["channels"] = ["Choose at least one channel."]
    variants = list(campaign.variants.all())
    if not variants:
        errors["variants"] = ["Write the message (variant A)."]
    for variant in variants:
        for channel in campaign.channels or []:
            missing = variant.missing_for(channel)
            if missing:
                errors.setdefault("variants", []).append(
                    f"Variant {variant.code} has no {', '.join(missing)} for {channel}."
                )
        for name in CampaignVariant.TEMPLATE_FIELDS:
            try:
                check(getattr(variant, name), journey_variables(campaign))
            except TemplateInvalid as invalid:
                errors.setdefault("variants", []).append(
                    f"Variant {variant.code}, {name}: {' '.join(invalid.errors)}"
                )
    if campaign.tests_first and len(variants) < 2:
        errors["test_percent"] = ["Testing first needs at least two variants to compare."]
    if campaign.code_batch is not None and not campaign.code_batch.coupons.exists():
        errors["code_batch"] = ["The batch has no codes yet: generate them first."]
    if errors:
        raise InvalidInput("The campaign is not ready to send.", details=errors)


def _check_journey(campaign: Campaign, errors: dict[str, list[str]]) -> None:
    """A journey's trigger and steps: each step valid, at least one message, each variant a
    message step names written."""
    errors.update(campaign._journey_errors())
    steps = list(campaign.steps.order_by("position"))
    codes = set(campaign.variants.values_list("code", flat=True))
    if not any(step.kind == JourneyStep.Kind.MESSAGE for step in steps):
        errors.setdefault("steps", []).append("A journey needs at least one message step.")
    for step in steps:
        for field, messages in step.field_errors().items():
            errors.setdefault("steps", []).append(
                f"Step {step.position}, {field}: {' '.join(messages)}"
            )
        if step.variant_code and step.variant_code not in codes:
            errors.setdefault("steps", []).append(
                f"Step {step.position}: no variant {step.variant_code} to send."
            )


def _check_send_time(campaign: Campaign, now: datetime) -> None:
    if campaign.kind != Campaign.Kind.SCHEDULED or campaign.send_at is None:
        raise InvalidInput(
            "Only a scheduled campaign with a send time can be scheduled.",
            details={"send_at": ["Set the kind to scheduled and the time to send."]},
        )
    if start_due_at(campaign) <= now:
        raise InvalidInput(
            "The send time has passed: choose one in the future (or start it now).",
            details={"send_at": ["In the past."]},
        )


def start_due_at(campaign: Campaign) -> datetime:
    """When the send of a scheduled campaign begins: its time, or for a local-time campaign
    the moment that wall-clock time first comes anywhere (each message then waits)."""
    assert campaign.send_at is not None
    if not campaign.local_time:
        return campaign.send_at
    wall = timezone.localtime(campaign.send_at, timezone.get_default_timezone())
    return wall.replace(tzinfo=UTC) - EARLIEST_OFFSET


@transaction.atomic
def edit_campaign(*, campaign: Campaign, changes: dict[str, Any]) -> Campaign:
    """Change a campaign's settings (``Campaign.LOCKED_FIELDS`` and the conversion window):
    refused once it runs, ran or was cancelled, and checked as the admin's form would."""
    locked = lock_campaign(campaign.pk)
    if locked.is_locked or locked.status == Status.CANCELLED:
        raise InvalidTransition(
            f"A {locked.get_status_display().lower()} campaign's content and audience are locked.",
            details={"status": locked.status},
        )
    allowed = {*Campaign.LOCKED_FIELDS, "conversion_window_days"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(
            "These cannot be changed here.", details={name: ["Unknown."] for name in unknown}
        )
    for name, value in changes.items():
        setattr(locked, name, value)
    try:
        locked.full_clean()
    except ValidationError as invalid:
        raise InvalidInput(
            "The campaign cannot be saved as asked.", details=invalid.message_dict
        ) from None
    locked.save()
    return locked


@transaction.atomic
def schedule_campaign(*, campaign: Campaign, now: datetime | None = None) -> Campaign:
    now = now or timezone.now()
    locked = lock_campaign(campaign.pk)
    _move(locked, Status.SCHEDULED)
    _check_send_time(locked, now)
    check_ready(locked)
    locked.save(update_fields=["status", "updated_at"])
    return locked


@transaction.atomic
def unschedule_campaign(*, campaign: Campaign) -> Campaign:
    """Back to draft, to edit it."""
    locked = lock_campaign(campaign.pk)
    _move(locked, Status.DRAFT)
    locked.save(update_fields=["status", "updated_at"])
    return locked


@transaction.atomic
def start_campaign(*, campaign: Campaign, now: datetime | None = None) -> Campaign:
    """Start sending now (a one-off, or a scheduled one ahead of its time)."""
    locked = lock_campaign(campaign.pk)
    _move(locked, Status.RUNNING, only_from=frozenset({Status.DRAFT, Status.SCHEDULED}))
    check_ready(locked)
    locked.started_at = now or timezone.now()
    locked.save(update_fields=["status", "started_at", "updated_at"])
    if not locked.is_journey:  # a journey is run by the beat (``journeys.run_journeys``)
        _queue_send(locked.pk)
    return locked


@transaction.atomic
def pause_campaign(*, campaign: Campaign) -> Campaign:
    """Stop after the batch under way; what was queued stays queued."""
    locked = lock_campaign(campaign.pk)
    _move(locked, Status.PAUSED)
    locked.save(update_fields=["status", "updated_at"])
    return locked


@transaction.atomic
def resume_campaign(*, campaign: Campaign) -> Campaign:
    """Carry on from where the send stopped."""
    locked = lock_campaign(campaign.pk)
    _move(locked, Status.RUNNING, only_from=frozenset({Status.PAUSED}))
    locked.save(update_fields=["status", "updated_at"])
    if not locked.is_journey:
        _queue_send(locked.pk)
    return locked


@transaction.atomic
def cancel_campaign(*, campaign: Campaign, now: datetime | None = None) -> Campaign:
    """No more messages: the send stops, and what it put in the outbox that has not left yet
    (queued, or waiting for quiet hours or its local time) is withdrawn."""
    locked = lock_campaign(campaign.pk)
    _move(locked, Status.CANCELLED)
    locked.finished_at = now or timezone.now()
    locked.save(update_fields=["status", "finished_at", "updated_at"])
    withdraw(source=locked.outbox_source)
    return locked


def complete_campaign(campaign: Campaign, *, now: datetime) -> None:
    """The send reached the end of the audience (the caller holds the campaign's lock)."""
    _move(campaign, Status.COMPLETED)
    campaign.finished_at = now


def start_due_campaigns(*, now: datetime | None = None) -> list[str]:
    """Start every scheduled campaign whose time came, and queue again the send of a running
    campaign that made no progress for ``STALLED_AFTER`` (its task was lost with a worker);
    returns the public ids of both. A campaign no longer ready stays scheduled."""
    now = now or timezone.now()
    # Filtered generously in SQL (a local-time campaign starts up to 14 hours before its
    # time, plus the shop's own offset), exactly by ``start_due_at`` below.
    due = Campaign.objects.filter(status=Status.SCHEDULED).filter(
        Q(local_time=False, send_at__lte=now)
        | Q(local_time=True, send_at__lte=now + 2 * EARLIEST_OFFSET)
    )
    started = []
    for campaign in due.order_by("send_at", "pk"):
        if start_due_at(campaign) > now:
            continue
        try:
            start_campaign(campaign=campaign, now=now)
        except (InvalidInput, InvalidTransition):
            continue
        started.append(str(campaign.public_id))
    started += choose_due_winners(now=now)
    # A journey has no send to resume, and a campaign waiting for its winner is not stalled.
    stalled = (
        Campaign.objects.filter(status=Status.RUNNING, updated_at__lt=now - STALLED_AFTER)
        .exclude(kind=Campaign.Kind.TRIGGERED)
        .exclude(winner=None, winner_due_at__gt=now)
    )
    for pk, public_id in stalled.values_list("pk", "public_id"):
        _queue_send(pk)
        started.append(str(public_id))
    return started


def choose_due_winners(*, now: datetime) -> list[str]:
    """Choose the winner of every running campaign whose test time is over and send it to the
    rest of the audience (the send starts again from the top; who was reached is skipped).
    Returns their public ids."""
    chosen = []
    due = Campaign.objects.filter(status=Status.RUNNING, winner=None, winner_due_at__lte=now)
    for pk in due.order_by("winner_due_at", "pk").values_list("pk", flat=True):
        with transaction.atomic():
            campaign = lock_campaign(pk)
            if campaign.status != Status.RUNNING or campaign.winner_id is not None:
                continue  # another beat run chose it, or it was paused meanwhile
            campaign.winner = best_variant(campaign)
            campaign.send_cursor = 0
            campaign.save(update_fields=["winner", "send_cursor", "updated_at"])
            _queue_send(campaign.pk)
        chosen.append(str(campaign.public_id))
    return chosen


def _queue_send(campaign_id: int) -> None:
    def send() -> None:
        from campaigns.tasks import send_campaign  # the task module imports services

        send_campaign.delay(campaign_id)

    # robust: a broker that is down must not undo the start; the beat's sweep of stalled
    # campaigns queues the send again.
    transaction.on_commit(send, robust=True)
