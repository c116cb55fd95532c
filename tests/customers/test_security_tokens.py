"""Customer tokens expire (idle and absolute), can be revoked everywhere, by staff and by a
password change, and never follow a merged profile to the survivor (issue 9 #15)."""

from datetime import timedelta

import pytest
import yaml
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.hashers import check_password, make_password
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from customers import services
from customers.models import Customer, CustomerToken
from customers.services import merge_customers
from tests.customers.factories import CustomerFactory, customer_token

pytestmark = pytest.mark.django_db

ME = "/api/v1/customers/me"
PASSWORD = "a-long-customer-password-1"
NEW_PASSWORD = "another-long-password-2"


@pytest.fixture
def account():
    return CustomerFactory(email="camille@example.com", password=make_password(PASSWORD))


@pytest.fixture
def client_for(web_key):
    """A storefront client sending ``token`` as the signed-in customer's bearer token."""

    def client(token: str) -> APIClient:
        api = APIClient()
        api.credentials(HTTP_X_API_KEY=web_key, HTTP_AUTHORIZATION=f"Bearer {token}")
        return api

    return client


def later(**delta):
    return timezone.now() + timedelta(**delta)


def token_updates(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('UPDATE "customers_customertoken"')]


# --- Expiry ---------------------------------------------------------------------------------


def test_a_token_unused_for_the_idle_lifetime_expires_with_a_401(
    account, client_for, time_machine, settings
):
    settings.CUSTOMER_TOKEN_IDLE_DAYS = 30
    client = client_for(customer_token(account))
    time_machine.move_to(later(days=30, minutes=1))

    response = client.get(ME)

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "not_authenticated"
    assert "expired" in error["message"]


def test_a_token_used_before_its_idle_lifetime_ends_keeps_working(
    account, client_for, time_machine
):
    client = client_for(customer_token(account))
    time_machine.move_to(later(days=29))

    assert client.get(ME).status_code == 200


def test_each_use_renews_the_idle_lifetime(account, client_for, time_machine, settings):
    settings.CUSTOMER_TOKEN_IDLE_DAYS = 30
    client = client_for(customer_token(account))
    time_machine.move_to(later(days=20))
    assert client.get(ME).status_code == 200

    time_machine.move_to(later(days=25))  # 45 days after sign-in, 25 after the last use
    assert client.get(ME).status_code == 200

    time_machine.move_to(later(days=31))
    assert client.get(ME).status_code == 401


def test_a_token_in_daily_use_still_dies_at_the_absolute_cap(
    account, client_for, time_machine, settings
):
    settings.CUSTOMER_TOKEN_MAX_DAYS = 90
    client = client_for(customer_token(account))
    for _ in range(8):  # used every ten days: 80 days after sign-in
        time_machine.move_to(later(days=10))
        assert client.get(ME).status_code == 200

    time_machine.move_to(later(days=10, minutes=1))
    response = client.get(ME)

    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_recording_use_writes_at_most_once_per_few_minutes(account, client_for, time_machine):
    client = client_for(customer_token(account))
    time_machine.move_to(later(hours=1))

    with CaptureQueriesContext(connection) as first:
        client.get(ME)
    with CaptureQueriesContext(connection) as soon_after:
        client.get(ME)
        client.get(ME)
    time_machine.move_to(later(minutes=10))
    with CaptureQueriesContext(connection) as ten_minutes_later:
        client.get(ME)

    assert len(token_updates(first)) == 1
    assert token_updates(soon_after) == []
    assert len(token_updates(ten_minutes_later)) == 1
    assert CustomerToken.objects.get().last_used_at >= later(seconds=-5)


def test_expired_tokens_are_purged_and_live_ones_kept(account, time_machine, settings):
    settings.CUSTOMER_TOKEN_IDLE_DAYS = 30
    customer_token(account)
    time_machine.move_to(later(days=20))
    customer_token(account)
    time_machine.move_to(later(days=15))

    purged = services.purge_expired_customer_tokens()

    assert purged == 1
    assert CustomerToken.objects.count() == 1


def test_beat_runs_the_purge_daily_through_a_thin_task(account, time_machine, settings):
    from customers.tasks import purge_expired_customer_tokens

    customer_token(account)
    time_machine.move_to(later(days=91))

    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-customer-tokens"]
    assert entry["task"] == purge_expired_customer_tokens.name
    assert purge_expired_customer_tokens() == 1
    assert not CustomerToken.objects.exists()


# --- Revocation -----------------------------------------------------------------------------


def test_signing_out_everywhere_revokes_every_token_of_the_customer_only(account, client_for):
    phone, laptop = client_for(customer_token(account)), client_for(customer_token(account))
    someone_else = client_for(customer_token(CustomerFactory()))

    response = phone.post(f"{ME}/sign-out-everywhere")

    assert response.status_code == 204
    assert phone.get(ME).status_code == 401
    assert laptop.get(ME).status_code == 401
    assert someone_else.get(ME).status_code == 200


def test_staff_revoke_a_customers_tokens_from_the_customer_admin(admin_client, account, client_for):
    phone = client_for(customer_token(account))
    other = CustomerFactory()
    customer_token(other)

    response = admin_client.post(
        "/admin/customers/customer/",
        {"action": "revoke_tokens_selected", ACTION_CHECKBOX_NAME: [account.pk]},
    )

    assert response.status_code == 302
    assert phone.get(ME).status_code == 401
    assert list(CustomerToken.objects.values_list("customer", flat=True)) == [other.pk]


def test_the_token_admin_shows_when_a_token_expires_never_its_hash_and_revokes(
    admin_client, account
):
    customer_token(account)
    token = CustomerToken.objects.get()

    page = admin_client.get("/admin/customers/customertoken/").content.decode()
    revoked = admin_client.post(
        "/admin/customers/customertoken/",
        {"action": "revoke_selected", ACTION_CHECKBOX_NAME: [token.pk]},
    )

    assert "expires" in page.lower()
    assert token.key_hash not in page
    assert revoked.status_code == 302
    assert not CustomerToken.objects.exists()


def test_the_customer_page_lists_sign_ins_without_their_hash(admin_client, account):
    customer_token(account)
    token = CustomerToken.objects.get()

    page = admin_client.get(f"/admin/customers/customer/{account.pk}/change/").content.decode()

    assert "sign-ins" in page.lower()
    assert token.key_hash not in page


def test_a_merge_revokes_the_merged_profiles_tokens_instead_of_moving_them(client_for):
    older = CustomerFactory(email="camille@example.com")
    newer = CustomerFactory(email="camille.m@example.com")
    survivor_client = client_for(customer_token(older))
    merged_client = client_for(customer_token(newer))

    record = merge_customers(customer=older, other=newer, cause="test")

    assert merged_client.get(ME).status_code == 401
    assert survivor_client.get(ME).status_code == 200
    assert CustomerToken.objects.filter(customer=older).count() == 1
    assert "customers.CustomerToken" not in record.moved


# --- Password change ------------------------------------------------------------------------


def change_password(client, current=PASSWORD, new=NEW_PASSWORD):
    return client.post(
        f"{ME}/password",
        {"current_password": current, "new_password": new},
        format="json",
    )


def test_changing_the_password_revokes_every_other_token_and_keeps_the_callers(account, client_for):
    this_phone = client_for(customer_token(account))
    stolen_laptop = client_for(customer_token(account))

    response = change_password(this_phone)

    assert response.status_code == 204
    assert this_phone.get(ME).status_code == 200
    assert stolen_laptop.get(ME).status_code == 401
    account.refresh_from_db()
    assert check_password(NEW_PASSWORD, account.password)


def test_a_wrong_current_password_is_a_400_that_changes_nothing(account, client_for):
    this_phone = client_for(customer_token(account))
    other_device = client_for(customer_token(account))

    response = change_password(this_phone, current="not-my-password")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "current_password" in error["details"]
    assert other_device.get(ME).status_code == 200
    assert check_password(PASSWORD, Customer.objects.get(pk=account.pk).password)


def test_a_weak_new_password_is_refused_with_djangos_validators(account, client_for):
    this_phone = client_for(customer_token(account))
    other_device = client_for(customer_token(account))

    response = change_password(this_phone, new="12345678")

    assert response.status_code == 400
    assert "new_password" in response.json()["error"]["details"]
    assert other_device.get(ME).status_code == 200
    assert check_password(PASSWORD, Customer.objects.get(pk=account.pk).password)


def test_password_changes_are_throttled_per_customer(account, client_for):
    client = client_for(customer_token(account))
    statuses = [change_password(client, current="guess").status_code for _ in range(11)]

    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429


def test_the_new_endpoints_are_documented_with_their_statuses(client):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)

    everywhere = schema["paths"]["/api/v1/customers/me/sign-out-everywhere"]["post"]
    password = schema["paths"]["/api/v1/customers/me/password"]["post"]
    assert {"204", "401", "403"} <= set(everywhere["responses"])
    assert {"204", "400", "401", "403", "429"} <= set(password["responses"])
