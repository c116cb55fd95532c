"""Merging two profiles of one person, and the hooks other apps register to take part."""

from typing import Protocol, TypeVar
from uuid import UUID

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import ManyToManyRel

from customers.locks import lock_customers
from customers.models import Customer, CustomerMerge
from customers.services.credentials import revoke_customer_tokens
from omni.core.errors import Conflict, InvalidInput, NotFound


class MergeHandler(Protocol):
    """Called in every merge, inside its transaction, with both customers locked."""

    def __call__(self, *, survivor: Customer, merged: Customer) -> None: ...


MergeHandlerT = TypeVar("MergeHandlerT", bound=MergeHandler)
_merge_handlers: list[MergeHandler] = []

# Profile fields a merge copies from the merged profile where the survivor has none.
MERGED_PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "birthday",
    "preferred_store_code",
    "time_zone",
    "password",
)


def register_merge_handler(handler: MergeHandlerT) -> MergeHandlerT:
    """Call ``handler(survivor=..., merged=...)`` in every merge, before rows are moved."""
    if handler not in _merge_handlers:
        _merge_handlers.append(handler)
    return handler


def unregister_merge_handler(handler: MergeHandler) -> None:
    if handler in _merge_handlers:
        _merge_handlers.remove(handler)


@transaction.atomic
def merge_customers(
    *, customer: Customer, other: Customer, cause: str, actor: User | None = None
) -> CustomerMerge:
    """Make two profiles one: the older survives and every row of the other moves to it.

    Both rows are locked (in primary-key order) for the whole merge. A merge that already
    happened is not done again: the call returns the record of the first one, also when it
    was waiting for that first merge to commit.
    """
    if customer.public_id == other.public_id:
        raise InvalidInput("A customer cannot be merged with itself.")
    public_ids = [customer.public_id, other.public_id]
    locked = lock_customers(public_ids)
    if len(locked) < 2:
        return _previous_merge(public_ids)
    survivor, merged = sorted(locked, key=lambda c: (c.created_at, c.pk))
    if survivor.erased_at or merged.erased_at:
        raise Conflict(
            "An erased customer cannot be merged.",
            details={"erased": [str(c.public_id) for c in locked if c.erased_at]},
        )
    for name in MERGED_PROFILE_FIELDS:
        if not getattr(survivor, name) and getattr(merged, name):
            setattr(survivor, name, getattr(merged, name))
    survivor.save()
    for handler in list(_merge_handlers):
        handler(survivor=survivor, merged=merged)
    # A token is a credential of the profile that signed in, not of the person: moved, it
    # would open the survivor's account to whoever held the merged profile's token.
    revoke_customer_tokens(customer=merged)
    moved = _move_related_rows(survivor=survivor, merged=merged)
    record = CustomerMerge.objects.create(
        survivor=survivor,
        merged_public_id=merged.public_id,
        cause=cause[:200],
        actor=actor,
        moved=moved,
    )
    merged.delete()
    return record


def _previous_merge(public_ids: list[UUID]) -> CustomerMerge:
    previous = (
        CustomerMerge.objects.select_related("survivor")
        .filter(merged_public_id__in=public_ids, survivor__public_id__in=public_ids)
        .first()
    )
    if previous is None:
        raise NotFound(
            "One of the customers does not exist (or was merged into a third one).",
            details={"customers": [str(public_id) for public_id in public_ids]},
        )
    return previous


def _move_related_rows(*, survivor: Customer, merged: Customer) -> dict[str, int]:
    moved: dict[str, int] = {}
    for relation in Customer._meta.related_objects:
        if isinstance(relation, ManyToManyRel):
            count = _move_many_to_many(relation, survivor=survivor, merged=merged)
        else:
            name = relation.field.name
            manager = relation.related_model._base_manager
            count = manager.filter(**{name: merged}).update(**{name: survivor})
        if count:
            label = relation.related_model._meta.label
            moved[label] = moved.get(label, 0) + count
    return moved


def _move_many_to_many(relation: ManyToManyRel, *, survivor: Customer, merged: Customer) -> int:
    """Links of the merged customer move, except those the survivor already has."""
    assert relation.through is not None  # Django sets it (or makes one) as the models load
    through = relation.through._base_manager
    owner, target = relation.field.m2m_field_name(), relation.field.m2m_reverse_field_name()
    already = through.filter(**{target: survivor}).values(owner)
    through.filter(**{target: merged, f"{owner}__in": already}).delete()
    return through.filter(**{target: merged}).update(**{target: survivor})
