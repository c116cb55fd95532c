"""Service notes staff write about a customer (a call, a visit, a complaint)."""

from django.contrib.auth.models import User
from django.db import transaction

from customers.models import Customer, ServiceNote
from omni.core.errors import InvalidInput


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
