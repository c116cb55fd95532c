"""Service conversations: messages from any channel in one conversation per question, replies
through the transactional outbox on the channel the customer used, status that follows who
waits for whom, and a satisfaction rating when solved (issue 15, item 3)."""

import pytest

from customers import selectors, services
from customers.models import Conversation, ConversationMessage, Notification, Touchpoint
from omni.core.errors import Conflict, InvalidInput, InvalidRequest, InvalidTransition, NotFound
from tests.customers.factories import CustomerFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def camille():
    return CustomerFactory(first_name="Camille", email="camille@example.com")


@pytest.fixture
def agent():
    return StaffFactory(username="agent-lea")


def an_email(customer, body="Where is my order W-1?", **extra):
    return services.receive_message(
        customer=customer, channel="email", body=body, subject="Order W-1", **extra
    )


def test_a_first_message_opens_a_conversation_on_its_channel(camille):
    received = an_email(camille, external_id="mail-1")

    conversation = received.conversation
    assert received.created
    assert (conversation.customer, conversation.channel, conversation.status) == (
        camille,
        "email",
        "open",
    )
    assert conversation.subject == "Order W-1"
    assert received.message.direction == "inbound"


def test_a_redelivered_message_is_ignored(camille):
    first = an_email(camille, external_id="mail-1")

    again = an_email(camille, external_id="mail-1", body="Where is my order W-1? (resent)")

    assert not again.created
    assert again.message == first.message
    assert ConversationMessage.objects.count() == 1
    assert Conversation.objects.count() == 1


def test_the_same_external_id_on_another_channel_is_another_message(camille):
    an_email(camille, external_id="42")

    chat = services.receive_message(customer=camille, channel="chat", body="Hi", external_id="42")

    assert chat.created


def test_messages_of_one_thread_share_one_conversation(camille):
    first = an_email(camille, thread_id="thread-9", external_id="a")

    second = an_email(camille, thread_id="thread-9", external_id="b", body="Any news?")

    assert second.conversation == first.conversation
    assert first.conversation.messages.count() == 2


def test_a_message_for_another_customers_conversation_is_refused_and_changes_nothing(camille):
    conversation = an_email(camille).conversation
    hugo = CustomerFactory(email="hugo@example.com")

    with pytest.raises(Conflict):
        services.receive_message(
            customer=hugo,
            channel="email",
            body="Me too",
            conversation_id=str(conversation.public_id),
            external_id="mail-h",
        )

    assert ConversationMessage.objects.count() == 1
    assert not hugo.conversations.exists()


def test_another_customers_thread_is_refused_too(camille):
    an_email(camille, thread_id="thread-9")
    hugo = CustomerFactory(email="hugo@example.com")

    with pytest.raises(Conflict):
        an_email(hugo, thread_id="thread-9")

    assert not hugo.conversations.exists()


def test_an_unknown_conversation_is_not_found(camille):
    with pytest.raises(NotFound):
        an_email(camille, conversation_id="8d2f9a4c-0000-4000-8000-000000000000")

    assert not Conversation.objects.exists()


def test_an_empty_message_is_refused(camille):
    with pytest.raises(InvalidInput) as refused:
        services.receive_message(customer=camille, channel="fax", body="  ")

    assert set(refused.value.details) == {"channel", "body"}
    assert not Conversation.objects.exists()


def test_a_reply_to_an_email_goes_by_email_through_the_transactional_outbox(camille, agent):
    conversation = an_email(camille).conversation

    reply = services.reply_to_conversation(
        conversation=conversation, author=agent, body="It left today."
    )

    conversation.refresh_from_db()
    notification = reply.notification
    assert (reply.direction, reply.channel, reply.author) == ("outbound", "email", agent)
    assert (notification.channel, notification.kind, notification.status) == (
        "email",
        "transactional",
        "queued",
    )
    assert (notification.customer, notification.subject) == (camille, "Re: Order W-1")
    assert notification.body == "It left today."
    assert (conversation.status, conversation.owner) == ("waiting", agent)


def test_a_reply_needs_no_marketing_consent(camille, agent):
    """Camille never consented to e-mail marketing: the answer to her question still goes."""
    conversation = an_email(camille).conversation

    reply = services.reply_to_conversation(conversation=conversation, author=agent, body="Yes.")

    assert reply.notification.status == "queued"


def test_a_chat_reply_waits_for_the_chat_tool_to_deliver_it(camille, agent):
    conversation = services.receive_message(
        customer=camille, channel="chat", body="Hi"
    ).conversation

    reply = services.reply_to_conversation(conversation=conversation, author=agent, body="Hello!")

    assert reply.channel == "chat"
    assert reply.notification is None
    assert list(selectors.replies_to_deliver()) == [reply]
    services.mark_reply_delivered(message=reply, external_id="chat-out-1")
    assert list(selectors.replies_to_deliver()) == []


def test_a_reply_goes_on_the_channel_of_the_customers_latest_message(camille, agent):
    conversation = an_email(camille).conversation
    services.receive_message(
        customer=camille,
        channel="social",
        body="Also asked on Instagram",
        conversation_id=str(conversation.public_id),
    )

    reply = services.reply_to_conversation(conversation=conversation, author=agent, body="Seen.")

    assert reply.channel == "social"


def test_a_store_or_phone_question_is_answered_by_email(camille, agent):
    conversation = services.open_conversation(
        customer=camille, author=agent, subject="Size", note="Wants an L", channel="store"
    )

    reply = services.reply_to_conversation(conversation=conversation, author=agent, body="In!")

    assert (reply.channel, reply.notification.channel) == ("email", "email")


def test_without_an_email_address_a_written_answer_is_refused(agent):
    walk_in = CustomerFactory(email="", with_email_identity=False)
    conversation = services.open_conversation(
        customer=walk_in, author=agent, subject="Size", note="Wants an L", channel="store"
    )

    with pytest.raises(InvalidRequest):
        services.reply_to_conversation(conversation=conversation, author=agent, body="In!")

    assert conversation.messages.count() == 1
    assert not Notification.objects.exists()


def test_an_inbound_message_reopens_a_waiting_or_solved_conversation(camille, agent):
    conversation = an_email(camille).conversation
    services.reply_to_conversation(conversation=conversation, author=agent, body="Done.")
    services.solve_conversation(conversation=conversation, actor=agent, ask_rating=False)

    an_email(camille, conversation_id=str(conversation.public_id), body="Not received!")

    conversation.refresh_from_db()
    assert (conversation.status, conversation.solved_at) == ("open", None)


def test_a_note_changes_no_status_and_sends_nothing(camille, agent):
    conversation = an_email(camille).conversation

    services.add_note(conversation=conversation, author=agent, body="Carrier says Friday.")

    conversation.refresh_from_db()
    assert conversation.status == "open"
    assert not Notification.objects.exists()


def test_taking_a_conversation_makes_it_yours(camille, agent):
    conversation = an_email(camille).conversation

    services.assign_conversation(conversation=conversation, owner=agent)

    conversation.refresh_from_db()
    assert conversation.owner == agent


def test_solving_asks_for_a_rating_by_a_signed_link(camille, agent, client):
    conversation = an_email(camille).conversation

    services.solve_conversation(conversation=conversation, actor=agent)

    conversation.refresh_from_db()
    asked = Notification.objects.get(topic="customers.conversation_csat")
    assert conversation.status == "solved"
    assert conversation.solved_at is not None
    assert asked.kind == "transactional"
    assert asked.context["rating_url"] in asked.body


def test_a_rating_is_kept_on_the_conversation_and_as_a_touchpoint(camille, agent):
    conversation = an_email(camille).conversation
    services.solve_conversation(conversation=conversation, actor=agent, ask_rating=False)

    services.rate_conversation(conversation=conversation, rating=4, comment=" Quick! ")

    conversation.refresh_from_db()
    touchpoint = Touchpoint.objects.get(customer=camille)
    assert (conversation.csat_rating, conversation.csat_comment) == (4, "Quick!")
    assert touchpoint.kind == "support_contact"
    assert touchpoint.properties["csat"] == 4


def test_a_rating_out_of_range_or_before_solving_is_refused(camille, agent):
    conversation = an_email(camille).conversation

    with pytest.raises(InvalidTransition):
        services.rate_conversation(conversation=conversation, rating=5)
    services.solve_conversation(conversation=conversation, actor=agent, ask_rating=False)
    with pytest.raises(InvalidInput):
        services.rate_conversation(conversation=conversation, rating=6)

    conversation.refresh_from_db()
    assert conversation.csat_rating is None
    assert not Touchpoint.objects.exists()


def test_a_forged_rating_link_is_not_found(camille):
    with pytest.raises(NotFound):
        services.conversation_for_csat_token("forged")


def test_the_rating_page_records_the_customers_rating(camille, agent, client):
    conversation = an_email(camille).conversation
    services.solve_conversation(conversation=conversation, actor=agent)
    url = Notification.objects.get(topic="customers.conversation_csat").context["rating_url"]
    path = url.removeprefix("http://localhost:8000")

    shown = client.get(path)
    answered = client.post(path, {"rating": "5", "comment": "Great"})

    conversation.refresh_from_db()
    assert shown.status_code == 200
    assert conversation.csat_rating == 5
    assert answered.status_code == 200
    assert "5 out of 5" in answered.content.decode()


def test_a_bad_rating_link_shows_a_page_and_records_nothing(client):
    response = client.post("/support/rate/forged/", {"rating": "5"})

    assert response.status_code == 404
    assert not Touchpoint.objects.exists()
