"""Service notes staff record (a call, a visit): internal notes of a solved conversation."""

import pytest

from customers.selectors import service_history
from customers.services import add_service_note
from omni.core.errors import InvalidInput
from tests.customers.factories import CustomerFactory, ServiceNoteFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_a_note_records_its_author_channel_and_topic():
    customer, clerk = CustomerFactory(), StaffFactory()

    note = add_service_note(
        customer=customer, author=clerk, via="phone", topic=" Late delivery ", text="Refunded."
    )

    assert (note.author, note.channel, note.direction, note.body) == (
        clerk,
        "phone",
        "note",
        "Refunded.",
    )
    assert (note.conversation.subject, note.conversation.status) == ("Late delivery", "solved")


def test_the_service_history_shows_the_latest_first():
    customer = CustomerFactory()
    first = ServiceNoteFactory(customer=customer)
    latest = ServiceNoteFactory(customer=customer)

    assert list(service_history(customer)) == [latest, first]


def test_an_empty_note_is_refused():
    with pytest.raises(InvalidInput) as refused:
        add_service_note(customer=CustomerFactory(), author=None, topic="", text=" ", via="fax")

    assert set(refused.value.details) == {"topic", "text", "via"}
