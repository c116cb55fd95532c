"""Erasure through the API with an Idempotency-Key: it erases, and a retry is never a server
error (issue 9 #6)."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from rest_framework.test import APIClient

from customers.models import Customer, ErasureRecord
from customers.services import register_erasure_handler, unregister_erasure_handler
from omni.core.channels import Channel
from tests.customers.factories import CustomerFactory, customer_token, storefront_key

ERASURE = "/api/v1/customers/me/erasure"


def signed_in_client(customer) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(
        HTTP_X_API_KEY=storefront_key(Channel.WEB),
        HTTP_AUTHORIZATION=f"Bearer {customer_token(customer)}",
    )
    return client


def erase(client: APIClient, key: str = "erase-me"):
    return client.post(ERASURE, headers={"Idempotency-Key": key})


def replayed(response) -> bool:
    return response.headers.get("Idempotent-Replayed") == "true"


@pytest.mark.django_db
def test_erasure_sent_with_an_idempotency_key_erases_the_customer():
    customer = CustomerFactory(email="lea@example.com")

    response = erase(signed_in_client(customer))

    assert response.status_code == 200
    assert response.json()["customer_id"] == str(customer.public_id)
    customer.refresh_from_db()
    assert customer.erased_at is not None
    assert customer.email == ""
    assert ErasureRecord.objects.filter(customer_public_id=customer.public_id).exists()


@pytest.mark.django_db
def test_a_retry_after_the_erasure_is_told_the_session_ended_not_a_server_error():
    customer = CustomerFactory()
    client = signed_in_client(customer)
    erase(client)

    retry = erase(client)

    # Erasure signs out everywhere, so the retry's token no longer opens anything.
    assert retry.status_code == 401
    assert retry.json()["error"]["code"] == "authentication_failed"
    assert ErasureRecord.objects.count() == 1


@pytest.fixture
def held_erasure():
    """Erasure that stops, once started, until the test releases it."""
    started, release = threading.Event(), threading.Event()

    def hold(*, customer):
        started.set()
        release.wait(timeout=30)

    register_erasure_handler(hold)
    yield started, release
    release.set()
    unregister_erasure_handler(hold)


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
def test_a_retry_while_the_erasure_runs_gets_the_same_answer(held_erasure):
    started, release = held_erasure
    customer = CustomerFactory()
    client = signed_in_client(customer)
    first, first_result = in_thread(lambda: erase(client))
    assert started.wait(timeout=30)
    retry, retry_result = in_thread(lambda: erase(client))
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    while not a_request_waits_for_a_lock():  # the retry waits for the first attempt's record
        assert datetime.now(UTC) < deadline, "the retry never waited for the first attempt"

    release.set()
    first.join(timeout=30)
    retry.join(timeout=30)

    assert (first_result[0].status_code, retry_result[0].status_code) == (200, 200)
    assert replayed(retry_result[0])
    assert retry_result[0].json() == first_result[0].json()
    assert Customer.objects.get().erased_at is not None
    assert ErasureRecord.objects.count() == 1
