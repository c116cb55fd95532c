"""Every write about customers: resolving identities to one profile, merging two profiles,
consents, touchpoint ingestion, service notes, accounts and keys, export and erasure.

Merge and erasure hooks
-----------------------
An app that owns rows pointing at a customer needs nothing to take part in a merge: after the
registered handlers ran, the merged customer's sign-in tokens are revoked and every remaining
row of any model whose foreign key (or many-to-many) points at the merged customer is moved to
the survivor, found through ``Customer._meta.related_objects``. Register a handler only where
a plain move cannot work, e.g. a one-row-per-customer table (a points balance) whose rows must
be added together::

    from customers.services import register_merge_handler

    @register_merge_handler
    def merge_points(*, survivor, merged):
        ...  # runs inside the merge transaction, both customers locked

A handler that raises aborts the whole merge. ``register_erasure_handler`` works the same way
(``handler(*, customer)``): every app that holds personal data registers one in its
``AppConfig.ready`` (orders: addresses, notes, device ids; loyalty: cards; omni: kept API
answers), because erasure keeps other apps' rows as they are unless told. Handlers run before
the profile is anonymised, so they can still read the customer's identities.
``customers.selectors.register_export_section`` is the same idea for the data export.
"""

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast
from uuid import UUID

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import CharField, ManyToManyRel, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from customers.events import MAX_BATCH_SIZE, parse_event
from customers.locks import (
    lock_customer,
    lock_customers,
    lock_sign_up_link,
    lock_sign_up_request,
)
from customers.models import (
    Consent,
    ConsentPurpose,
    ContactChannel,
    Customer,
    CustomerExport,
    CustomerMerge,
    CustomerToken,
    ErasureRecord,
    Identity,
    ServiceNote,
    SignUpRequest,
    StorefrontKey,
    Touchpoint,
    hash_secret,
    validate_time_zone,
)
from customers.normalise import normalise_email, normalise_identity, normalise_phone
from customers.selectors import current_consents, customer_export
from omni.core.channels import Channel
from omni.core.credentials import USE_RECORDED_EVERY, new_secret, use_is_due
from omni.core.errors import Conflict, InvalidCredentials, InvalidInput, InvalidRequest, NotFound

MergeHandler = Callable[..., None]
ErasureHandler = Callable[..., None]
_merge_handlers: list[MergeHandler] = []
_erasure_handlers: list[ErasureHandler] = []

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
ANONYMOUS_KINDS = (Identity.Kind.ANONYMOUS, Identity.Kind.DEVICE)


# --- Hooks ----------------------------------------------------------------------------------


def register_merge_handler(handler: MergeHandler) -> MergeHandler:
    """Call ``handler(survivor=..., merged=...)`` in every merge, before rows are moved."""
    if handler not in _merge_handlers:
        _merge_handlers.append(handler)
    return handler


def unregister_merge_handler(handler: MergeHandler) -> None:
    if handler in _merge_handlers:
        _merge_handlers.remove(handler)


def register_erasure_handler(handler: ErasureHandler) -> ErasureHandler:
    """Call ``handler(customer=...)`` in every erasure, before the profile is anonymised."""
    if handler not in _erasure_handlers:
        _erasure_handlers.append(handler)
    return handler


def unregister_erasure_handler(handler: ErasureHandler) -> None:
    if handler in _erasure_handlers:
        _erasure_handlers.remove(handler)


# --- Resolution -----------------------------------------------------------------------------


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


# --- Merge ----------------------------------------------------------------------------------


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


# --- Profile --------------------------------------------------------------------------------

PROFILE_FIELDS = {
    "first_name",
    "last_name",
    "email",
    "phone",
    "birthday",
    "preferred_store_code",
    "time_zone",
}


@transaction.atomic
def update_profile(*, customer: Customer, changes: Mapping[str, Any]) -> Customer:
    """Change profile fields. A new e-mail or phone also becomes an identity of the customer;
    one that already identifies someone else is refused (linking two people is a merge, which
    staff decide, not a form)."""
    unknown = set(changes) - PROFILE_FIELDS
    if unknown:
        raise InvalidInput(
            "Unknown profile fields.", details={name: ["Unknown field."] for name in unknown}
        )
    values = dict(changes)
    if values.get("email"):
        values["email"] = normalise_email(values["email"])
    if values.get("phone"):
        values["phone"] = normalise_phone(values["phone"])
    if values.get("time_zone"):
        try:
            validate_time_zone(values["time_zone"])
        except ValidationError as error:
            raise InvalidInput(error.messages[0], details={"time_zone": error.messages}) from None
    birthday = values.get("birthday")
    if birthday is not None and not isinstance(birthday, date):
        raise InvalidInput("Birthday must be a date.", details={"birthday": ["Expected a date."]})
    new_identities = [
        (kind, values[name])
        for name, kind in (("email", Identity.Kind.EMAIL), ("phone", Identity.Kind.PHONE))
        if values.get(name)
    ]
    taken = (
        Identity.objects.filter(_identity_filter(new_identities))
        .exclude(customer=customer)
        .values_list("kind", flat=True)
        if new_identities
        else []
    )
    if taken:
        raise Conflict(
            "This belongs to another customer.",
            details={kind: ["Already identifies another customer."] for kind in taken},
        )
    for name, value in values.items():
        setattr(customer, name, "" if value is None and name != "birthday" else value)
    customer.full_clean(exclude=["password", "email"])
    customer.save()
    known = set(
        customer.identities.filter(_identity_filter(new_identities)).values_list("kind", "value")
    )
    Identity.objects.bulk_create(
        [
            Identity(customer=customer, kind=k, value=v)
            for k, v in new_identities
            if (k, v) not in known
        ]
    )
    return customer


# --- Consents -------------------------------------------------------------------------------


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


# --- Touchpoints ----------------------------------------------------------------------------


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


# --- Service notes --------------------------------------------------------------------------


@transaction.atomic
def add_service_note(
    *,
    customer: Customer,
    author: User | None,
    topic: str,
    text: str,
    via: str = ServiceNote.Via.NOTE,
) -> ServiceNote:
    errors = {}
    if via not in ServiceNote.Via.values:
        errors["via"] = [f"Expected one of {', '.join(ServiceNote.Via.values)}."]
    if not topic.strip():
        errors["topic"] = ["Say what it was about."]
    if not text.strip():
        errors["text"] = ["Write the note."]
    if errors:
        raise InvalidInput("The note is incomplete.", details=errors)
    return ServiceNote.objects.create(
        customer=customer, author=author, via=via, topic=topic.strip()[:120], text=text.strip()
    )


# --- Staff exports --------------------------------------------------------------------------


@transaction.atomic
def export_customers(
    *,
    customers: QuerySet[Customer],
    actor: User,
    query: str = "",
    now: datetime | None = None,
) -> tuple[CustomerExport, list[dict[str, Any]]]:
    """Everything held about the chosen customers, for a member of staff to download, and the
    record of who took it (``CustomerExport``: when, how many, which, chosen how).

    More than ``CUSTOMER_EXPORT_MAX_ROWS`` customers is refused before anything is read or
    recorded, so one click cannot take the whole customer base home.
    """
    limit = settings.CUSTOMER_EXPORT_MAX_ROWS
    selected = customers.count()
    if selected > limit:
        raise InvalidRequest(
            f"{selected} customers are selected; an export may hold at most {limit}. "
            "Narrow the selection with a search or a filter.",
            details={"selected": selected, "limit": limit},
        )
    now = now or timezone.now()
    chosen = list(customers.order_by("pk"))
    documents = [customer_export(customer, now=now) for customer in chosen]
    record = CustomerExport.objects.create(
        actor=actor,
        exported_at=now,
        row_count=len(chosen),
        query=query[: CustomerExport._meta.get_field("query").max_length],
        customer_public_ids=[str(customer.public_id) for customer in chosen],
    )
    return record, documents


# --- Accounts, tokens and storefront keys ---------------------------------------------------


@dataclass(frozen=True)
class SignedIn:
    customer: Customer
    token: str
    created: bool


def issue_customer_token(*, customer: Customer, channel: str) -> str:
    """A new bearer token for the customer; only its hash is stored, so show it now."""
    raw = new_secret("ct_")
    CustomerToken.objects.create(customer=customer, channel=channel, key_hash=hash_secret(raw))
    return raw


def record_customer_token_use(*, token: CustomerToken, now: datetime) -> None:
    """Move the token's idle limit to ``now``. Written at most every few minutes per token,
    and then by a conditional UPDATE (concurrent requests write once), so reads stay reads.
    The caller has checked that the token has not expired."""
    if not use_is_due(token.last_used_at, now):
        return
    CustomerToken.objects.filter(pk=token.pk, last_used_at__lte=now - USE_RECORDED_EVERY).update(
        last_used_at=now
    )
    token.last_used_at = now


@transaction.atomic
def revoke_customer_tokens(*, customer: Customer, keep: CustomerToken | None = None) -> int:
    """Sign the customer out everywhere, except with ``keep`` (the caller's own token) when
    given. Revoked tokens are deleted. Returns how many were revoked."""
    tokens = CustomerToken.objects.filter(customer=customer)
    if keep is not None:
        tokens = tokens.exclude(pk=keep.pk)
    return tokens.delete()[0]


def purge_expired_customer_tokens(*, now: datetime | None = None) -> int:
    """Delete the tokens that can no longer be used (idle too long, or past the cap)."""
    now = now or timezone.now()
    idle_since = now - timedelta(days=settings.CUSTOMER_TOKEN_IDLE_DAYS)
    issued_before = now - timedelta(days=settings.CUSTOMER_TOKEN_MAX_DAYS)
    expired = CustomerToken.objects.filter(
        Q(last_used_at__lte=idle_since) | Q(created_at__lte=issued_before)
    )
    return expired.delete()[0]


@transaction.atomic
def issue_storefront_key(*, name: str, channel: str) -> tuple[StorefrontKey, str]:
    """A new API key for a storefront app; the key is returned once and stored as a hash."""
    if channel not in Channel.values:
        raise InvalidInput(
            "Unknown channel.", details={"channel": [f"One of {', '.join(Channel.values)}."]}
        )
    raw = new_secret(f"sk_{channel}_")
    key = StorefrontKey.objects.create(
        name=name, channel=channel, prefix=raw[:12], key_hash=hash_secret(raw)
    )
    return key, raw


@transaction.atomic
def revoke_storefront_key(*, key: StorefrontKey) -> StorefrontKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


# Wrong passwords sent with one sign-up link before the link stops working.
MAX_SIGN_UP_CONFIRM_ATTEMPTS = 5
SIGN_UP_TOKEN_SALT = "customers.sign-up"
INVALID_SIGN_UP_LINK = "This link is not valid any more (used, expired or mistyped): sign up again."


def _check_new_password(password: str) -> None:
    try:
        validate_password(password)
    except ValidationError as error:
        raise InvalidInput(
            "The password is too weak.", details={"password": error.messages}
        ) from None


@transaction.atomic
def request_sign_up(
    *,
    email: str,
    password: str,
    channel: str,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    anonymous_id: str = "",
    now: datetime | None = None,
) -> SignUpRequest:
    """Ask to open an account: e-mail the address a link that proves it is the caller's.

    Nothing is signed in and no profile changes here, and the caller learns nothing about the
    address: known or not, the same checks run (the password is hashed either way) and one
    e-mail leaves. An address without an account (new, or a store or guest profile) gets the
    link; an address with an account gets a notice to its owner instead, with no link.
    Input that is wrong whatever the address (a weak password, a bad phone) is refused.
    """
    now = now or timezone.now()
    email = normalise_email(email)
    _check_new_password(password)
    if phone:
        phone = normalise_phone(phone)
    password_hash = make_password(password)
    owner = (
        Customer.objects.filter(
            identities__kind=Identity.Kind.EMAIL, identities__value=email, erased_at=None
        )
        .only("password")
        .first()
    )
    has_account = owner is not None and owner.has_account
    request = SignUpRequest.objects.create(
        kind=SignUpRequest.Kind.ACCOUNT_EXISTS if has_account else SignUpRequest.Kind.VERIFY,
        email=email,
        password="" if has_account else password_hash,
        first_name="" if has_account else first_name[:100],
        last_name="" if has_account else last_name[:100],
        phone="" if has_account else phone,
        anonymous_id="" if has_account else anonymous_id[:128],
        channel=channel,
        expires_at=now + timedelta(hours=settings.SIGN_UP_LINK_HOURS),
    )
    transaction.on_commit(lambda: _enqueue_sign_up_email(request.pk), robust=True)
    return request


def _enqueue_sign_up_email(request_id: int) -> None:
    from customers.tasks import send_sign_up_email  # the task module imports this one

    send_sign_up_email.delay(request_id)


def sign_up_token(request: SignUpRequest) -> str:
    """The secret of a sign-up link: the request's id signed with ``SECRET_KEY``. Nothing
    stored is enough to forge it; ``confirm_sign_up`` makes it single-use."""
    return signing.dumps(str(request.public_id), salt=SIGN_UP_TOKEN_SALT)


def send_sign_up_email(*, request_id: int, now: datetime | None = None) -> bool:
    """E-mail the link (or the "you already have an account" notice) once; returns whether
    it was sent now. A failing mail server raises, and the task tries again."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            request = lock_sign_up_request(request_id)
        except SignUpRequest.DoesNotExist:  # purged before its task ran
            return False
        if request.email_sent_at or request.expires_at <= now:
            return False
        subject, body = _sign_up_email(request)
        send_mail(
            subject=subject,
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[request.email],
            fail_silently=False,
        )
        request.email_sent_at = now
        request.save(update_fields=["email_sent_at"])
    return True


def _sign_up_email(request: SignUpRequest) -> tuple[str, str]:
    if request.kind == SignUpRequest.Kind.ACCOUNT_EXISTS:
        return (
            "You already have an account",
            "Someone, maybe you, asked to open an account with this e-mail address. You "
            "already have one: sign in with it.\n\nIf it was not you, there is nothing to "
            "do: your account has not changed.",
        )
    # Never None here: omni/settings.py refuses to start without a URL holding "{token}".
    confirm_url = cast(str, settings.SIGN_UP_CONFIRM_URL)
    link = confirm_url.format(token=sign_up_token(request))
    return (
        "Confirm your e-mail address",
        f"To open your account, follow this link within {settings.SIGN_UP_LINK_HOURS} hours "
        f"and enter the password you chose:\n\n{link}\n\nIf you did not ask for an account, "
        "ignore this e-mail: nothing happens without this link.",
    )


def confirm_sign_up(*, token: str, password: str, now: datetime | None = None) -> SignedIn:
    """Open the account a sign-up link was sent for, and sign in.

    The link proves the address; the password chosen at sign-up proves that whoever follows
    it is whoever signed up, so a link that reached someone who never asked opens nothing.
    The address's store or guest profile, if any, becomes the account (``resolve_customer``).
    A link works once, until it expires, and dies after a few wrong passwords; each wrong
    password is counted even though the call is refused.
    """
    now = now or timezone.now()
    try:
        public_id = signing.loads(
            token, salt=SIGN_UP_TOKEN_SALT, max_age=timedelta(hours=settings.SIGN_UP_LINK_HOURS)
        )
    except signing.BadSignature:  # also SignatureExpired
        raise InvalidRequest(INVALID_SIGN_UP_LINK, details={"token": ["Not valid."]}) from None
    with transaction.atomic():
        request = lock_sign_up_link(public_id)
        if (
            request is None
            or request.confirmed_at is not None
            or request.expires_at <= now
            or request.failed_attempts >= MAX_SIGN_UP_CONFIRM_ATTEMPTS
        ):
            raise InvalidRequest(INVALID_SIGN_UP_LINK, details={"token": ["Not valid."]})
        right_password = check_password(password, request.password)
        if not right_password:
            request.failed_attempts += 1
            request.save(update_fields=["failed_attempts"])
    # Raised after the block so that the count above is committed.
    if not right_password:
        raise InvalidCredentials(
            "This is not the password chosen at sign-up.",
            details={"attempts_left": MAX_SIGN_UP_CONFIRM_ATTEMPTS - request.failed_attempts},
        )
    return _open_account(request_id=request.pk, now=now)


@transaction.atomic
def _open_account(*, request_id: int, now: datetime) -> SignedIn:
    request = lock_sign_up_request(request_id)
    if request.confirmed_at is not None:  # confirmed meanwhile by a concurrent call
        raise InvalidRequest(INVALID_SIGN_UP_LINK, details={"token": ["Already used."]})
    resolution = resolve_customer(
        identities=[(Identity.Kind.EMAIL, request.email)],
        channel=request.channel,
        cause="sign-up (address confirmed)",
    )
    customer = lock_customer(resolution.customer)
    if customer.has_account:
        # Another link for this address was confirmed first; this one has nothing to open.
        raise Conflict(
            "This e-mail address already has an account: sign in.",
            details={"email": ["Already has an account."]},
        )
    if request.anonymous_id:
        kind = anonymous_kind(request.channel)
        customer = _attach_identities(
            customer,
            [(kind, normalise_identity(kind, request.anonymous_id))],
            cause=f"sign-up on {request.channel}",
            actor=None,
            merge_accounts=False,
        )
    # Only what the form filled in: a store profile's known names are not blanked.
    names = {
        name: value
        for name, value in (("first_name", request.first_name), ("last_name", request.last_name))
        if value
    }
    if names:
        customer = update_profile(customer=customer, changes=names)
    if request.phone:
        # A phone that is someone else's stays out: joining two people is a merge staff decide.
        with suppress(Conflict):
            customer = update_profile(customer=customer, changes={"phone": request.phone})
    customer.password = request.password
    customer.save(update_fields=["password", "updated_at"])
    request.confirmed_at = now
    request.customer = customer
    request.password = ""
    request.save(update_fields=["confirmed_at", "customer", "password"])
    # The address is proven and has its account: other pending links for it are void.
    SignUpRequest.objects.filter(email=request.email, confirmed_at=None).delete()
    token = issue_customer_token(customer=customer, channel=request.channel)
    return SignedIn(customer=customer, token=token, created=resolution.created)


def purge_expired_sign_up_requests(*, now: datetime | None = None) -> int:
    """Delete sign-up requests past their expiry (their names and password hash with them)."""
    now = now or timezone.now()
    return SignUpRequest.objects.filter(expires_at__lte=now).delete()[0]


@transaction.atomic
def sign_in(*, email: str, password: str, channel: str, anonymous_id: str = "") -> SignedIn:
    """A token for the account of this e-mail. An ``anonymous_id`` sent along is the visitor's
    browser or device: it joins the account, and a guest profile it belonged to merges."""
    try:
        email = normalise_email(email)
    except InvalidInput:
        email = ""
    customer = (
        Customer.objects.filter(
            identities__kind=Identity.Kind.EMAIL, identities__value=email, erased_at=None
        ).first()
        if email
        else None
    )
    if customer is None or not customer.has_account:
        make_password(password)  # as slow as a real check, so unknown e-mails do not show
        raise InvalidCredentials("Wrong e-mail or password.")
    if not check_password(password, customer.password):
        raise InvalidCredentials("Wrong e-mail or password.")
    if anonymous_id:
        customer = _attach_identities(
            customer,
            [(anonymous_kind(channel), normalise_identity(anonymous_kind(channel), anonymous_id))],
            cause=f"sign-in on {channel}",
            actor=None,
            merge_accounts=False,
        )
    token = issue_customer_token(customer=customer, channel=channel)
    return SignedIn(customer=customer, token=token, created=False)


@transaction.atomic
def sign_out(*, token: CustomerToken) -> None:
    CustomerToken.objects.filter(pk=token.pk).delete()


@transaction.atomic
def change_password(
    *,
    customer: Customer,
    current_password: str,
    new_password: str,
    keep: CustomerToken | None = None,
) -> Customer:
    """Set a new password, proven by the current one and checked by Django's validators.
    Every token of the customer is revoked except ``keep`` (the caller's own), so a device
    that knew only the old password, or held a stolen token, is signed out."""
    customer = lock_customer(customer)
    if not customer.has_account or not check_password(current_password, customer.password):
        raise InvalidInput(
            "The current password is wrong.",
            details={"current_password": ["The current password is wrong."]},
        )
    try:
        # The validators read what a customer shares with a user (names, e-mail) to refuse a
        # password made of them; Django types the argument as its user model only.
        validate_password(new_password, user=customer)  # type: ignore[arg-type]
    except ValidationError as error:
        raise InvalidInput(
            "The new password is too weak.", details={"new_password": error.messages}
        ) from None
    customer.password = make_password(new_password)
    customer.save(update_fields=["password", "updated_at"])
    revoke_customer_tokens(customer=customer, keep=keep)
    return customer


# --- Privacy --------------------------------------------------------------------------------


@transaction.atomic
def erase_customer(
    *, customer: Customer, requested_via: str, actor: User | None = None
) -> ErasureRecord:
    """Erase the person's data: the profile is anonymised, identities, notes and sign-ins are
    deleted, touchpoints (also those still unlinked from one of their anonymous ids) lose
    their link and personal fields (kept as anonymous events for totals), consent evidence
    loses IP and user agent and every consent is withdrawn, merge causes and the admin's
    history of their rows lose the names and values they showed. Every registered handler
    clears its app's personal data first. Rows other apps must keep (orders, points ledgers)
    stay, pointing at the anonymised profile; they are counted in the ``ErasureRecord``.
    Erasing again returns the first record."""
    customer = lock_customer(customer)
    if customer.erased_at is not None:
        return ErasureRecord.objects.get(customer_public_id=customer.public_id)
    for handler in list(_erasure_handlers):
        handler(customer=customer)
    _forget_admin_history(customer)
    anonymous_ids = list(
        customer.identities.filter(kind__in=ANONYMOUS_KINDS).values_list("value", flat=True)
    )
    now = timezone.now()
    granted = [
        ConsentDecision(channel=item["channel"], purpose=item["purpose"], granted=False)
        for item in current_consents(customer)
        if item["granted"]
    ]
    record_consents(
        customer=customer,
        decisions=granted,
        source_channel=customer.first_seen_channel or Channel.WEB,
        only_changes=False,
    )
    emails = {
        customer.email,
        *customer.identities.filter(kind=Identity.Kind.EMAIL).values_list("value", flat=True),
    } - {""}
    erased = {
        "customers.SignUpRequest": SignUpRequest.objects.filter(
            Q(customer=customer) | Q(email__in=emails)
        ).delete()[0],
        "customers.Consent": customer.consents.update(ip_address=None, user_agent=""),
        "customers.Touchpoint": Touchpoint.objects.filter(
            Q(customer=customer) | Q(customer=None, anonymous_id__in=anonymous_ids)
        ).update(
            customer=None,
            anonymous_id="",
            event_id="",
            url="",
            utm_term="",
            utm_content="",
            properties={},
        ),
        "customers.Identity": customer.identities.all().delete()[0],
        "customers.ServiceNote": customer.service_notes.all().delete()[0],
        "customers.CustomerToken": customer.tokens.all().delete()[0],
        "customers.CustomerMerge": customer.merges.exclude(cause="").update(cause=""),
    }
    kept = {}
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        if model._meta.app_label == Customer._meta.app_label:
            continue
        count = model._base_manager.filter(**{relation.field.name: customer}).count()
        if count:
            kept[model._meta.label] = count
    for name in ("first_name", "last_name", "email", "phone", "preferred_store_code", "time_zone"):
        setattr(customer, name, "")
    customer.birthday = None
    customer.password = make_password(None)
    customer.erased_at = now
    customer.save()
    return ErasureRecord.objects.create(
        customer=customer,
        customer_public_id=customer.public_id,
        requested_via=requested_via[:40],
        actor=actor,
        erased=erased,
        kept=kept,
    )


def _forget_admin_history(customer: Customer) -> None:
    """The admin's history keeps that staff changed the customer's rows (who, when, which
    fields) but not how it named them: an entry shows a row's ``str`` (a name, an e-mail)
    and the inline rows it added. Covers the profile and every row pointing at it directly."""
    profile = ContentType.objects.get_for_model(Customer)
    entries = Q(content_type=profile, object_id=str(customer.pk))
    for relation in Customer._meta.related_objects:
        if relation.many_to_many:
            continue
        rows = relation.related_model._base_manager.filter(**{relation.field.name: customer})
        entries |= Q(
            content_type=ContentType.objects.get_for_model(relation.related_model),
            object_id__in=rows.annotate(text_pk=Cast("pk", CharField())).values("text_pk"),
        )
    for entry in LogEntry.objects.filter(entries).select_related("content_type"):
        content_type = entry.content_type
        assert content_type is not None  # every entry above was chosen by its content type
        entry.object_repr = (
            f"Erased customer {customer.public_id}"
            if content_type == profile
            else f"{content_type.name} of an erased customer"
        )
        entry.change_message = _without_object_names(entry.change_message)
        entry.save(update_fields=["object_repr", "change_message"])


def _without_object_names(change_message: str) -> str:
    """The admin's JSON change message without the ``object`` names of inline rows; a
    message in free text (older entries, or written by hand) is dropped."""
    if not change_message:
        return ""
    try:
        changes = json.loads(change_message)
    except ValueError:
        return ""
    if not isinstance(changes, list):
        return ""
    for change in changes:
        for details in change.values() if isinstance(change, dict) else ():
            if isinstance(details, dict):
                details.pop("object", None)
    return json.dumps(changes)
