"""One-click unsubscribe: a signed link in every marketing message (and the List-Unsubscribe
headers on e-mail) that withdraws the consent it names; a forged link changes nothing."""

from urllib.parse import urlsplit

import pytest
from django.core import mail, signing

from customers.models import Consent, ContactChannel, Notification
from customers.notifications import MemoryBackend, deliver, unsubscribe_url
from customers.notifications.links import OPEN_SALT, UNSUBSCRIBE_SALT
from customers.selectors import may_contact
from customers.services import merge_customers
from tests.customers.outbox import consenting_customer, marketing

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_a_marketing_e_mail_carries_the_one_click_headers(settings):
    settings.PUBLIC_BASE_URL = "https://omni.example.com"
    camille = consenting_customer()
    deliver(notification_id=marketing(camille, "spring:camille").pk)

    headers = mail.outbox[0].extra_headers
    link = headers["List-Unsubscribe"].strip("<>")
    assert link.startswith("https://omni.example.com/unsubscribe/")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.outbox[0].message()["List-Unsubscribe"] == f"<{link}>"


def test_transactional_e_mail_has_no_unsubscribe_header():
    camille = consenting_customer()
    notification = Notification.objects.create(
        customer=camille,
        channel="email",
        kind="transactional",
        topic="orders.placed",
        body="Thank you.",
        idempotency_key="order-placed:1",
    )

    deliver(notification_id=notification.pk)

    assert "List-Unsubscribe" not in mail.outbox[0].extra_headers


def test_an_sms_backend_gets_the_link_to_show(memory_backends):
    camille = consenting_customer("sms", phone="+33612345678")
    deliver(notification_id=marketing(camille, "spring:sms", channel="sms").pk)

    assert "/unsubscribe/" in MemoryBackend.sent[0].unsubscribe_url


def test_the_link_names_the_customer_by_public_id_only():
    camille = consenting_customer()
    token = path_of(unsubscribe_url(camille, "email", "marketing")).split("/")[2]

    assert signing.loads(token, salt=UNSUBSCRIBE_SALT) == {
        "c": str(camille.public_id),
        "ch": "email",
        "p": "marketing",
    }


def test_following_the_link_asks_before_it_changes_anything(client):
    camille = consenting_customer()

    page = client.get(path_of(unsubscribe_url(camille, "email", "marketing")))

    assert page.status_code == 200
    assert b'name="List-Unsubscribe" value="One-Click"' in page.content
    assert may_contact(camille, "email", "marketing")


def test_one_click_post_withdraws_the_consent_and_a_replay_changes_nothing(client):
    camille = consenting_customer("email", "sms", phone="+33612345678")
    url = path_of(unsubscribe_url(camille, "email", "marketing"))

    first = client.post(url, {"List-Unsubscribe": "One-Click"}, HTTP_USER_AGENT="MailClient/1")
    again = client.post(url, {"List-Unsubscribe": "One-Click"})

    assert first.status_code == again.status_code == 200
    assert not may_contact(camille, "email", "marketing")
    assert may_contact(camille, "sms", "marketing")  # only what the link named
    withdrawn = Consent.objects.get(customer=camille, channel="email", granted=False)
    assert (withdrawn.source_channel, withdrawn.user_agent) == ("web", "MailClient/1")
    assert Consent.objects.filter(customer=camille, granted=False).count() == 1
    assert marketing(camille, "shoes:camille").suppression_reason == "no_consent"


def test_the_post_needs_no_csrf_token(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    camille = consenting_customer()

    response = strict.post(path_of(unsubscribe_url(camille, "email", "marketing")))

    assert response.status_code == 200
    assert not may_contact(camille, "email", "marketing")


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_or_foreign_token_gets_400_and_changes_nothing(client, method):
    camille = consenting_customer()
    good = path_of(unsubscribe_url(camille, "email", "marketing")).split("/")[2]
    forged = signing.dumps({"c": str(camille.public_id), "ch": "email", "p": "marketing"})
    other_purpose = signing.dumps({"n": "0" * 32}, salt=OPEN_SALT)

    for token in (good[:-2] + "xx", forged, other_purpose, "nonsense"):
        response = getattr(client, method)(f"/unsubscribe/{token}/")
        assert response.status_code == 400, token
        assert b"not valid" in response.content

    assert Consent.objects.filter(customer=camille).count() == 1
    assert may_contact(camille, "email", "marketing")


def test_a_link_sent_before_a_merge_unsubscribes_the_merged_profile(client):
    survivor = consenting_customer()
    merged = consenting_customer()
    url = path_of(unsubscribe_url(merged, ContactChannel.EMAIL, "marketing"))
    merge_customers(customer=survivor, other=merged, cause="same person")

    assert client.post(url).status_code == 200
    assert not may_contact(survivor, "email", "marketing")
