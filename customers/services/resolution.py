"""Resolving identities (e-mail, phone, card, device and anonymous ids) to one customer."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from customers.models import Customer, CustomerMerge, Identity, Touchpoint
from customers.normalise import normalise_identity
from customers.services.merge import merge_customers
from omni.core.channels import Channel
from omni.core.errors import Conflict, InvalidInput

ANONYMOUS_KINDS = (Identity.Kind.ANONYMOUS, Identity.Kind.DEVICE)


@dataclass(frozen=True)
class Resolution:
    customer: Customer
    created: bool
    merges: list[CustomerMerge] = field(default_factory=list)


def anonymous_kind(channel: str) -> str:
    """Apps send a device id, the website an anonymous cookie id."""
    return Identity.Kind.DEVICE if channel in (Channel.IOS, Channel.ANDROID) else "anonymous"


@transaction.atomic
def resolve_customer(
    *,
    identities: Iterable[tuple[str, str]],
    channel: str = "",
    cause: str,
    actor: User | None = None,
) -> Resolution:
    """The one customer these identities belong to.

    None known: a new customer holding them all. Some known, all of one customer: that
    customer, given the unknown ones. Known to several customers: they are one person, so
    they merge into the oldest (recorded with ``cause`` and ``actor``), which then holds all.
    Two concurrent calls with the same new identities end with one customer.
    """
    pairs: dict[tuple[str, str], None] = {}
    for kind, value in identities:
        pairs[(kind, normalise_identity(kind, value))] = None
    if not pairs:
        raise InvalidInput("At least one identity is needed to find a customer.")
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _resolve_once(list(pairs), channel=channel, cause=cause, actor=actor)
        except IntegrityError:
            # Another transaction stored one of these identities first; it is visible now.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _resolve_once(
    pairs: list[tuple[str, str]], *, channel: str, cause: str, actor: User | None
) -> Resolution:
    owner_ids = (
        Identity.objects.filter(_identity_filter(pairs))
        .values_list("customer_id", flat=True)
        .distinct()
    )
    owners = list(Customer.objects.filter(pk__in=owner_ids).order_by("created_at", "pk"))
    if not owners:
        customer = Customer.objects.create(first_seen_channel=channel)
        _attach_identities(customer, pairs, cause=cause, actor=actor)
        return Resolution(customer=_refreshed(customer), created=True)
    survivor = owners[0]
    merges = []
    for other in owners[1:]:
        merge = merge_customers(customer=survivor, other=other, cause=cause, actor=actor)
        merges.append(merge)
        survivor = merge.survivor
    _attach_identities(survivor, pairs, cause=cause, actor=actor)
    return Resolution(customer=_refreshed(survivor), created=False, merges=merges)


def _identity_filter(pairs: Iterable[tuple[str, str]]) -> Q:
    condition = Q(pk__in=[])
    for kind, value in pairs:
        condition |= Q(kind=kind, value=value)
    return condition


def _refreshed(customer: Customer) -> Customer:
    customer.refresh_from_db()
    return customer


def _attach_identities(
    customer: Customer,
    pairs: Sequence[tuple[str, str]],
    *,
    cause: str,
    actor: User | None,
    merge_accounts: bool = True,
) -> Customer:
    """Give ``customer`` these (normalised) identities, merging any other owner into it.
    Returns the customer that holds them afterwards (the older of a merge survives).

    With ``merge_accounts=False`` (identities a storefront asserts, like an anonymous id sent
    with a sign-in) only guest profiles merge; an identity of another account stays where it
    is, so that knowing someone's device id is not a way into their account.
    """
    owned = {
        (kind, value): owner
        for kind, value, owner in Identity.objects.filter(_identity_filter(pairs)).values_list(
            "kind", "value", "customer_id"
        )
    }
    others = Customer.objects.filter(
        pk__in={owner for owner in owned.values() if owner != customer.pk}
    ).order_by("pk")
    kept_apart = set()
    for other in others:
        if not merge_accounts and other.has_account:
            kept_apart.add(other.pk)
            continue
        if other.pk != customer.pk:
            customer = merge_customers(
                customer=customer, other=other, cause=cause, actor=actor
            ).survivor
    missing = [pair for pair in pairs if pair not in owned]
    Identity.objects.bulk_create(
        [Identity(customer=customer, kind=kind, value=value) for kind, value in missing]
    )
    anonymous_ids = [
        value
        for kind, value in pairs
        if kind in ANONYMOUS_KINDS and owned.get((kind, value)) not in kept_apart
    ]
    if anonymous_ids:
        Touchpoint.objects.filter(customer=None, anonymous_id__in=anonymous_ids).update(
            customer=customer
        )
    contact: dict[str, str] = {}
    for kind, value in pairs:
        if kind == Identity.Kind.EMAIL and not customer.email:
            contact.setdefault("email", value)
        if kind == Identity.Kind.PHONE and not customer.phone:
            contact.setdefault("phone", value)
    if contact:
        Customer.objects.filter(pk=customer.pk).update(**contact, updated_at=timezone.now())
        for name, value in contact.items():
            setattr(customer, name, value)
    return customer


def link_identity(*, customer: Customer, kind: str, value: str) -> Identity:
    """Record a new way to recognise a customer another app issued (a loyalty card number).
    An identity that already belongs to someone else is refused: joining two people is a
    merge, decided by staff or by resolution, never a side effect."""
    value = normalise_identity(kind, value)
    identity, _ = Identity.objects.get_or_create(
        kind=kind, value=value, defaults={"customer": customer}
    )
    if identity.customer_id != customer.pk:
        raise Conflict(f"This {kind} already identifies another customer.")
    return identity


def unlink_identity(*, kind: str, value: str) -> None:
    """Forget an identity that no longer points at anyone (a blocked card)."""
    Identity.objects.filter(kind=kind, value=normalise_identity(kind, value)).delete()
