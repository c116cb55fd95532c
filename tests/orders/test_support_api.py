"""The helpdesk or chat tool's API: customers' messages in (found by e-mail or phone, one
conversation per question, redeliveries ignored, orders linked), chat replies out, each with
an integration token (issue 15, item 3)."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from customers import services as customer_services
from customers.models import Conversation, ConversationMessage, Customer
from customers.selectors import customer_export
from inventory.integrations import issue_integration_token
from orders.models import ConversationOrder
from tests.customers.factories import CustomerFactory
from tests.inventory.factories import UserFactory
from tests.orders.test_fulfilment_api import delivery_order

pytestmark = pytest.mark.django_db

INBOUND = "/api/v1/support/messages"
OUTBOUND = "/api/v1/support/outbound"
HELPDESK_PERMISSIONS = [
    "customers.add_conversationmessage",
    "customers.view_conversationmessage",
    "customers.change_conversationmessage",
]


def helpdesk_client(permissions=HELPDESK_PERMISSIONS) -> APIClient:
    user = UserFactory(permissions=permissions)
    _, raw = issue_integration_token(user=user, name="Helpdesk")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


@pytest.fixture
def helpdesk(db) -> APIClient:
    return helpdesk_client()


@pytest.fixture
def camille(db) -> Customer:
    """Known by her e-mail identity, as every profile with an address is."""
    return CustomerFactory(first_name="Camille", email="camille@example.com")


def an_email(**extra) -> dict:
    return {
        "email": "Camille@Example.com",
        "channel": "email",
        "subject": "My jacket",
        "body": "Where is my jacket?",
        "external_id": "mail-1",
        **extra,
    }


def test_without_credentials_the_call_is_refused_with_401(camille):
    response = APIClient().post(INBOUND, an_email(), format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"not_authenticated", "authentication_failed"}
    assert not Conversation.objects.exists()


def test_without_the_permission_the_call_is_refused_with_403(camille):
    response = helpdesk_client(permissions=[]).post(INBOUND, an_email(), format="json")

    assert response.status_code == 403
    assert not Conversation.objects.exists()


def test_an_email_opens_a_conversation_of_the_customer_found_by_their_address(helpdesk, camille):
    response = helpdesk.post(INBOUND, an_email(), format="json")

    assert response.status_code == 201, response.json()
    conversation = Conversation.objects.get()
    assert conversation.customer == camille
    assert (conversation.channel, conversation.status, conversation.subject) == (
        "email",
        "open",
        "My jacket",
    )
    assert response.json()["conversation"]["id"] == str(conversation.public_id)
    assert response.json()["recorded"] is True


def test_a_customer_is_found_by_a_phone_written_any_way(helpdesk, camille):
    camille.phone = "+33612345678"
    camille.save()
    camille.identities.create(kind="phone", value="+33612345678")

    response = helpdesk.post(
        INBOUND,
        {"phone": "06 12 34 56 78", "channel": "social", "body": "Hello", "external_id": "dm-1"},
        format="json",
    )

    assert response.status_code == 201
    assert Conversation.objects.get().customer == camille


def test_an_unknown_sender_gets_a_profile_of_their_own(helpdesk):
    response = helpdesk.post(INBOUND, an_email(email="new@example.com"), format="json")

    assert response.status_code == 201
    assert Customer.objects.get(email="new@example.com").conversations.count() == 1


def test_a_redelivered_message_is_ignored(helpdesk, camille):
    helpdesk.post(INBOUND, an_email(), format="json")

    again = helpdesk.post(INBOUND, an_email(), format="json")

    assert again.status_code == 200
    assert again.json()["recorded"] is False
    assert ConversationMessage.objects.count() == 1


def test_a_message_for_another_customers_conversation_is_refused(helpdesk, camille):
    theirs = helpdesk.post(INBOUND, an_email(), format="json").json()["conversation"]["id"]

    response = helpdesk.post(
        INBOUND,
        an_email(email="hugo@example.com", external_id="mail-2", conversation=theirs),
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert "another customer" in response.json()["error"]["message"]
    assert ConversationMessage.objects.count() == 1
    assert not Customer.objects.filter(email="hugo@example.com", conversations__isnull=False)


def test_no_address_is_a_validation_error(helpdesk):
    response = helpdesk.post(INBOUND, {"channel": "email", "body": "Hi"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_the_orders_a_message_is_about_are_linked(helpdesk, shop, camille):
    order = delivery_order(camille)

    response = helpdesk.post(INBOUND, an_email(order_numbers=[order.number]), format="json")

    assert response.status_code == 201
    assert ConversationOrder.objects.get().order == order


def test_an_order_of_another_customer_is_refused_and_nothing_is_recorded(helpdesk, shop, camille):
    hugo = customer_services.resolve_customer(
        identities=[("email", "hugo@example.com")], cause="test"
    ).customer
    hugos = delivery_order(hugo)

    response = helpdesk.post(INBOUND, an_email(order_numbers=[hugos.number]), format="json")

    assert response.status_code == 400
    assert not ConversationMessage.objects.exists()


def test_chat_replies_are_fetched_and_said_delivered(helpdesk, camille):
    conversation = customer_services.receive_message(
        customer=camille, channel="chat", body="Hi", external_id="c-1"
    ).conversation
    reply = customer_services.reply_to_conversation(
        conversation=conversation, author=UserFactory(), body="Hello Camille"
    )

    listed = helpdesk.get(OUTBOUND)
    delivered = helpdesk.post(
        f"{OUTBOUND}/{reply.public_id}/delivered", {"external_id": "c-out-1"}, format="json"
    )

    assert listed.status_code == 200
    assert [(m["id"], m["body"]) for m in listed.json()] == [
        (str(reply.public_id), "Hello Camille")
    ]
    assert delivered.status_code == 200
    assert helpdesk.get(OUTBOUND).json() == []


def test_a_delivered_reply_under_an_id_another_message_has_is_refused(helpdesk, camille):
    conversation = customer_services.receive_message(
        customer=camille, channel="chat", body="Hi", external_id="c-1"
    ).conversation
    reply = customer_services.reply_to_conversation(
        conversation=conversation, author=UserFactory(), body="Hello Camille"
    )

    refused = helpdesk.post(
        f"{OUTBOUND}/{reply.public_id}/delivered", {"external_id": "c-1"}, format="json"
    )

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "conflict"
    reply.refresh_from_db()
    assert (reply.delivered_at, reply.external_id) == (None, "")


def test_the_outbound_list_reads_in_a_bounded_number_of_queries(
    helpdesk, camille, django_assert_max_num_queries
):
    agent = UserFactory()
    for n in range(5):
        conversation = customer_services.receive_message(
            customer=camille, channel="chat", body="Hi", external_id=f"c-{n}"
        ).conversation
        customer_services.reply_to_conversation(conversation=conversation, author=agent, body="Yo")

    with django_assert_max_num_queries(8):
        response = helpdesk.get(OUTBOUND)

    assert len(response.json()) == 5


def test_the_data_export_holds_the_conversation_and_the_orders_it_is_about(helpdesk, shop, camille):
    order = delivery_order(camille)
    helpdesk.post(INBOUND, an_email(order_numbers=[order.number]), format="json")
    conversation = Conversation.objects.get()

    document = customer_export(camille, now=timezone.now())

    assert [c["subject"] for c in document["conversations"]] == ["My jacket"]
    assert document["conversations"][0]["messages"][0]["body"] == "Where is my jacket?"
    assert document["orders"]["orders"][0]["conversations"] == [str(conversation.public_id)]
