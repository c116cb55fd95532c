"""Manual corrections by staff, always with a reason; above the programme's threshold they wait
for a second person's approval (four eyes) and move no point until then."""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from loyalty.locks import lock_account, lock_adjustment_request, lock_available_lots
from loyalty.models import Account, PointsAdjustmentRequest, PointsEntry
from loyalty.services.ledger import Kind, add_to_account, credit, replay_or_post, take_from
from omni.core.errors import (
    InsufficientPoints,
    InvalidRequest,
    InvalidTransition,
    PermissionRefused,
)

APPROVE_ADJUSTMENTS = "loyalty.approve_points_adjustment"


@transaction.atomic
def adjust_points(
    *,
    account: Account,
    points: int,
    reason: str,
    actor: User | None = None,
    idempotency_key: str | None = None,
) -> PointsEntry:
    """A manual correction by staff, always with a reason; it cannot go below zero. With a key,
    a retry (or a second approval of one request) gets the first entry."""
    return replay_or_post(
        idempotency_key,
        lock=lambda: _checked_and_locked(account, points=points, reason=reason),
        post=lambda locked: _adjust(
            locked, points=points, reason=reason, actor=actor, idempotency_key=idempotency_key
        ),
    )


def _checked_and_locked(account: Account, *, points: int, reason: str) -> Account:
    if not reason.strip():
        raise InvalidRequest("A manual adjustment needs a reason.")
    if points == 0:
        raise InvalidRequest("An adjustment moves at least one point.")
    return lock_account(account.pk)


def _adjust(
    account: Account,
    *,
    points: int,
    reason: str,
    actor: User | None,
    idempotency_key: str | None,
) -> PointsEntry:
    """Credit, or take from the soonest-expiring lots what the balance covers. The caller
    holds the account's lock."""
    entry = PointsEntry(
        kind=Kind.ADJUST,
        available=points,
        source="staff",
        reason=reason,
        actor=actor,
        idempotency_key=idempotency_key,
    )
    if points > 0:
        return credit(account, entry, pending=False, now=timezone.now())
    if -points > account.available:
        raise InsufficientPoints(
            f"Only {account.available} points are available to take away.",
            details={"available": account.available},
        )
    entry.explanation = take_from(lock_available_lots(account), -points)
    entry.account = account
    entry.save()
    add_to_account(account, available=points)
    return entry


# --- Large adjustments: four eyes ---------------------------------------------------------


def _check_adjustment(*, account: Account, points: int, reason: str) -> None:
    if not reason.strip():
        raise InvalidRequest("A manual adjustment needs a reason.")
    if points == 0:
        raise InvalidRequest("An adjustment moves at least one point.")
    if -points > account.available:
        raise InsufficientPoints(
            f"Only {account.available} points are available to take away.",
            details={"available": account.available},
        )


def needs_approval(account: Account, points: int) -> bool:
    """More points than the programme lets one person move, either way."""
    return abs(points) > account.programme.adjustment_approval_threshold


@transaction.atomic
def request_points_adjustment(
    *, account: Account, points: int, reason: str, requested_by: User
) -> PointsEntry | PointsAdjustmentRequest:
    """A manual adjustment asked for by a member of staff: posted at once (the ledger entry is
    returned) when within the programme's ``adjustment_approval_threshold``, otherwise kept as
    a pending ``PointsAdjustmentRequest`` that changes no balance until another person
    approves it."""
    account = lock_account(account.pk)
    _check_adjustment(account=account, points=points, reason=reason)
    if not needs_approval(account, points):
        return adjust_points(account=account, points=points, reason=reason, actor=requested_by)
    return PointsAdjustmentRequest.objects.create(
        account=account, points=points, reason=reason.strip(), requested_by=requested_by
    )


def _check_decider(adjustment: PointsAdjustmentRequest, user: User) -> None:
    if not user.has_perm(APPROVE_ADJUSTMENTS):
        raise PermissionRefused("You may not approve or reject points adjustments.")
    if user.pk == adjustment.requested_by_id:
        raise InvalidRequest(
            "You asked for this adjustment: another person must approve or reject it."
        )


@transaction.atomic
def approve_points_adjustment(
    *, adjustment: PointsAdjustmentRequest, approver: User
) -> PointsEntry:
    """Post a pending adjustment through the ledger, once: the request row is locked, and the
    entry carries the request's idempotency key, so approving again (or two approvers at the
    same moment) returns the one entry. Refused to its requester and to anyone without
    ``loyalty.approve_points_adjustment``; a taking-away that the balance no longer covers
    is refused and stays pending."""
    adjustment = lock_adjustment_request(adjustment.pk)
    _check_decider(adjustment, approver)
    if adjustment.entry is not None:  # approved before (only an approved request has one)
        return adjustment.entry
    if adjustment.status != PointsAdjustmentRequest.Status.PENDING:
        raise InvalidTransition("This adjustment was rejected; ask for a new one.")
    entry = adjust_points(
        account=adjustment.account,
        points=adjustment.points,
        reason=adjustment.reason,
        actor=adjustment.requested_by,
        idempotency_key=f"points-adjustment-request:{adjustment.pk}",
    )
    adjustment.status = PointsAdjustmentRequest.Status.APPROVED
    adjustment.decided_by = approver
    adjustment.decided_at = timezone.now()
    adjustment.entry = entry
    adjustment.save(update_fields=["status", "decided_by", "decided_at", "entry"])
    return entry


@transaction.atomic
def reject_points_adjustment(
    *, adjustment: PointsAdjustmentRequest, approver: User
) -> PointsAdjustmentRequest:
    """Close a pending adjustment without moving a point (same deciders as approval)."""
    adjustment = lock_adjustment_request(adjustment.pk)
    _check_decider(adjustment, approver)
    if adjustment.status != PointsAdjustmentRequest.Status.PENDING:
        raise InvalidTransition(
            f"This adjustment is already {adjustment.get_status_display().lower()}."
        )
    adjustment.status = PointsAdjustmentRequest.Status.REJECTED
    adjustment.decided_by = approver
    adjustment.decided_at = timezone.now()
    adjustment.save(update_fields=["status", "decided_by", "decided_at"])
    return adjustment
