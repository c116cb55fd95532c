"""A question asked on one channel that any agent or clerk can see and answer on another: the
support admin (queue, conversation page with the customer's picture, reply, take, solve) and
the clerk's customer page (open conversations, store notes, replies) (issue 15, item 3)."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from customers import services as customer_services
from customers.models import Conversation, Notification
from inventory.integrations import issue_integration_token
from tests.customers.factories import CustomerFactory
from tests.inventory.factories import UserFactory
from tests.omni.test_clerk import clerk_at, pickup_order, store

pytestmark = pytest.mark.django_db

QUEUE = "/admin/customers/conversation/"


@pytest.fixture
def rivoli(db):
    return store("PAR-RIV", "Paris Rivoli")


@pytest.fixture
def camille(db):
    return CustomerFactory(first_name="Camille", last_name="Martin", email="camille@example.com")


def page_of(conversation: Conversation) -> str:
    return f"{QUEUE}{conversation.pk}/change/"


def customer_url(customer) -> str:
    return f"/clerk/customers/{customer.public_id}/"


def agent(*, may_reply: bool = True):
    """A support agent: staff who may view and change conversations (and reply, if told)."""
    user = UserFactory(is_staff=True)
    names = ["view_conversation", "change_conversation", "view_customer"]
    if may_reply:
        names.append("reply_conversation")
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="customers", codename__in=names)
    )
    return user


def by_email(customer, body="Where is my jacket?", **extra) -> Conversation:
    return customer_services.receive_message(
        customer=customer, channel="email", body=body, subject="My jacket", **extra
    ).conversation


def test_a_question_by_email_answered_in_the_admin_is_seen_by_the_clerk(client, rivoli, camille):
    helpdesk_user = UserFactory(permissions=["customers.add_conversationmessage"])
    _, token = issue_integration_token(user=helpdesk_user, name="Helpdesk")
    helpdesk = APIClient()
    helpdesk.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    sent = helpdesk.post(
        "/api/v1/support/messages",
        {
            "email": "camille@example.com",
            "channel": "email",
            "subject": "My jacket",
            "body": "Where is my jacket?",
            "external_id": "<m1@mail.example.com>",
        },
        format="json",
    )
    conversation = Conversation.objects.get()
    lea = agent()
    client.force_login(lea)

    page = client.get(page_of(conversation))
    answered = client.post(f"{QUEUE}{conversation.pk}/reply/", {"body": "It ships today."})
    client.force_login(clerk_at(rivoli))
    counter = client.get(customer_url(camille))

    assert sent.status_code == 201
    assert page.status_code == 200
    assert "Where is my jacket?" in page.content.decode()
    assert answered.status_code == 302
    reply = Notification.objects.get(topic="customers.conversation_reply")
    assert (reply.channel, reply.kind, reply.body) == ("email", "transactional", "It ships today.")
    conversation.refresh_from_db()
    assert (conversation.status, conversation.owner) == ("waiting", lea)
    section = counter.content.decode()
    assert 'id="conversations"' in section
    assert "My jacket" in section
    assert "It ships today." in section  # the last message
    assert "Waiting for the customer" in section


def test_an_agent_without_the_reply_permission_cannot_reply(client, camille):
    conversation = by_email(camille)
    client.force_login(agent(may_reply=False))

    page = client.get(page_of(conversation))
    refused = client.post(f"{QUEUE}{conversation.pk}/reply/", {"body": "Hi"})

    assert 'id="reply-form"' not in page.content.decode()
    assert refused.status_code == 403
    assert conversation.messages.count() == 1
    assert not Notification.objects.exists()


def test_the_conversation_page_shows_the_customers_orders_and_linked_ones(client, rivoli, camille):
    from tests.omni.test_clerk import jacket_in

    jacket_in(rivoli)
    order = pickup_order(camille, "PAR-RIV")
    conversation = by_email(camille)
    client.force_login(agent())

    client.post(f"{QUEUE}{conversation.pk}/link-orders/", {"numbers": order.number})
    page = client.get(page_of(conversation)).content.decode()

    assert conversation.order_links.get().order == order
    assert page.count(order.number) >= 2  # linked, and among her orders
    assert order.get_status_display() in page


def test_taking_and_solving_from_the_admin(client, camille):
    conversation = by_email(camille)
    lea = agent()
    client.force_login(lea)

    client.post(f"{QUEUE}{conversation.pk}/take/")
    client.post(f"{QUEUE}{conversation.pk}/solve/", {"ask_rating": "on"})

    conversation.refresh_from_db()
    assert (conversation.owner, conversation.status) == (lea, "solved")
    assert Notification.objects.filter(topic="customers.conversation_csat").exists()


@pytest.mark.parametrize("status", ["open", "waiting", "solved"])
def test_the_queue_filters_by_status(client, camille, status):
    by_email(camille, body="open one")
    waiting = by_email(CustomerFactory(), body="waiting one")
    customer_services.reply_to_conversation(conversation=waiting, author=agent(), body="Hi")
    solved = by_email(CustomerFactory(), body="solved one")
    customer_services.solve_conversation(conversation=solved, actor=None, ask_rating=False)
    client.force_login(agent())

    response = client.get(QUEUE, {"status__exact": status})

    assert [c.status for c in response.context["cl"].result_list] == [status]


def test_the_queue_finds_a_conversation_by_the_customers_phone(client, camille):
    camille.identities.create(kind="phone", value="+33612345678")
    mine = by_email(camille)
    by_email(CustomerFactory())
    client.force_login(agent())

    response = client.get(QUEUE, {"q": "06 12 34 56 78"})

    assert list(response.context["cl"].result_list) == [mine]


@pytest.mark.parametrize("conversations", [2, 12])
def test_the_queue_reads_in_a_bounded_number_of_queries(
    client, conversations, django_assert_max_num_queries
):
    for n in range(conversations):
        by_email(CustomerFactory(), body=f"Question {n}")
    client.force_login(agent())

    with django_assert_max_num_queries(12):
        response = client.get(QUEUE)

    assert len(response.context["cl"].result_list) == conversations


def test_a_clerk_records_a_question_from_the_counter_and_a_note_on_it(client, rivoli, camille):
    client.force_login(clerk_at(rivoli))

    client.post(
        f"{customer_url(camille)}conversations/note/",
        {"subject": "Wants the jacket in red", "body": "Call her when it is in."},
    )
    conversation = camille.conversations.get()
    client.post(
        f"{customer_url(camille)}conversations/note/",
        {"conversation": str(conversation.public_id), "body": "Asked the warehouse."},
    )

    assert (conversation.channel, conversation.status) == ("store", "open")
    assert [(m.direction, m.channel) for m in conversation.messages.all()] == [
        ("note", "store"),
        ("note", "store"),
    ]


def test_a_note_without_a_subject_for_a_new_question_is_refused(client, rivoli, camille):
    client.force_login(clerk_at(rivoli))

    response = client.post(f"{customer_url(camille)}conversations/note/", {"body": "Hm"})

    assert response.status_code == 400
    assert not camille.conversations.exists()


def test_a_clerk_with_the_permission_replies_from_the_customer_page(client, rivoli, camille):
    conversation = by_email(camille)
    clerk = clerk_at(rivoli)
    clerk.user_permissions.add(Permission.objects.get(codename="reply_conversation"))
    client.force_login(clerk)

    client.post(
        f"{customer_url(camille)}conversations/{conversation.public_id}/reply/",
        {"body": "We have it in store."},
    )

    conversation.refresh_from_db()
    assert conversation.status == "waiting"
    assert conversation.messages.last().notification.channel == "email"


def test_a_clerk_without_the_permission_cannot_reply(client, rivoli, camille):
    conversation = by_email(camille)
    client.force_login(clerk_at(rivoli))

    response = client.post(
        f"{customer_url(camille)}conversations/{conversation.public_id}/reply/", {"body": "Hi"}
    )

    assert response.status_code == 403
    assert conversation.messages.count() == 1


def test_another_customers_conversation_is_not_found_from_a_customer_page(client, rivoli, camille):
    hugos = by_email(CustomerFactory())
    client.force_login(clerk_at(rivoli))

    response = client.post(
        f"{customer_url(camille)}conversations/note/",
        {"conversation": str(hugos.public_id), "body": "Wrong page"},
    )

    assert response.status_code == 404
    assert hugos.messages.count() == 1
