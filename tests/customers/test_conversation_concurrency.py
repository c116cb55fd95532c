"""The helpdesk tool delivers one message twice at the same moment: it is recorded once
(real threads on PostgreSQL; issue 15, item 3)."""

import pytest

from customers import services
from customers.models import Conversation, ConversationMessage
from omni.core.errors import DomainError
from tests.concurrency import run_concurrently
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_message_delivered_twice_at_once_is_recorded_once():
    camille = CustomerFactory(email="camille@example.com")

    def deliver():
        return services.receive_message(
            customer=camille, channel="email", body="Where is it?", external_id="<m1@x>"
        )

    outcome = run_concurrently([deliver] * 4, refusal=DomainError)

    assert not outcome.crashed, outcome.summary(4)
    assert len(outcome.granted) == 4
    assert sum(received.created for received in outcome.granted) == 1
    assert ConversationMessage.objects.count() == 1
    assert Conversation.objects.count() == 1  # the others rolled theirs back
    assert len({received.message.pk for received in outcome.granted}) == 1


def test_two_first_messages_of_one_new_thread_at_once_open_one_conversation():
    camille = CustomerFactory(email="camille@example.com")

    def deliver(n):
        return lambda: services.receive_message(
            customer=camille,
            channel="chat",
            body=f"Message {n}",
            external_id=f"chat-{n}",
            thread_id="thread-42",
        )

    outcome = run_concurrently([deliver(n) for n in range(4)], refusal=DomainError)

    assert not outcome.crashed, outcome.summary(4)
    assert sum(received.created for received in outcome.granted) == 4
    conversation = Conversation.objects.get()
    assert conversation.thread_id == "thread-42"
    assert conversation.messages.count() == 4
