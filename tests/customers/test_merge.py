"""Two profiles of one person merge: the older survives, every row moves, the merge is
recorded, a registered handler takes part, and a retried or concurrent merge happens once."""

import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connection

from customers.models import Customer, CustomerMerge, CustomerToken, Identity
from customers.services import (
    merge_customers,
    register_merge_handler,
    unregister_merge_handler,
)
from omni.core.errors import Conflict, InvalidInput
from orders.models import Order
from tests.customers.factories import (
    ConsentFactory,
    CustomerFactory,
    IdentityFactory,
    ServiceNoteFactory,
    StaffFactory,
    TouchpointFactory,
    customer_token,
)


@contextmanager
def merge_handler(handler):
    register_merge_handler(handler)
    try:
        yield handler
    finally:
        unregister_merge_handler(handler)


def an_order(customer, number: str) -> Order:
    return Order.objects.create(
        number=number, customer=customer, channel="web", fulfilment="delivery"
    )


@pytest.fixture
def pair(db):
    """An older store profile and a newer online account of the same person."""
    older = CustomerFactory(first_name="Camille", last_name="", email="", phone="+33612345678")
    newer = CustomerFactory(first_name="", last_name="Martin", email="camille@example.com")
    return older, newer


@pytest.mark.django_db
def test_the_older_profile_survives_whichever_order_they_are_given(pair):
    older, newer = pair

    record = merge_customers(customer=newer, other=older, cause="test")

    assert record.survivor == older
    assert record.merged_public_id == newer.public_id
    assert list(Customer.objects.all()) == [older]


@pytest.mark.django_db
def test_merge_moves_identities_consents_touchpoints_notes_and_orders_but_not_tokens(pair):
    older, newer = pair
    IdentityFactory(customer=newer, kind="device", value="ios-1")
    ConsentFactory(customer=newer)
    TouchpointFactory.create_batch(2, customer=newer)
    ServiceNoteFactory(customer=newer)
    customer_token(newer)
    an_order(newer, "W-1")
    an_order(older, "S-1")

    record = merge_customers(customer=older, other=newer, cause="test")

    assert set(older.identities.values_list("kind", "value")) == {
        ("email", "camille@example.com"),
        ("device", "ios-1"),
    }
    assert older.consents.count() == 1
    assert older.touchpoints.count() == 2
    assert older.conversations.get().messages.count() == 1
    assert not CustomerToken.objects.exists()  # revoked: see test_security_tokens
    assert set(Order.objects.values_list("number", "customer")) == {
        ("W-1", older.pk),
        ("S-1", older.pk),
    }
    assert record.moved == {
        "customers.Identity": 2,
        "customers.Consent": 1,
        "customers.Touchpoint": 2,
        "customers.Conversation": 1,
        "orders.Order": 1,
    }


@pytest.mark.django_db
def test_the_survivor_keeps_its_fields_and_takes_the_ones_it_lacks(pair):
    older, newer = pair

    merge_customers(customer=older, other=newer, cause="test")

    older.refresh_from_db()
    assert (older.first_name, older.last_name) == ("Camille", "Martin")
    assert (older.email, older.phone) == ("camille@example.com", "+33612345678")


@pytest.mark.django_db
def test_merge_records_who_caused_it(pair):
    older, newer = pair
    clerk = StaffFactory()

    merge_customers(customer=older, other=newer, cause="clerk linked a phone", actor=clerk)

    record = CustomerMerge.objects.get()
    assert (record.survivor, record.cause, record.actor) == (older, "clerk linked a phone", clerk)


@pytest.mark.django_db
def test_a_registered_handler_runs_inside_the_merge_before_rows_move(pair):
    older, newer = pair
    an_order(newer, "W-1")
    seen = []

    def handler(*, survivor, merged):
        seen.append((survivor.public_id, merged.public_id, Order.objects.get().customer_id))

    with merge_handler(handler):
        merge_customers(customer=older, other=newer, cause="test")

    assert seen == [(older.public_id, newer.public_id, newer.pk)]


@pytest.mark.django_db
def test_a_failing_handler_leaves_both_profiles_untouched(pair):
    older, newer = pair
    an_order(newer, "W-1")

    def handler(*, survivor, merged):
        raise Conflict("points cannot be combined")

    with merge_handler(handler), pytest.raises(Conflict):
        merge_customers(customer=older, other=newer, cause="test")

    assert Customer.objects.count() == 2
    assert Order.objects.get().customer == newer
    assert not CustomerMerge.objects.exists()


@pytest.mark.django_db
def test_retrying_a_merge_returns_the_first_record_and_changes_nothing(pair):
    older, newer = pair
    first = merge_customers(customer=older, other=newer, cause="first")
    identities = list(Identity.objects.values_list("pk", "customer_id"))

    again = merge_customers(customer=older, other=newer, cause="retry")

    assert again == first
    assert again.cause == "first"
    assert CustomerMerge.objects.count() == 1
    assert list(Identity.objects.values_list("pk", "customer_id")) == identities


@pytest.mark.django_db
def test_a_customer_cannot_be_merged_with_itself(pair):
    older, _ = pair

    with pytest.raises(InvalidInput):
        merge_customers(customer=older, other=older, cause="test")


@pytest.mark.django_db
def test_an_erased_customer_cannot_be_merged(pair):
    from customers.services import erase_customer

    older, newer = pair
    erase_customer(customer=newer, requested_via="test")

    with pytest.raises(Conflict):
        merge_customers(customer=older, other=newer, cause="test")

    assert Customer.objects.count() == 2


def wait_for_a_blocked_transaction(timeout: float = 10) -> bool:
    """True once another transaction waits for a lock (PostgreSQL's live ``pg_locks``)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return True
    return False


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_merges_of_the_same_pair_happen_once():
    older = CustomerFactory()
    newer = CustomerFactory()
    an_order(newer, "W-1")
    start = threading.Barrier(2)
    results, errors, overlapped = [], [], []

    def hold_the_lock_until_the_other_merge_waits(*, survivor, merged):
        overlapped.append(wait_for_a_blocked_transaction())

    def merge():
        try:
            start.wait()
            results.append(merge_customers(customer=older, other=newer, cause="concurrent").pk)
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    with merge_handler(hold_the_lock_until_the_other_merge_waits):
        threads = [threading.Thread(target=merge) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    # Both calls answer with the one merge record: the second waited for the first and
    # found it done (without the lock it crashes on a unique constraint instead).
    assert errors == []
    assert overlapped == [True]
    assert len(results) == 2
    assert len(set(results)) == 1
    assert CustomerMerge.objects.count() == 1
    assert list(Customer.objects.all()) == [older]
    assert Order.objects.get().customer == older
