"""Sign-up proves the e-mail address before it opens anything, and tells a caller nothing
about whether an address is known (issue 9, findings 1 and 2)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import Customer, SignUpRequest
from customers.services import (
    MAX_SIGN_UP_CONFIRM_ATTEMPTS,
    confirm_sign_up,
    purge_expired_sign_up_requests,
    request_sign_up,
    sign_up_token,
)
from omni.celery import app as celery_app
from omni.core.errors import DomainError
from tests.concurrency import run_concurrently
from tests.customers.factories import CustomerFactory, account_holder

pytestmark = pytest.mark.django_db

SIGN_UP = "/api/v1/customers/sign-up"
CONFIRM = "/api/v1/customers/sign-up/confirm"
SIGN_IN = "/api/v1/customers/sign-in"
PASSWORD = "a-long-customer-password-1"
ATTACKER_PASSWORD = "the-attackers-own-password-9"


@pytest.fixture(autouse=True)
def tasks_run_here():
    """The e-mail task runs in this process when the sign-up commits."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_eager_propagates = False


@pytest.fixture
def sign_up(storefront, django_capture_on_commit_callbacks):
    def send(email: str, password: str = PASSWORD, **fields):
        with django_capture_on_commit_callbacks(execute=True):
            return storefront.post(
                SIGN_UP, {"email": email, "password": password, **fields}, format="json"
            )

    return send


def link_token(message) -> str:
    return re.search(r"token=(\S+)", message.body).group(1)


# --- Finding 1: no profile is taken over ---------------------------------------------------


def test_signing_up_with_a_store_profiles_e_mail_gives_no_access_to_it(sign_up, storefront):
    store_customer = CustomerFactory(email="shopper@example.com", first_seen_channel="store")

    response = sign_up("shopper@example.com", ATTACKER_PASSWORD)

    assert response.status_code == 202
    assert "token" not in response.json()
    store_customer.refresh_from_db()
    assert not store_customer.has_account
    signing_in = storefront.post(
        SIGN_IN, {"email": "shopper@example.com", "password": ATTACKER_PASSWORD}, format="json"
    )
    assert signing_in.status_code == 401


def test_the_confirmation_link_goes_to_the_address_and_opens_the_store_profile(sign_up, storefront):
    store_customer = CustomerFactory(
        email="shopper@example.com", first_name="Louis", last_name="Bernard"
    )
    sign_up("shopper@example.com", first_name="Lou")
    (message,) = mail.outbox

    response = storefront.post(
        CONFIRM, {"token": link_token(message), "password": PASSWORD}, format="json"
    )

    assert message.to == ["shopper@example.com"]
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["customer"]["id"] == str(store_customer.public_id)
    assert (body["customer"]["first_name"], body["customer"]["last_name"]) == ("Lou", "Bernard")
    me = storefront.get("/api/v1/customers/me", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert me.json()["id"] == str(store_customer.public_id)


def test_a_new_address_gets_its_account_once_confirmed(sign_up, storefront):
    sign_up("New@Example.com", first_name="Léa", phone="0656789012")
    assert not Customer.objects.exists()

    response = storefront.post(
        CONFIRM, {"token": link_token(mail.outbox[0]), "password": PASSWORD}, format="json"
    )

    assert response.status_code == 201, response.json()
    customer = response.json()["customer"]
    assert (customer["email"], customer["phone"]) == ("new@example.com", "+33656789012")
    assert customer["first_seen_channel"] == "web"


def test_a_link_followed_without_the_sign_up_password_opens_nothing(sign_up, storefront):
    # The attacker signs up with the victim's address; the victim follows the link.
    victim = CustomerFactory(email="victim@example.com")
    sign_up("victim@example.com", ATTACKER_PASSWORD)

    response = storefront.post(
        CONFIRM, {"token": link_token(mail.outbox[0]), "password": PASSWORD}, format="json"
    )

    assert response.status_code == 401
    victim.refresh_from_db()
    assert not victim.has_account


def test_a_link_works_once(sign_up, storefront):
    sign_up("once@example.com")
    confirm = {"token": link_token(mail.outbox[0]), "password": PASSWORD}
    storefront.post(CONFIRM, confirm, format="json")

    again = storefront.post(CONFIRM, confirm, format="json")

    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_request"


def test_an_expired_link_opens_nothing(sign_up, storefront, settings):
    sign_up("late@example.com")
    token = link_token(mail.outbox[0])

    with time_machine.travel(timezone.now() + timedelta(hours=settings.SIGN_UP_LINK_HOURS + 1)):
        response = storefront.post(CONFIRM, {"token": token, "password": PASSWORD}, format="json")

    assert response.status_code == 400
    assert not Customer.objects.exists()


def test_a_forged_or_mangled_token_is_refused(sign_up, storefront):
    sign_up("forged@example.com")
    request = SignUpRequest.objects.get()

    response = storefront.post(
        CONFIRM, {"token": f"{request.public_id}:forged", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 400
    assert not Customer.objects.exists()


def test_a_link_dies_after_a_few_wrong_passwords_even_for_the_right_one(sign_up, storefront):
    sign_up("guess@example.com")
    token = link_token(mail.outbox[0])
    for _ in range(MAX_SIGN_UP_CONFIRM_ATTEMPTS):
        wrong = storefront.post(CONFIRM, {"token": token, "password": "guess-1234"}, format="json")
        assert wrong.status_code == 401

    right = storefront.post(CONFIRM, {"token": token, "password": PASSWORD}, format="json")

    assert right.status_code == 400
    assert not Customer.objects.exists()


# --- Finding 2: sign-up is not an oracle ---------------------------------------------------


def test_sign_up_answers_the_same_for_an_account_a_profile_and_an_unknown_address(sign_up):
    account_holder("member@example.com", PASSWORD)
    CustomerFactory(email="guest@example.com")

    answers = [
        sign_up(email, password)
        for email, password in [
            ("member@example.com", PASSWORD),  # the right password of the account
            ("member@example.com", "another-long-password-2"),
            ("guest@example.com", PASSWORD),
            ("nobody@example.com", PASSWORD),
        ]
    ]

    assert {response.status_code for response in answers} == {202}
    assert len({response.content for response in answers}) == 1
    assert len(mail.outbox) == 4


def test_the_owner_of_an_account_is_told_and_their_account_is_unchanged(sign_up):
    member = account_holder("member@example.com", PASSWORD)
    password_before = member.password

    sign_up("member@example.com", "another-long-password-2")

    (message,) = mail.outbox
    assert message.subject == "You already have an account"
    assert "token=" not in message.body
    member.refresh_from_db()
    assert member.password == password_before


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"password": "1234"}, "password"), ({"phone": "call me"}, "phone")],
)
def test_input_wrong_whatever_the_address_is_a_400_that_stores_and_sends_nothing(
    sign_up, fields, field
):
    response = sign_up("new@example.com", **{"password": PASSWORD, **fields})

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not SignUpRequest.objects.exists()
    assert mail.outbox == []


def test_expired_sign_up_requests_are_purged(sign_up):
    sign_up("old@example.com")
    sign_up("new@example.com")
    SignUpRequest.objects.filter(email="old@example.com").update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    assert purge_expired_sign_up_requests() == 1
    assert list(SignUpRequest.objects.values_list("email", flat=True)) == ["new@example.com"]


# --- Throttles on sign-up and sign-in -----------------------------------------------------


def from_address(web_key: str, address: str, forwarded: str = "") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_X_API_KEY=web_key)
    if forwarded:
        client.defaults["HTTP_X_FORWARDED_FOR"] = forwarded
    return client


def test_guessing_one_accounts_password_from_many_addresses_is_throttled(web_key, settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "sign_in.email": "3/hour"}
    account_holder("member@example.com", PASSWORD)
    guess = {"email": "member@example.com", "password": "wrong-guess"}
    for n in range(3):
        assert from_address(web_key, f"203.0.113.{n}").post(SIGN_IN, guess).status_code == 401

    response = from_address(web_key, "203.0.113.99").post(
        SIGN_IN, {"email": "MEMBER@example.com", "password": PASSWORD}
    )

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_a_forged_forwarded_for_header_does_not_reset_the_address_limit(web_key, settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "sign_in.address": "3/min"}
    for n in range(3):
        client = from_address(web_key, "198.51.100.7", forwarded=f"10.0.0.{n}")
        client.post(SIGN_IN, {"email": f"user{n}@example.com", "password": "x"})

    response = from_address(web_key, "198.51.100.7", forwarded="10.9.9.9").post(
        SIGN_IN, {"email": "other@example.com", "password": "x"}
    )

    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_address_it_saw_is_the_client(web_key, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "sign_in.address": "2/min"}
    proxy = "10.0.0.1"
    for _ in range(2):
        # Whatever the client wrote first, the proxy appended the address it saw.
        client = from_address(web_key, proxy, forwarded="1.2.3.4, 198.51.100.7")
        client.post(SIGN_IN, {"email": "a@example.com", "password": "x"})

    same_client = from_address(web_key, proxy, forwarded="5.6.7.8, 198.51.100.7")
    other_client = from_address(web_key, proxy, forwarded="198.51.100.8")

    assert same_client.post(SIGN_IN, {"email": "b@example.com", "password": "x"}).status_code == 429
    assert (
        other_client.post(SIGN_IN, {"email": "c@example.com", "password": "x"}).status_code == 401
    )


def test_sign_up_mails_to_one_address_are_limited(
    web_key, settings, django_capture_on_commit_callbacks
):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "sign_up.email": "2/hour"}
    payload = {"email": "victim@example.com", "password": PASSWORD}
    for n in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            from_address(web_key, f"203.0.113.{n}").post(SIGN_UP, payload, format="json")

    response = from_address(web_key, "203.0.113.50").post(SIGN_UP, payload, format="json")

    assert response.status_code == 429
    assert len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_two_links_for_one_address_confirmed_at_once_open_one_account(web_key):
    for _ in range(2):
        request_sign_up(email="twice@example.com", password=PASSWORD, channel="web")
    tokens = [sign_up_token(request) for request in SignUpRequest.objects.all()]

    def confirm(token):
        return lambda: confirm_sign_up(token=token, password=PASSWORD)

    outcome = run_concurrently([confirm(token) for token in tokens], refusal=DomainError)

    assert (len(outcome.granted), len(outcome.refused)) == (1, 1), outcome.summary(2)
    assert Customer.objects.filter(email="twice@example.com").count() == 1
