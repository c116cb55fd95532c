"""Idempotency-Key on state-changing storefront calls: a retry gets the first answer again and
changes nothing twice; the key is scoped to its caller, method and path."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from customers import services
from customers.models import Customer, SignUpRequest, Touchpoint
from omni.core.api import idempotency
from omni.core.channels import Channel
from omni.models import IdempotencyRecord
from omni.tasks import purge_idempotency_keys
from tests.concurrency import run_concurrently
from tests.customers.factories import CustomerFactory, customer_token, storefront_key

SIGN_UP = "/api/v1/customers/sign-up"
EVENTS = "/api/v1/events"
PASSWORD = "a-long-customer-password-1"
AN_HOUR_AGO = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
TWO_EVENTS = {
    "events": [
        {"type": "product_view", "occurred_at": AN_HOUR_AGO, "anonymous_id": "visitor-1"},
        {"type": "search", "occurred_at": AN_HOUR_AGO, "anonymous_id": "visitor-1"},
    ]
}
MY_EVENTS = {"events": [{"type": "product_view", "occurred_at": AN_HOUR_AGO}]}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def web_key(db) -> str:
    return storefront_key(Channel.WEB)


@pytest.fixture
def storefront(web_key) -> APIClient:
    return storefront_client(web_key)


def storefront_client(web_key: str, customer=None) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_X_API_KEY=web_key)
    if customer is not None:
        client.credentials(
            HTTP_X_API_KEY=web_key, HTTP_AUTHORIZATION=f"Bearer {customer_token(customer)}"
        )
    return client


def send(client: APIClient, path: str, body: dict, key: str | None, method: str = "post"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return getattr(client, method)(path, body, format="json", headers=headers)


def replayed(response) -> bool:
    return response.headers.get("Idempotent-Replayed") == "true"


def a_sign_up(email: str = "lea@example.com") -> dict:
    return {"email": email, "password": PASSWORD, "first_name": "Léa"}


# --- Replays ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_retried_sign_up_replays_the_first_answer_and_sends_one_link(storefront):
    first = send(storefront, SIGN_UP, a_sign_up(), key="sign-up-1")

    retry = send(storefront, SIGN_UP, a_sign_up(), key="sign-up-1")

    assert (first.status_code, retry.status_code) == (202, 202)
    assert retry.json() == first.json()
    assert (replayed(first), replayed(retry)) == (False, True)
    assert SignUpRequest.objects.count() == 1


@pytest.mark.django_db
def test_a_retried_event_batch_stores_its_touchpoints_once(storefront):
    first = send(storefront, EVENTS, TWO_EVENTS, key="batch-1")

    retry = send(storefront, EVENTS, TWO_EVENTS, key="batch-1")

    assert retry.status_code == 200
    assert retry.json() == first.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert replayed(retry)
    assert Touchpoint.objects.count() == 2


@pytest.mark.django_db
def test_a_retried_profile_change_is_replayed_with_the_first_answer(web_key):
    client = storefront_client(web_key, CustomerFactory(first_name="Léa"))
    first = send(client, "/api/v1/customers/me", {"first_name": "Lou"}, "p-1", method="patch")
    send(client, "/api/v1/customers/me", {"first_name": "Zoé"}, key=None, method="patch")

    retry = send(client, "/api/v1/customers/me", {"first_name": "Lou"}, "p-1", method="patch")

    assert replayed(retry)
    assert retry.json() == first.json()
    assert Customer.objects.get().first_name == "Zoé"


@pytest.mark.django_db
def test_a_client_error_is_kept_and_replayed(storefront):
    bad_phone = {**a_sign_up(), "phone": "call me"}
    first = send(storefront, SIGN_UP, bad_phone, key="sign-up-1")

    retry = send(storefront, SIGN_UP, bad_phone, key="sign-up-1")

    assert (first.status_code, retry.status_code) == (400, 400)
    assert retry.json() == first.json()
    assert replayed(retry)


@pytest.mark.django_db
def test_a_key_is_matched_to_a_json_body_whatever_the_order_of_its_fields(storefront):
    event = {"type": "search", "occurred_at": AN_HOUR_AGO, "anonymous_id": "visitor-1"}
    send(storefront, EVENTS, {"events": [event]}, key="k")

    retry = send(storefront, EVENTS, {"events": [dict(reversed(event.items()))]}, key="k")

    assert replayed(retry)
    assert Touchpoint.objects.count() == 1


# --- Keys that do not replay --------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_key_with_a_different_body_is_refused_and_changes_nothing(web_key):
    client = storefront_client(web_key, CustomerFactory(first_name="Léa"))
    send(client, "/api/v1/customers/me", {"first_name": "Lou"}, "p-1", method="patch")

    response = send(client, "/api/v1/customers/me", {"first_name": "Zoé"}, "p-1", method="patch")

    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "idempotency_key_reused",
            "message": (
                "This Idempotency-Key was already used for a different request; "
                "send a new key for a new request."
            ),
            "details": {"key": "p-1"},
        }
    }
    assert Customer.objects.get().first_name == "Lou"


@pytest.mark.django_db
def test_another_caller_with_the_same_key_is_not_replayed(web_key):
    lea, zoe = CustomerFactory(), CustomerFactory()

    for customer in (lea, zoe):
        response = send(storefront_client(web_key, customer), EVENTS, MY_EVENTS, key="batch-1")
        assert response.status_code == 200
        assert not replayed(response)

    assert Touchpoint.objects.filter(customer=lea).count() == 1
    assert Touchpoint.objects.filter(customer=zoe).count() == 1


@pytest.mark.django_db
def test_another_storefront_app_with_the_same_key_is_not_replayed(web_key):
    ios = storefront_client(storefront_key(Channel.IOS))
    send(storefront_client(web_key), EVENTS, TWO_EVENTS, key="batch-1")

    response = send(ios, EVENTS, TWO_EVENTS, key="batch-1")

    assert not replayed(response)
    assert Touchpoint.objects.count() == 4


@pytest.mark.django_db
def test_without_the_header_every_call_runs_as_before(storefront):
    first = send(storefront, EVENTS, TWO_EVENTS, key=None)

    again = send(storefront, EVENTS, TWO_EVENTS, key=None)

    assert (first.status_code, again.status_code) == (200, 200)
    assert not replayed(again)
    assert Touchpoint.objects.count() == 4
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 101, "clé-accentuée"])
def test_a_malformed_key_is_a_validation_error_that_runs_nothing(storefront, key):
    response = send(storefront, EVENTS, TWO_EVENTS, key=key)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert list(response.json()["error"]["details"]) == ["Idempotency-Key"]
    assert not Touchpoint.objects.exists()


@pytest.mark.django_db
def test_a_server_error_is_not_kept_so_a_retry_runs_again(storefront, monkeypatch):
    ingest = services.ingest_touchpoints

    def crash(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "ingest_touchpoints", crash)
    crashed = send(storefront, EVENTS, TWO_EVENTS, key="batch-1")
    monkeypatch.setattr(services, "ingest_touchpoints", ingest)

    retry = send(storefront, EVENTS, TWO_EVENTS, key="batch-1")

    assert crashed.status_code == 500
    assert retry.status_code == 200
    assert not replayed(retry)
    assert Touchpoint.objects.count() == 2


@pytest.mark.django_db
def test_a_conflict_is_not_kept_so_a_retry_runs_again(web_key):
    other = CustomerFactory(email="taken@example.com")
    client = storefront_client(web_key, CustomerFactory(email="lea@example.com"))
    change = {"email": "taken@example.com"}
    conflict = send(client, "/api/v1/customers/me", change, key="p-1", method="patch")
    other.identities.all().delete()  # the state changes: the address is free again

    retry = send(client, "/api/v1/customers/me", change, key="p-1", method="patch")

    assert conflict.status_code == 409
    assert retry.status_code == 200
    assert not replayed(retry)


# --- Expiry -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_purge_task_deletes_records_older_than_the_time_to_live(storefront, time_machine):
    time_machine.move_to(datetime(2030, 3, 1, 9, 0, tzinfo=UTC), tick=False)
    send(storefront, EVENTS, TWO_EVENTS, key="old")
    time_machine.move_to(datetime(2030, 3, 2, 8, 0, tzinfo=UTC), tick=False)
    send(storefront, EVENTS, TWO_EVENTS, key="recent")
    time_machine.move_to(datetime(2030, 3, 2, 9, 1, tzinfo=UTC), tick=False)

    deleted = purge_idempotency_keys()

    assert deleted == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]


@pytest.mark.django_db
def test_an_expired_key_not_yet_purged_runs_the_call_again(storefront, time_machine):
    time_machine.move_to(datetime(2030, 3, 1, 9, 0, tzinfo=UTC), tick=False)
    send(storefront, EVENTS, TWO_EVENTS, key="batch-1")
    time_machine.move_to(datetime(2030, 3, 2, 9, 1, tzinfo=UTC), tick=False)

    late_retry = send(storefront, EVENTS, TWO_EVENTS, key="batch-1")

    assert not replayed(late_retry)
    assert Touchpoint.objects.count() == 4
    assert IdempotencyRecord.objects.count() == 1


def test_beat_purges_idempotency_keys_every_hour():
    entry = settings.CELERY_BEAT_SCHEDULE["purge-idempotency-keys"]

    assert entry == {"task": "omni.purge_idempotency_keys", "schedule": 3600.0}


# --- Concurrent attempts ------------------------------------------------------------------


class NeverRaised(Exception):
    pass


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_identical_sign_ups_at_once_send_one_link_and_get_the_same_answer(web_key):
    def attempt():
        return send(storefront_client(web_key), SIGN_UP, a_sign_up(), key="sign-up-1")

    outcome = run_concurrently([attempt, attempt], refusal=NeverRaised)

    # The second waits for the first; the first's answer holds a token, so it is not kept
    # and the second runs after it: the account exists, so it signs in.
    assert len(outcome.granted) == 2, outcome.summary(2)
    assert sorted(response.status_code for response in outcome.granted) == [202, 202]
    assert sorted(replayed(response) for response in outcome.granted) == [False, True]
    first, second = (response.json() for response in outcome.granted)
    assert first == second
    assert SignUpRequest.objects.count() == 1


@pytest.fixture
def held_ingestion(monkeypatch):
    """Event ingestion that stops, once started, until the test releases it."""
    started, release = threading.Event(), threading.Event()
    ingest = services.ingest_touchpoints

    def held(**kwargs):
        started.set()
        release.wait(timeout=30)
        return ingest(**kwargs)

    monkeypatch.setattr(services, "ingest_touchpoints", held)
    yield started, release
    release.set()


def in_thread(call) -> tuple[threading.Thread, list]:
    results = []

    def run():
        try:
            results.append(call())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results


def a_request_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_retry_while_the_first_attempt_runs_waits_and_replays_its_answer(web_key, held_ingestion):
    started, release = held_ingestion
    first, first_result = in_thread(
        lambda: send(storefront_client(web_key), EVENTS, TWO_EVENTS, "k")
    )
    assert started.wait(timeout=30)
    retry, retry_result = in_thread(
        lambda: send(storefront_client(web_key), EVENTS, TWO_EVENTS, "k")
    )
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    while not a_request_waits_for_a_lock():  # the retry is held by the first attempt's record
        assert datetime.now(UTC) < deadline, "the retry never waited for the first attempt"

    release.set()
    first.join(timeout=30)
    retry.join(timeout=30)

    assert (first_result[0].status_code, retry_result[0].status_code) == (200, 200)
    assert (replayed(first_result[0]), replayed(retry_result[0])) == (False, True)
    assert retry_result[0].json() == first_result[0].json()
    assert Touchpoint.objects.count() == 2


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_retry_still_waiting_when_the_wait_runs_out_gets_409_in_progress(
    web_key, held_ingestion, monkeypatch
):
    started, release = held_ingestion
    first, first_result = in_thread(
        lambda: send(storefront_client(web_key), EVENTS, TWO_EVENTS, "k")
    )
    assert started.wait(timeout=30)
    monkeypatch.setattr(idempotency, "IN_PROGRESS_WAIT", timedelta(milliseconds=200))

    retry = send(storefront_client(web_key), EVENTS, TWO_EVENTS, key="k")
    release.set()
    first.join(timeout=30)

    assert retry.status_code == 409
    assert retry.json()["error"]["code"] == "idempotency_key_in_progress"
    assert first_result[0].status_code == 200
    assert Touchpoint.objects.count() == 2


# --- Documentation ------------------------------------------------------------------------


STATE_CHANGING_CUSTOMER_CALLS = [
    ("/api/v1/customers/sign-up", "post"),
    ("/api/v1/customers/me", "patch"),
    ("/api/v1/customers/me/consents", "patch"),
    ("/api/v1/customers/me/erasure", "post"),
    ("/api/v1/events", "post"),
]


@pytest.mark.django_db
def test_the_schema_documents_the_header_on_every_state_changing_customer_call(client):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)

    for path, method in STATE_CHANGING_CUSTOMER_CALLS:
        parameters = schema["paths"][path][method].get("parameters", [])
        assert {"in": "header", "name": "Idempotency-Key"}.items() <= next(
            (p for p in parameters if p["name"] == "Idempotency-Key"), {}
        ).items(), (path, method)
    assert "parameters" not in schema["paths"]["/api/v1/customers/me"]["get"]


@pytest.mark.django_db
def test_erasing_a_customer_drops_the_kept_answers_to_their_calls(web_key):
    customer = CustomerFactory(first_name="Léa")
    client = storefront_client(web_key, customer)
    send(client, "/api/v1/customers/me", {"first_name": "Lou"}, "p-1", method="patch")
    assert IdempotencyRecord.objects.filter(caller__endswith=f":customer:{customer.pk}").exists()

    services.erase_customer(customer=customer, requested_via="admin")

    assert not IdempotencyRecord.objects.filter(
        caller__endswith=f":customer:{customer.pk}"
    ).exists()


@pytest.mark.django_db
def test_merging_two_customers_drops_the_kept_answers_of_the_merged_one(web_key):
    older, newer = CustomerFactory(first_name="Léa"), CustomerFactory(first_name="Lea")
    for customer in (older, newer):
        client = storefront_client(web_key, customer)
        send(client, "/api/v1/customers/me", {"first_name": "Lou"}, "p-1", method="patch")

    services.merge_customers(customer=older, other=newer, cause="same person")

    (kept,) = IdempotencyRecord.objects.values_list("caller", flat=True)
    assert kept.endswith(f":customer:{older.pk}")
