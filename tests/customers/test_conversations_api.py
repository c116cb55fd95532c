"""A signed-in customer's service conversations through the storefront API: only their own,
never staff's internal notes; writing reopens (issue 15, item 3)."""

import pytest
from rest_framework.test import APIClient

from customers import services
from customers.models import ConversationMessage
from tests.api_clients import app_client
from tests.customers.factories import CustomerFactory, StaffFactory

pytestmark = pytest.mark.django_db

MINE = "/api/v1/customers/me/conversations"


@pytest.fixture
def camille():
    return CustomerFactory(first_name="Camille", email="camille@example.com")


@pytest.fixture
def hugo():
    return CustomerFactory(first_name="Hugo", email="hugo@example.com")


def question(customer, body="Where is my jacket?"):
    return services.receive_message(customer=customer, channel="email", body=body).conversation


def test_without_a_key_or_token_the_call_is_refused_with_401():
    response = APIClient().get(MINE)

    assert response.status_code == 401
    assert "error" in response.json()


def test_a_customer_sees_only_their_own_conversations(camille, hugo):
    mine = question(camille)
    question(hugo, body="Hugo's question")

    response = app_client(customer=camille).get(MINE)

    assert response.status_code == 200
    assert [c["id"] for c in response.json()] == [str(mine.public_id)]
    assert response.json()[0]["last_message"] == "Where is my jacket?"


def test_another_customers_conversation_is_not_found_and_cannot_be_written_to(camille, hugo):
    hugos = question(hugo)
    client = app_client(customer=camille)

    read = client.get(f"{MINE}/{hugos.public_id}")
    written = client.post(f"{MINE}/{hugos.public_id}/messages", {"body": "Hi"}, format="json")

    assert (read.status_code, written.status_code) == (404, 404)
    assert written.json()["error"]["code"] == "not_found"
    assert hugos.messages.count() == 1


def test_internal_notes_are_never_shown_to_the_customer(camille):
    conversation = question(camille)
    agent = StaffFactory()
    services.add_note(conversation=conversation, author=agent, body="Difficult customer")
    services.reply_to_conversation(conversation=conversation, author=agent, body="On its way.")

    client = app_client(customer=camille)
    detail = client.get(f"{MINE}/{conversation.public_id}").json()
    listed = client.get(MINE).json()

    assert [m["body"] for m in detail["messages"]] == ["Where is my jacket?", "On its way."]
    assert "Difficult" not in str(detail) + str(listed)
    assert listed[0]["status"] == "waiting"


def test_the_customer_asks_a_question_from_the_app(camille):
    response = app_client(channel="ios", customer=camille).post(
        MINE,
        {"subject": "Gift wrap", "body": "Can you wrap it?"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="ask-1",
    )

    assert response.status_code == 201
    assert response.json()["channel"] == "app"
    assert camille.conversations.get().subject == "Gift wrap"


def test_writing_reopens_a_conversation_waiting_for_the_customer(camille):
    conversation = question(camille)
    services.reply_to_conversation(conversation=conversation, author=StaffFactory(), body="Size?")

    response = app_client(customer=camille).post(
        f"{MINE}/{conversation.public_id}/messages", {"body": "L please"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["status"] == "open"
    assert [m["direction"] for m in response.json()["messages"]] == [
        "inbound",
        "outbound",
        "inbound",
    ]


def test_an_empty_message_is_refused_and_changes_nothing(camille):
    conversation = question(camille)

    response = app_client(customer=camille).post(
        f"{MINE}/{conversation.public_id}/messages", {"body": ""}, format="json"
    )

    assert response.status_code == 400
    assert ConversationMessage.objects.count() == 1


@pytest.mark.parametrize("conversations", [2, 12])
def test_the_list_and_a_conversation_read_in_a_bounded_number_of_queries(
    camille, conversations, django_assert_max_num_queries
):
    agent = StaffFactory()
    for n in range(conversations):
        conversation = question(camille, body=f"Question {n}")
        services.reply_to_conversation(conversation=conversation, author=agent, body="Answer")
    client = app_client(customer=camille)

    # The key, the token and its last use, then the rows.
    with django_assert_max_num_queries(6):
        listed = client.get(MINE)
    with django_assert_max_num_queries(7):
        client.get(f"{MINE}/{conversation.public_id}")

    assert len(listed.json()) == conversations
