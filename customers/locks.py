"""Every row lock of the customers app's tables goes through here, so the lock order (primary
key) and what is locked (only the rows of the table named, never those of a joined one) are
decided once. A transaction that locks several customers takes them in one call."""

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from django.db.models import Model, QuerySet

from customers.models import (
    Conversation,
    ConversationMessage,
    Customer,
    Notification,
    SignUpRequest,
)

M = TypeVar("M", bound=Model)


def _locking(queryset: "QuerySet[M]") -> "QuerySet[M]":
    """``queryset``'s rows, locked as they are read, in primary-key order, own table only."""
    return queryset.select_for_update(of=("self",)).order_by("pk")


def lock_customer(customer: Customer) -> Customer:
    """The customer's row, locked and read afresh. Raises ``Customer.DoesNotExist`` when it
    is gone (merged into another profile meanwhile)."""
    return _locking(Customer.objects.all()).get(pk=customer.pk)


def lock_customers(public_ids: Iterable[UUID]) -> list[Customer]:
    """These customers' rows, locked in primary-key order and read afresh; those that no
    longer exist (merged meanwhile) are missing. Found by public id: a profile object that
    was merged away has lost its primary key, never its public id."""
    return list(_locking(Customer.objects.filter(public_id__in=list(public_ids))))


def lock_sign_up_request(pk: int) -> SignUpRequest:
    """The sign-up request, locked. Raises ``SignUpRequest.DoesNotExist`` when it is gone
    (purged once expired, or voided because another link for its address was confirmed)."""
    return _locking(SignUpRequest.objects.all()).get(pk=pk)


def lock_sign_up_requests_for(email: str) -> list[SignUpRequest]:
    """Every pending sign-up of one address, locked in primary-key order: confirming one
    voids the others, so two confirmations for one address must queue here, before either
    creates the account (else each waits for the other's identity and for its rows)."""
    return list(_locking(SignUpRequest.objects.filter(email=email, confirmed_at=None)))


def lock_sign_up_link(public_id: UUID | str) -> SignUpRequest | None:
    """The request a sign-up link names (one that sends a link, not an "account exists"
    notice), locked; ``None`` when there is none."""
    requests = SignUpRequest.objects.filter(public_id=public_id, kind=SignUpRequest.Kind.VERIFY)
    return _locking(requests).first()


def lock_notifications(pks: Iterable[int]) -> list[Notification]:
    """Outbox rows with their customers (read, not locked), locked in primary-key order."""
    return list(_locking(Notification.objects.select_related("customer").filter(pk__in=list(pks))))


def lock_waiting_notifications(*, due_by: datetime, limit: int) -> list[int]:
    """Ids of up to ``limit`` waiting rows due by ``due_by``, oldest due first, locked; rows
    another transaction holds are skipped (two release runs share the work)."""
    due = Notification.objects.filter(status=Notification.Status.WAITING, send_after__lte=due_by)
    return list(
        due.select_for_update(skip_locked=True)
        .order_by("send_after", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def lock_conversation_message(message: ConversationMessage) -> ConversationMessage:
    """A message's row, locked and read afresh: two confirmations of one delivery at once
    record it once."""
    return _locking(ConversationMessage.objects.all()).get(pk=message.pk)


def lock_conversation(conversation: Conversation) -> Conversation:
    """The conversation's row, locked and read afresh, with its customer (read, not locked):
    two agents replying at once, or a reply and an inbound message, change it one at a time."""
    return _locking(Conversation.objects.select_related("customer", "owner")).get(
        pk=conversation.pk
    )
