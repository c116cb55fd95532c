"""Reads about customers shared by the API, the admin and other apps: who a key or token
belongs to, current consents (for one customer and as a filter for millions), and the
export of everything held about a person."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from django.core import serializers
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from customers.models import (
    Consent,
    ConsentPurpose,
    ContactChannel,
    Conversation,
    ConversationMessage,
    Customer,
    CustomerMerge,
    CustomerToken,
    Identity,
    StorefrontKey,
    Touchpoint,
    hash_secret,
)
from customers.normalise import normalise_identity
from omni.core.errors import InvalidInput

EXPORT_FORMAT_VERSION = 2


class ExportSection(Protocol):
    """Returns the section's JSON-ready data about one customer."""

    def __call__(self, *, customer: Customer) -> Any: ...


# name -> (handler, labels of the models whose rows it exports)
_export_sections: dict[str, tuple[ExportSection, frozenset[str]]] = {}


# --- Credentials --------------------------------------------------------------------------


def storefront_key_for(raw_key: str) -> StorefrontKey | None:
    return StorefrontKey.objects.filter(key_hash=hash_secret(raw_key), revoked_at=None).first()


def customer_token_for(raw_token: str) -> CustomerToken | None:
    return (
        CustomerToken.objects.select_related("customer")
        .filter(key_hash=hash_secret(raw_token), customer__erased_at=None)
        .first()
    )


# --- Finding customers ----------------------------------------------------------------------


def customer_by_identity(*, kind: str, value: str) -> Customer | None:
    """The customer an identity belongs to; ``InvalidInput`` if the value cannot be read."""
    normalised = normalise_identity(kind, value)
    return Customer.objects.filter(identities__kind=kind, identities__value=normalised).first()


def customers_matching_any_identity(term: str) -> QuerySet[Customer]:
    """Customers one search term finds as any kind of identity, however the term is written
    (a phone in national format, an e-mail in capitals, a card number with spaces)."""
    candidates = Q()
    for kind in Identity.Kind.values:
        try:
            candidates |= Q(identities__kind=kind, identities__value=normalise_identity(kind, term))
        except InvalidInput:
            continue
    if not candidates:
        return Customer.objects.none()
    return Customer.objects.filter(candidates).distinct()


def profile_named_by(public_id: str) -> Customer | None:
    """The profile a public id in a signed link names now: itself, or the profile it was
    merged into (links outlive merges); None if neither exists."""
    for _ in range(10):  # a chain of merges is short; a loop would be a bug, not a customer
        customer = Customer.objects.filter(public_id=public_id).first()
        if customer is not None:
            return customer
        merge = CustomerMerge.objects.filter(merged_public_id=public_id).first()
        if merge is None:
            return None
        public_id = str(merge.survivor.public_id)
    return None


def customer_profile(*, public_id: UUID | str) -> Customer:
    return Customer.objects.get(public_id=public_id, erased_at=None)


# --- Consents -------------------------------------------------------------------------------


def _latest_consent(
    channel: str, purpose: str, customer_ref: Customer | OuterRef
) -> QuerySet[Consent]:
    return Consent.objects.filter(customer=customer_ref, channel=channel, purpose=purpose).order_by(
        "-recorded_at", "-id"
    )


def _check_consent_terms(channel: str, purpose: str) -> None:
    errors = {}
    if channel not in ContactChannel.values:
        errors["channel"] = [f"Expected one of {', '.join(ContactChannel.values)}."]
    if purpose not in ConsentPurpose.values:
        errors["purpose"] = [f"Expected one of {', '.join(ConsentPurpose.values)}."]
    if errors:
        raise InvalidInput("Unknown consent channel or purpose.", details=errors)


def may_contact(customer: Customer, channel: str, purpose: str) -> bool:
    """May we reach this customer on ``channel`` for ``purpose``? No decision means no."""
    _check_consent_terms(channel, purpose)
    latest = _latest_consent(channel, purpose, customer).values_list("granted", flat=True)
    return bool(latest.first())


def contactable(
    channel: str, purpose: str, customers: QuerySet[Customer] | None = None
) -> QuerySet[Customer]:
    """``customers`` (all by default) narrowed to those whose latest decision for
    (channel, purpose) is a grant. One SQL query: each customer costs one probe of
    ``consent_latest_idx``, so it serves segments of millions without loading them."""
    _check_consent_terms(channel, purpose)
    queryset = Customer.objects.all() if customers is None else customers
    latest_granted = Subquery(
        _latest_consent(channel, purpose, OuterRef("pk")).values("granted")[:1]
    )
    return (
        queryset.filter(erased_at=None)
        .annotate(_consent_granted=latest_granted)
        .filter(_consent_granted=True)
    )


def current_consents(customer: Customer) -> list[dict[str, Any]]:
    """Every (channel, purpose) with its current state: granted, withdrawn, or never asked."""
    latest: dict[tuple[str, str], Consent] = {}
    for consent in customer.consents.order_by("-recorded_at", "-id"):
        latest.setdefault((consent.channel, consent.purpose), consent)
    states = []
    for channel in ContactChannel.values:
        for purpose in ConsentPurpose.values:
            decision = latest.get((channel, purpose))
            states.append(
                {
                    "channel": channel,
                    "purpose": purpose,
                    "granted": decision.granted if decision else False,
                    "recorded_at": decision.recorded_at if decision else None,
                }
            )
    return states


def consent_history(customer: Customer) -> QuerySet[Consent]:
    return customer.consents.select_related("recorded_by").order_by("-recorded_at", "-id")


# --- Touchpoints and notes ------------------------------------------------------------------


def recent_touchpoints(customer: Customer, *, limit: int = 50) -> QuerySet[Touchpoint]:
    return customer.touchpoints.order_by("-occurred_at")[:limit]


def latest_survey_answers(customer: Customer, *, limit: int = 3) -> list[Touchpoint]:
    """The customer's latest satisfaction answers (most recent first), for whoever serves them
    next: one query."""
    answers = customer.touchpoints.filter(kind=Touchpoint.Kind.SURVEY_ANSWER)
    return list(answers.order_by("-occurred_at", "-pk")[:limit])


def unlinked_touchpoints(anonymous_ids: Iterable[str]) -> QuerySet[Touchpoint]:
    return Touchpoint.objects.filter(customer=None, anonymous_id__in=list(anonymous_ids))


def service_history(customer: Customer) -> QuerySet[ConversationMessage]:
    """Every message of the customer's conversations (notes too), latest first."""
    return (
        ConversationMessage.objects.filter(conversation__customer=customer)
        .select_related("author", "conversation")
        .order_by("-created_at", "-id")
    )


# --- Conversations --------------------------------------------------------------------------

SHOWN_TO_CUSTOMER = (ConversationMessage.Direction.INBOUND, ConversationMessage.Direction.OUTBOUND)


def _latest_message(*, customer_view: bool) -> Subquery:
    messages = ConversationMessage.objects.filter(conversation=OuterRef("pk"))
    if customer_view:
        messages = messages.filter(direction__in=SHOWN_TO_CUSTOMER)
    return Subquery(messages.order_by("-created_at", "-id").values("body")[:1])


def conversations_of_all(
    conversations: QuerySet[Conversation], *, customer_view: bool = False
) -> QuerySet[Conversation]:
    """``conversations``, latest activity first, each with its owner and its last message
    (``last_message``: the customer's view leaves internal notes out), in one query."""
    return (
        conversations.select_related("owner")
        .annotate(last_message=_latest_message(customer_view=customer_view))
        .order_by("-updated_at", "-id")
    )


def conversations_of(customer: Customer, *, customer_view: bool = False) -> QuerySet[Conversation]:
    """The customer's conversations as ``conversations_of_all`` reads them."""
    return conversations_of_all(customer.conversations.all(), customer_view=customer_view)


def open_conversations_of(customer: Customer) -> QuerySet[Conversation]:
    """What the customer is still waiting on, or we wait on them for: not solved."""
    return conversations_of(customer).exclude(status=Conversation.Status.SOLVED)


def conversation_with_messages(
    public_id: UUID | str, *, customer: Customer | None = None, customer_view: bool = False
) -> Conversation | None:
    """One conversation (of ``customer``, when given) with its customer, owner and messages
    oldest first (``conversation.message_list``; the customer's view leaves internal notes
    out), in two queries."""
    conversations = Conversation.objects.select_related("customer", "owner").filter(
        public_id=public_id
    )
    if customer is not None:
        conversations = conversations.filter(customer=customer)
    messages = ConversationMessage.objects.select_related("author", "notification").order_by(
        "created_at", "id"
    )
    if customer_view:
        messages = messages.filter(direction__in=SHOWN_TO_CUSTOMER)
    return conversations.prefetch_related(
        Prefetch("messages", queryset=messages, to_attr="message_list")
    ).first()


def replies_to_deliver(*, limit: int = 100) -> QuerySet[ConversationMessage]:
    """Chat and social replies the integrating tool has not yet said it delivered, oldest
    first, with their conversation and customer."""
    return (
        ConversationMessage.objects.filter(
            direction=ConversationMessage.Direction.OUTBOUND,
            channel__in=["chat", "social"],
            delivered_at=None,
        )
        .select_related("conversation__customer")
        .order_by("created_at", "id")[:limit]
    )


def outbound_reply(public_id: UUID | str) -> ConversationMessage | None:
    """A reply to the customer, with its conversation and customer."""
    return (
        ConversationMessage.objects.select_related("conversation__customer")
        .filter(public_id=public_id, direction=ConversationMessage.Direction.OUTBOUND)
        .first()
    )


def _conversations_export(customer: Customer) -> list[dict[str, Any]]:
    conversations = customer.conversations.order_by("created_at", "id").prefetch_related(
        Prefetch("messages", queryset=ConversationMessage.objects.order_by("created_at", "id"))
    )
    return [
        {
            **_rows([conversation])[0],
            "messages": _rows(list(conversation.messages.all()), exclude=["conversation"]),
        }
        for conversation in conversations
    ]


def merges_into(customer: Customer) -> QuerySet[CustomerMerge]:
    return customer.merges.select_related("actor").order_by("-merged_at")


# --- Export ---------------------------------------------------------------------------------


def _rows(queryset: Iterable[Any], *, exclude: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Rows as plain dicts (Django's "python" serialisation), without the customer key."""
    hidden = {"customer", *exclude}
    return [
        {
            "id": row["pk"],
            **{name: value for name, value in row["fields"].items() if name not in hidden},
        }
        for row in serializers.serialize("python", queryset)
    ]


# Keys of the document this app writes itself: no section may take one.
_OWN_SECTIONS = frozenset(
    {
        "format_version",
        "exported_at",
        "customer",
        "identities",
        "consents",
        "touchpoints",
        "conversations",
        "merges",
        "notifications",
        "sign_ins",
        "held_by_other_apps",
    }
)


def register_export_section(
    name: str, handler: ExportSection, *, models: Iterable[str] = ()
) -> ExportSection:
    """Add ``name: handler(customer=...)`` to every data export (the right of access).

    Each app that holds data about customers registers one in its ``AppConfig.ready``; the
    handler returns plain JSON-ready data (dates may stay objects) read in a number of queries
    that does not grow with the customer's history. ``models`` are the labels of the rows it
    exports ("orders.Order"): rows of models pointing at the customer that no section covers
    are still exported raw under ``held_by_other_apps``, so nothing is left out by default.
    """
    if name in _OWN_SECTIONS or _export_sections.get(name, (handler,))[0] != handler:
        raise ValueError(f"The export already has a section {name!r}.")
    _export_sections[name] = (handler, frozenset(models))
    return handler


def unregister_export_section(name: str) -> None:
    _export_sections.pop(name, None)


def customer_export(customer: Customer, *, now: datetime) -> dict[str, Any]:
    """Everything held about the customer, as one JSON-ready document (dates as objects;
    encode with ``DjangoJSONEncoder``): this app's rows, then one section per app that
    registered one (orders with their lines, payments and returns; loyalty with its ledger...),
    then the rows of any other model pointing at the customer that no section covers."""
    profile_fields = [
        "first_name",
        "last_name",
        "email",
        "phone",
        "birthday",
        "preferred_store_code",
        "first_seen_channel",
        "time_zone",
        "created_at",
        "updated_at",
        "erased_at",
    ]
    document: dict[str, Any] = {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": now,
        "customer": {
            "public_id": str(customer.public_id),
            "has_account": customer.has_account,
            **{name: getattr(customer, name) for name in profile_fields},
        },
        "identities": _rows(customer.identities.order_by("created_at", "id")),
        "consents": _rows(consent_history(customer)),
        "touchpoints": _rows(customer.touchpoints.order_by("occurred_at", "id")),
        "conversations": _conversations_export(customer),
        "merges": _rows(merges_into(customer), exclude=["survivor"]),
        "notifications": _rows(customer.notifications.order_by("created_at", "id")),
        "sign_ins": list(
            customer.tokens.order_by("created_at", "id").values("channel", "created_at")
        ),
    }
    covered: set[str] = set()
    for name, (handler, models) in sorted(_export_sections.items()):
        document[name] = handler(customer=customer)
        covered |= models
    other_apps: dict[str, list[dict[str, Any]]] = {}
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        if model._meta.app_label == Customer._meta.app_label or model._meta.label in covered:
            continue
        rows = model._base_manager.filter(**{relation.field.name: customer})
        other_apps[model._meta.label] = _rows(rows.order_by("pk"), exclude=[relation.field.name])
    document["held_by_other_apps"] = other_apps
    return document
