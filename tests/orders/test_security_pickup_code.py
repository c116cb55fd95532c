"""Wrong pick-up codes are counted per order, and the count holds although the hand-over is
refused: after PICKUP_CODE_MAX_ATTEMPTS the hand-over is locked, even with the right code,
until a manager unlocks it (a service, and an admin action)."""

import pytest
from django.contrib import messages
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.urls import reverse

from inventory.models import StockLevel
from omni.core.errors import DomainError, InvalidRequest, PickupCodeLocked, WrongPickupCode
from orders import services
from orders.models import Order
from tests.concurrency import run_concurrently
from tests.orders.test_admin import notices, run_action
from tests.orders.test_fulfilment import pickup_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(db):
    return User.objects.create_user("clerk", is_staff=True)


@pytest.fixture
def order(shop, camille, clerk) -> Order:
    return services.mark_ready_for_pickup(order=pickup_order(camille), actor=clerk)


def wrong_code(order: Order) -> str:
    return "000000" if order.pickup_code != "000000" else "111111"


def try_wrong(order: Order, clerk, times: int = 1) -> list[WrongPickupCode]:
    refusals = []
    for _ in range(times):
        with pytest.raises(WrongPickupCode) as refused:
            services.collect_pickup(order=order, code=wrong_code(order), actor=clerk)
        refusals.append(refused.value)
    return refusals


def reserved_jackets(shop) -> int:
    return StockLevel.objects.get(sku=shop.jacket, location=shop.rivoli).reserved


def test_five_wrong_codes_lock_the_hand_over_even_with_the_right_code(shop, order, clerk):
    try_wrong(order, clerk, 5)

    with pytest.raises(PickupCodeLocked, match="a manager must unlock"):
        services.collect_pickup(order=order, code=order.pickup_code, actor=clerk)

    order.refresh_from_db()
    assert (order.status, order.pickup_code_failures) == ("ready_for_pickup", 5)
    assert reserved_jackets(shop) == 1


def test_four_wrong_codes_still_let_the_right_one_hand_over(order, clerk):
    try_wrong(order, clerk, 4)

    services.collect_pickup(order=order, code=order.pickup_code, actor=clerk)

    order.refresh_from_db()
    assert order.status == "collected"


def test_each_wrong_code_says_how_many_tries_are_left_and_the_last_one_says_it_locked(order, clerk):
    refusals = try_wrong(order, clerk, 5)

    assert [r.details["attempts_left"] for r in refusals] == [4, 3, 2, 1, 0]
    assert refusals[0].message == "That pick-up code does not match this order."
    assert "a manager must unlock" in refusals[-1].message


def test_the_number_of_tries_is_a_setting(order, clerk, settings):
    settings.PICKUP_CODE_MAX_ATTEMPTS = 2
    try_wrong(order, clerk, 2)

    with pytest.raises(PickupCodeLocked):
        services.collect_pickup(order=order, code=order.pickup_code, actor=clerk)


def test_the_lock_and_the_unlock_are_on_the_orders_timeline(order, clerk):
    manager = User.objects.create_user("manager", is_staff=True)
    try_wrong(order, clerk, 5)

    services.unlock_pickup_code(order=order, actor=manager)

    locked, unlocked = order.events.order_by("pk")[2:]
    assert (locked.actor, locked.to_status) == (clerk, "ready_for_pickup")
    assert "locked after 5 wrong codes" in locked.note
    assert (unlocked.actor, unlocked.to_status) == (manager, "ready_for_pickup")
    assert "unlocked" in unlocked.note


def test_after_a_manager_unlocks_the_right_code_hands_over(order, clerk):
    try_wrong(order, clerk, 5)

    services.unlock_pickup_code(order=order, actor=User.objects.create_user("manager"))
    services.collect_pickup(order=order, code=order.pickup_code, actor=clerk)

    order.refresh_from_db()
    assert (order.status, order.pickup_code_failures) == ("collected", 0)


def test_unlocking_an_order_that_is_not_locked_is_refused(order):
    try_wrong(order, None, 2)

    with pytest.raises(InvalidRequest, match="not locked"):
        services.unlock_pickup_code(order=order, actor=None)

    order.refresh_from_db()
    assert order.pickup_code_failures == 2


@pytest.mark.django_db(transaction=True)
def test_the_count_is_committed_although_the_hand_over_is_refused(order, clerk):
    try_wrong(order, clerk)

    assert not connection.in_atomic_block  # nothing left open that could still roll back
    assert Order.objects.get(pk=order.pk).pickup_code_failures == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_wrong_codes_tried_at_once_never_get_past_the_limit(order):
    code = wrong_code(order)
    calls = [lambda: services.collect_pickup(order=order, code=code) for _ in range(8)]

    outcome = run_concurrently(calls, DomainError)

    summary = outcome.summary(8)
    assert not outcome.crashed, summary
    assert not outcome.granted, summary
    kinds = sorted(type(refusal).__name__ for refusal in outcome.refused)
    assert kinds == ["PickupCodeLocked"] * 3 + ["WrongPickupCode"] * 5, summary
    assert Order.objects.get(pk=order.pk).pickup_code_failures == 5


# --- Admin: "Unlock pick-up code" ------------------------------------------------------------


def test_a_manager_unlocks_the_pick_up_code_in_the_admin(admin_client, admin_user, order):
    try_wrong(order, None, 5)

    response = run_action(admin_client, "unlock_pickup_code", order)

    order.refresh_from_db()
    assert order.pickup_code_failures == 0
    assert order.events.last().actor == admin_user
    assert notices(response) == [(messages.SUCCESS, "1 order unlocked.")]


def test_the_order_page_in_the_admin_shows_the_wrong_codes(admin_client, order):
    try_wrong(order, None, 5)

    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert b"5 wrong codes: locked" in page.content


def test_staff_who_may_only_view_orders_cannot_unlock(client, order):
    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)
    try_wrong(order, None, 5)

    listing = client.get(reverse("admin:orders_order_changelist"))
    run_action(client, "unlock_pickup_code", order)

    assert b"unlock_pickup_code" not in listing.content
    order.refresh_from_db()
    assert order.pickup_code_failures == 5
