"""The kernel's shared mechanisms, tested once here: idempotent replay, batched lock-and-process
loops, bulk counter updates and refusals shown on staff pages."""

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory

from inventory.models import StockLevel
from omni.core.batches import in_locked_batches
from omni.core.counters import add_to_counters
from omni.core.errors import Conflict
from omni.core.pages import refusal_shown_by, shows_refusals
from omni.core.replay import replay_or_run
from tests.inventory.factories import LocationFactory, SkuFactory, stock

pytestmark = pytest.mark.django_db

# --- replay_or_run ------------------------------------------------------------------------


def test_a_first_call_runs_after_taking_the_lock():
    calls = []

    result, replayed = replay_or_run(
        find=lambda: None, lock=lambda: calls.append("lock"), run=lambda: "done"
    )

    assert (result, replayed) == ("done", False)
    assert calls == ["lock"]


def test_a_retry_gets_the_first_result_without_locking():
    calls = []

    result, replayed = replay_or_run(
        find=lambda: "first", lock=lambda: calls.append("lock"), run=lambda: "again"
    )

    assert (result, replayed) == ("first", True)
    assert calls == []


def test_a_retry_that_waited_on_the_lock_finds_the_first_result_and_does_not_run():
    # Not there before the lock; committed by the first attempt while this one waited.
    answers = iter([None, "first"])
    ran = []

    result, replayed = replay_or_run(
        find=lambda: next(answers), lock=lambda: None, run=lambda: ran.append("run") or "again"
    )

    assert (result, replayed) == ("first", True)
    assert ran == []


# --- in_locked_batches ---------------------------------------------------------------------


def test_a_backlog_is_worked_through_in_batches_each_locked_in_key_order():
    pending = {5, 1, 4, 2, 3}
    locked = []

    class Pending:
        """A stand-in for a values_list queryset: ordered ids, sliced per batch."""

        def __getitem__(self, part):
            return sorted(pending)[part]

    def process(batch):
        pending.difference_update(batch)
        return len(batch)

    done = in_locked_batches(Pending(), lock=locked.append, process=process, batch_size=2)

    assert done == 5
    assert locked == [[1, 2], [3, 4], [5]]


def test_a_batch_holds_at_least_one_row():
    with pytest.raises(ValueError, match="at least one"):
        in_locked_batches(StockLevel.objects.none(), lock=print, process=len, batch_size=0)


@pytest.mark.django_db(transaction=True)
def test_each_batch_runs_in_its_own_transaction():
    pending = {1, 2, 3}
    inside = []

    class Pending:
        def __getitem__(self, part):
            return sorted(pending)[part]

    def process(batch):
        inside.append(connection.in_atomic_block)
        pending.difference_update(batch)
        return len(batch)

    in_locked_batches(Pending(), lock=lambda batch: None, process=process, batch_size=2)

    assert inside == [True, True]
    assert not connection.in_atomic_block


# --- add_to_counters -----------------------------------------------------------------------


@pytest.fixture
def three_levels(db):
    sku, store = SkuFactory(), LocationFactory()
    return [stock(sku, store, 10), stock(SkuFactory(), store, 10), stock(SkuFactory(), store, 10)]


@pytest.mark.parametrize("vendor", ["postgresql", "other"])
def test_counters_of_many_rows_change_in_one_update(three_levels, vendor, monkeypatch):
    first, second, untouched = three_levels
    if vendor == "other":
        monkeypatch.setattr(connection, "vendor", "sqlite")  # the portable CASE form

    updated = add_to_counters(
        StockLevel,
        {"on_hand": {first.pk: 5, second.pk: -3}, "reserved": {second.pk: 2, untouched.pk: 0}},
    )

    assert updated == 2
    rows = {level.pk: (level.on_hand, level.reserved) for level in StockLevel.objects.all()}
    assert rows == {first.pk: (15, 0), second.pk: (7, 2), untouched.pk: (10, 0)}


def test_counters_take_other_columns_to_set_on_every_row_changed(three_levels):
    first, _, untouched = three_levels
    marker = first.updated_at.replace(year=2001)

    add_to_counters(StockLevel, {"on_hand": {first.pk: 1}}, also_set={"updated_at": marker})

    assert StockLevel.objects.get(pk=first.pk).updated_at == marker
    assert StockLevel.objects.get(pk=untouched.pk).updated_at != marker


def test_counters_do_nothing_for_no_change(three_levels, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert add_to_counters(StockLevel, {"on_hand": {three_levels[0].pk: 0}}) == 0


def test_only_integer_columns_are_counters(three_levels):
    with pytest.raises(ValueError, match="not an integer column"):
        add_to_counters(StockLevel, {"updated_at": {three_levels[0].pk: 1}})


def test_the_cost_does_not_grow_with_the_rows(three_levels, django_assert_num_queries):
    with django_assert_num_queries(1):
        add_to_counters(StockLevel, {"on_hand": {level.pk: 1 for level in three_levels}})


# --- refusals on staff pages ---------------------------------------------------------------


@shows_refusals
def a_staff_view(request, refuse: bool):
    def page(*, refused):
        return HttpResponse(refused.message, status=refused.http_status)

    with refusal_shown_by(page):
        if refuse:
            raise Conflict("Already collected.")
    return HttpResponse("done")


def test_a_refusal_becomes_the_page_with_its_message():
    response = a_staff_view(RequestFactory().post("/"), refuse=True)

    assert (response.status_code, response.content) == (409, b"Already collected.")


def test_without_a_refusal_the_view_answers_as_usual():
    response = a_staff_view(RequestFactory().post("/"), refuse=False)

    assert (response.status_code, response.content) == (200, b"done")
