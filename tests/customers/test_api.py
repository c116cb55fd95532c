"""The storefront API for customers: status codes, the one error shape, permissions and
bounded query counts."""

from datetime import timedelta

import pytest
import yaml
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import Consent, Customer, StorefrontKey, Touchpoint
from customers.services import revoke_storefront_key
from omni.core.channels import Channel
from tests.customers.factories import (
    ConsentFactory,
    CustomerFactory,
    IdentityFactory,
    account_holder,
    storefront_key,
)

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-customer-password-1"


def error_code(response) -> str:
    return response.json()["error"]["code"]


def an_event(**fields) -> dict:
    return {
        "type": "product_view",
        "occurred_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "anonymous_id": "web-visitor-1",
        **fields,
    }


# --- Authentication ---------------------------------------------------------------------


def test_a_call_without_an_api_key_is_not_authenticated():
    response = APIClient().post("/api/v1/customers/sign-in", {}, format="json")

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


def test_an_unknown_or_revoked_api_key_is_refused(web_key):
    revoke_storefront_key(key=StorefrontKey.objects.get())
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=web_key)

    response = client.get("/api/v1/customers/me")

    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"


def test_my_endpoints_need_a_signed_in_customer(storefront):
    response = storefront.get("/api/v1/customers/me")

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


def test_a_wrong_customer_token_is_refused(web_key):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=web_key, HTTP_AUTHORIZATION="Bearer ct_made-up")

    response = client.get("/api/v1/customers/me")

    assert response.status_code == 401


def test_a_staff_session_is_not_a_customer(admin_client):
    response = admin_client.get("/api/v1/customers/me")

    assert response.status_code == 401


# --- Sign-up, sign-in, sign-out -----------------------------------------------------------


def test_sign_in_with_the_right_password_returns_a_token(storefront):
    account_holder("camille@example.com", PASSWORD)

    response = storefront.post(
        "/api/v1/customers/sign-in",
        {"email": "CAMILLE@example.com", "password": PASSWORD},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["token"].startswith("ct_")


@pytest.mark.parametrize("email", ["camille@example.com", "nobody@example.com", "not-an-email"])
def test_a_wrong_password_or_unknown_e_mail_get_the_same_answer(storefront, email):
    account_holder("camille@example.com", PASSWORD)

    response = storefront.post(
        "/api/v1/customers/sign-in", {"email": email, "password": "wrong-password"}, format="json"
    )

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "invalid_credentials",
        "message": "Wrong e-mail or password.",
        "details": {},
    }


def test_signing_in_from_a_guest_browser_merges_the_guest_profile_and_its_events(storefront):
    account = account_holder("camille@example.com", PASSWORD)
    guest = CustomerFactory(email="", with_email_identity=False)
    IdentityFactory(customer=guest, kind="anonymous", value="web-guest-1")
    Touchpoint.objects.create(
        customer=guest, kind="add_to_cart", channel="web", occurred_at=timezone.now()
    )
    Customer.objects.filter(pk=account.pk).update(created_at=timezone.now() - timedelta(days=9))

    response = storefront.post(
        "/api/v1/customers/sign-in",
        {"email": "camille@example.com", "password": PASSWORD, "anonymous_id": "web-guest-1"},
        format="json",
    )

    assert response.status_code == 200
    assert Customer.objects.get() == account
    assert account.touchpoints.count() == 1


def test_after_sign_out_the_token_no_longer_works(signed_in):
    client = signed_in(CustomerFactory())

    assert client.post("/api/v1/customers/me/sign-out").status_code == 204

    assert client.get("/api/v1/customers/me").status_code == 401


# --- My profile ---------------------------------------------------------------------------


def test_my_profile_is_served_in_a_bounded_number_of_queries(
    signed_in, django_assert_max_num_queries
):
    customer = CustomerFactory(first_name="Hugo")
    client = signed_in(customer)

    with django_assert_max_num_queries(2):
        response = client.get("/api/v1/customers/me")

    assert response.json()["first_name"] == "Hugo"
    assert response.json()["id"] == str(customer.public_id)
    assert "password" not in response.json()


def test_changing_my_phone_normalises_it_and_makes_it_an_identity(signed_in):
    customer = CustomerFactory()

    response = signed_in(customer).patch(
        "/api/v1/customers/me",
        {"phone": "06 45 67 89 01", "time_zone": "Europe/Paris"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["phone"] == "+33645678901"
    assert customer.identities.filter(kind="phone", value="+33645678901").exists()


def test_an_unparseable_phone_or_unknown_time_zone_is_a_400_that_changes_nothing(signed_in):
    customer = CustomerFactory(phone="+33612345678")

    bad_phone = signed_in(customer).patch("/api/v1/customers/me", {"phone": "12"}, format="json")
    bad_zone = signed_in(customer).patch(
        "/api/v1/customers/me", {"time_zone": "Mars/Olympus"}, format="json"
    )

    assert (bad_phone.status_code, bad_zone.status_code) == (400, 400)
    assert list(bad_phone.json()["error"]["details"]) == ["phone"]
    assert list(bad_zone.json()["error"]["details"]) == ["time_zone"]
    customer.refresh_from_db()
    assert (customer.phone, customer.time_zone) == ("+33612345678", "")


def test_taking_another_customers_e_mail_is_a_conflict(signed_in):
    owner = CustomerFactory(email="taken@example.com")
    customer = CustomerFactory(email="mine@example.com")

    response = signed_in(customer).patch(
        "/api/v1/customers/me", {"email": "taken@example.com"}, format="json"
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert list(error["details"]) == ["email"]
    customer.refresh_from_db()
    assert customer.email == "mine@example.com"
    assert not customer.identities.filter(kind="email", value="taken@example.com").exists()
    assert owner.identities.filter(kind="email", value="taken@example.com").exists()


# --- My consents --------------------------------------------------------------------------


def test_my_consents_show_the_current_state_of_each_channel_and_purpose(
    signed_in, django_assert_max_num_queries
):
    customer = CustomerFactory()
    ConsentFactory(customer=customer, channel="sms", purpose="marketing", granted=True)
    client = signed_in(customer)

    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/customers/me/consents")

    granted = [(c["channel"], c["purpose"]) for c in response.json() if c["granted"]]
    assert granted == [("sms", "marketing")]


def test_changing_my_consents_records_the_request_as_evidence(signed_in):
    customer = CustomerFactory()

    response = signed_in(customer).patch(
        "/api/v1/customers/me/consents",
        {"consents": [{"channel": "email", "purpose": "marketing", "granted": True}]},
        format="json",
        headers={"User-Agent": "OmniShop/4.2 (iPhone)"},
        REMOTE_ADDR="198.51.100.23",
    )

    assert response.status_code == 200
    consent = Consent.objects.get()
    assert (consent.ip_address, consent.user_agent, consent.source_channel) == (
        "198.51.100.23",
        "OmniShop/4.2 (iPhone)",
        "web",
    )


def test_an_unknown_consent_channel_is_a_400_that_records_nothing(signed_in):
    response = signed_in(CustomerFactory()).patch(
        "/api/v1/customers/me/consents",
        {"consents": [{"channel": "pigeon", "purpose": "marketing", "granted": True}]},
        format="json",
    )

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert "consents" in response.json()["error"]["details"]
    assert not Consent.objects.exists()


# --- My data ------------------------------------------------------------------------------


def test_my_data_export_is_a_json_attachment(signed_in):
    customer = CustomerFactory(first_name="Chloé")

    response = signed_in(customer).get("/api/v1/customers/me/export")

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert response.json()["customer"]["first_name"] == "Chloé"


def test_erasure_through_the_api_anonymises_me_and_signs_me_out(signed_in):
    customer = CustomerFactory()
    client = signed_in(customer)

    response = client.post("/api/v1/customers/me/erasure")

    assert response.status_code == 200
    assert response.json()["customer_id"] == str(customer.public_id)
    customer.refresh_from_db()
    assert customer.erased_at is not None
    assert client.get("/api/v1/customers/me").status_code == 401


# --- Events -------------------------------------------------------------------------------


def test_a_batch_with_a_bad_event_stores_the_rest_and_reports_it_by_index(storefront):
    response = storefront.post(
        "/api/v1/events",
        {"events": [an_event(), an_event(occurred_at=None), an_event(type="search")]},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["duplicates"]) == (2, 0)
    assert body["rejected"] == [
        {"index": 1, "errors": {"occurred_at": [body["rejected"][0]["errors"]["occurred_at"][0]]}}
    ]
    assert Touchpoint.objects.count() == 2


def test_a_batch_of_only_bad_events_is_a_400(storefront):
    response = storefront.post(
        "/api/v1/events", {"events": [an_event(occurred_at=None)]}, format="json"
    )

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert response.json()["error"]["details"]["rejected"][0]["index"] == 0


def test_a_batch_over_500_is_a_400_that_stores_nothing(storefront):
    response = storefront.post("/api/v1/events", {"events": [an_event()] * 501}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["events"]
    assert not Touchpoint.objects.exists()


def test_a_full_batch_runs_a_bounded_number_of_queries(storefront, django_assert_max_num_queries):
    events = [an_event(event_id=f"e-{i}", anonymous_id=f"v-{i % 50}") for i in range(500)]

    with django_assert_max_num_queries(8):
        response = storefront.post("/api/v1/events", {"events": events}, format="json")

    assert response.json()["accepted"] == 500


def test_events_sent_for_a_signed_in_customer_are_theirs(signed_in):
    customer = CustomerFactory()

    signed_in(customer).post(
        "/api/v1/events", {"events": [an_event(anonymous_id="")]}, format="json"
    )

    assert customer.touchpoints.count() == 1


def test_the_channel_of_an_event_is_the_channel_of_the_key(db):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=storefront_key(Channel.ANDROID))

    client.post("/api/v1/events", {"events": [an_event()]}, format="json")

    assert Touchpoint.objects.get().channel == "android"


# --- Schema -------------------------------------------------------------------------------


def test_every_customer_endpoint_is_in_the_openapi_schema(client):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)

    assert {
        "/api/v1/customers/sign-up",
        "/api/v1/customers/sign-up/confirm",
        "/api/v1/customers/sign-in",
        "/api/v1/customers/me",
        "/api/v1/customers/me/sign-out",
        "/api/v1/customers/me/consents",
        "/api/v1/customers/me/export",
        "/api/v1/customers/me/erasure",
        "/api/v1/events",
    } <= set(schema["paths"])
    assert set(schema["components"]["securitySchemes"]) >= {"storefrontKey", "customerToken"}


def test_signing_in_with_another_accounts_anonymous_id_does_not_merge_the_accounts(storefront):
    account_holder("camille@example.com", PASSWORD)
    other = account_holder("hugo@example.com", PASSWORD)
    IdentityFactory(customer=other, kind="anonymous", value="web-hugos-laptop")

    response = storefront.post(
        "/api/v1/customers/sign-in",
        {"email": "camille@example.com", "password": PASSWORD, "anonymous_id": "web-hugos-laptop"},
        format="json",
    )

    assert response.status_code == 200
    assert Customer.objects.count() == 2
    assert other.identities.filter(value="web-hugos-laptop").exists()
