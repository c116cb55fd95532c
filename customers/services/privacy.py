"""The rights of the person: erasure (and its hooks), and exports staff take."""

import json
from datetime import datetime
from typing import Any, Protocol, TypeVar

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, F, Q, QuerySet
from django.db.models.functions import Cast, JSONObject
from django.utils import timezone

from customers.locks import lock_customer
from customers.models import (
    ConversationMessage,
    Customer,
    CustomerExport,
    ErasureRecord,
    Identity,
    SignUpRequest,
    Touchpoint,
)
from customers.selectors import current_consents, customer_export
from customers.services.consents import ConsentDecision, record_consents
from customers.services.resolution import ANONYMOUS_KINDS
from omni.core.channels import Channel
from omni.core.errors import InvalidRequest


class ErasureHandler(Protocol):
    """Called in every erasure, inside its transaction, before the profile is anonymised."""

    def __call__(self, *, customer: Customer) -> None: ...


ErasureHandlerT = TypeVar("ErasureHandlerT", bound=ErasureHandler)
_erasure_handlers: list[ErasureHandler] = []


# --- Hooks ----------------------------------------------------------------------------------


def register_erasure_handler(handler: ErasureHandlerT) -> ErasureHandlerT:
    """Call ``handler(customer=...)`` in every erasure, before the profile is anonymised."""
    if handler not in _erasure_handlers:
        _erasure_handlers.append(handler)
    return handler


def unregister_erasure_handler(handler: ErasureHandler) -> None:
    if handler in _erasure_handlers:
        _erasure_handlers.remove(handler)


# --- Erasure --------------------------------------------------------------------------------


@transaction.atomic
def erase_customer(
    *, customer: Customer, requested_via: str, actor: User | None = None
) -> ErasureRecord:
    """Erase the person's data: the profile is anonymised, identities, service conversations (with
    their messages) and sign-ins are deleted, touchpoints (also those still unlinked from one of
    their anonymous ids) lose their link and personal fields (kept as anonymous events for totals),
    consent evidence loses IP and user agent and every consent is withdrawn, merge causes and the
    admin's history of their rows lose the names and values they showed. Every registered handler
    clears its app's personal data first. Rows other apps must keep (orders, points ledgers) stay,
    pointing at the anonymised profile; they are counted in the ``ErasureRecord``. Erasing again
    returns the first record."""
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
        "customers.Touchpoint": _anonymise_touchpoints(
            Touchpoint.objects.filter(
                Q(customer=customer) | Q(customer=None, anonymous_id__in=anonymous_ids)
            )
        ),
        "customers.Identity": customer.identities.all().delete()[0],
        # Messages go with their conversations; the CSAT touchpoints stay anonymous above.
        "customers.ConversationMessage": ConversationMessage.objects.filter(
            conversation__customer=customer
        ).delete()[0],
        "customers.Conversation": customer.conversations.all().delete()[0],
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


def _anonymise_touchpoints(touchpoints: QuerySet[Touchpoint]) -> int:
    """Unlink the events and clear their personal fields. A survey answer keeps its scale and
    score (not the comment nor the order): the satisfaction report's totals do not move when
    someone is erased, and no one can be told from them."""
    cleared: dict[str, Any] = {
        "customer": None,
        "anonymous_id": "",
        "event_id": "",
        "url": "",
        "utm_term": "",
        "utm_content": "",
    }
    surveys = touchpoints.filter(kind=Touchpoint.Kind.SURVEY_ANSWER)
    answers = surveys.update(
        **cleared,
        properties=JSONObject(scale=F("properties__scale"), score=F("properties__score")),
    )
    return answers + touchpoints.exclude(kind=Touchpoint.Kind.SURVEY_ANSWER).update(
        **cleared, properties={}
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
