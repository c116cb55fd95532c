"""Large manual points adjustments need a second person, and the programme's rules are not a
marketer's to change (issue 9 #13)."""

from decimal import Decimal

import pytest
from django.test import Client

from customers.services import merge_customers
from loyalty import services
from loyalty.models import Account, EarnRule, PointsAdjustmentRequest, PointsEntry, Programme
from loyalty.services import QuoteLine
from omni.core.errors import (
    InsufficientPoints,
    InvalidRequest,
    InvalidTransition,
    PermissionRefused,
)
from omni.demo import load_staff
from tests.inventory.factories import UserFactory
from tests.loyalty.factories import customer, programme

pytestmark = pytest.mark.django_db

APPROVE = "loyalty.approve_points_adjustment"


@pytest.fixture
def account() -> Account:
    programme(adjustment_approval_threshold=1000)
    return services.enrol(customer=customer())


@pytest.fixture
def marketer():
    return UserFactory(
        is_staff=True, permissions=["loyalty.add_pointsentry", "loyalty.view_account"]
    )


@pytest.fixture
def manager():
    return UserFactory(is_staff=True, permissions=[APPROVE, "loyalty.view_pointsadjustmentrequest"])


def balance(account: Account) -> int:
    account.refresh_from_db()
    return account.available + account.pending


def large_request(account, requested_by, points=50_000) -> PointsAdjustmentRequest:
    outcome = services.request_points_adjustment(
        account=account,
        points=points,
        reason="Goodwill after a complaint",
        requested_by=requested_by,
    )
    assert isinstance(outcome, PointsAdjustmentRequest)
    return outcome


# --- The service ---------------------------------------------------------------------------


def test_an_adjustment_within_the_threshold_is_posted_at_once(account, marketer):
    outcome = services.request_points_adjustment(
        account=account, points=1000, reason="Goodwill: parcel late", requested_by=marketer
    )

    assert isinstance(outcome, PointsEntry)
    assert (outcome.available, outcome.actor) == (1000, marketer)
    assert balance(account) == 1000
    assert not PointsAdjustmentRequest.objects.exists()


def test_a_large_adjustment_waits_pending_and_leaves_the_balance_alone(account, marketer):
    pending = large_request(account, marketer)

    assert pending.status == PointsAdjustmentRequest.Status.PENDING
    assert (pending.points, pending.requested_by) == (50_000, marketer)
    assert balance(account) == 0
    assert not PointsEntry.objects.filter(kind="adjust").exists()


def test_each_programme_sets_its_own_threshold(account, marketer):
    Programme.objects.update(adjustment_approval_threshold=10)

    outcome = services.request_points_adjustment(
        account=account, points=11, reason="Goodwill", requested_by=marketer
    )

    assert isinstance(outcome, PointsAdjustmentRequest)
    assert balance(account) == 0


def test_taking_away_many_points_needs_approval_too(account, marketer, manager):
    services.request_points_adjustment(
        account=account, points=900, reason="Receipt", requested_by=marketer
    )
    services.request_points_adjustment(
        account=account, points=900, reason="Receipt", requested_by=marketer
    )

    pending = large_request(account, marketer, points=-1500)

    assert balance(account) == 1800
    services.approve_points_adjustment(adjustment=pending, approver=manager)
    assert balance(account) == 300


def test_the_requester_cannot_approve_their_own_adjustment(account):
    both_roles = UserFactory(is_staff=True, permissions=["loyalty.add_pointsentry", APPROVE])
    pending = large_request(account, both_roles)

    with pytest.raises(InvalidRequest, match="another person must approve"):
        services.approve_points_adjustment(adjustment=pending, approver=both_roles)

    pending.refresh_from_db()
    assert pending.status == PointsAdjustmentRequest.Status.PENDING
    assert balance(account) == 0


def test_someone_without_the_approval_permission_cannot_approve(account, marketer):
    pending = large_request(account, marketer)
    colleague = UserFactory(is_staff=True, permissions=["loyalty.add_pointsentry"])

    with pytest.raises(PermissionRefused):
        services.approve_points_adjustment(adjustment=pending, approver=colleague)

    assert balance(account) == 0


def test_another_approver_posts_it_once_however_often_it_is_approved(account, marketer, manager):
    pending = large_request(account, marketer)
    other_manager = UserFactory(is_staff=True, permissions=[APPROVE])

    first = services.approve_points_adjustment(adjustment=pending, approver=manager)
    again = services.approve_points_adjustment(adjustment=pending, approver=manager)
    by_another = services.approve_points_adjustment(adjustment=pending, approver=other_manager)

    assert first == again == by_another
    assert balance(account) == 50_000
    assert PointsEntry.objects.filter(kind="adjust").count() == 1
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by, pending.entry) == ("approved", manager, first)
    assert first.idempotency_key == f"points-adjustment-request:{pending.pk}"


def test_a_rejected_adjustment_moves_nothing_and_cannot_be_approved_later(
    account, marketer, manager
):
    pending = large_request(account, marketer)

    services.reject_points_adjustment(adjustment=pending, approver=manager)

    with pytest.raises(InvalidTransition):
        services.approve_points_adjustment(adjustment=pending, approver=manager)
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by) == ("rejected", manager)
    assert balance(account) == 0


def test_taking_away_more_than_is_left_at_approval_is_refused_and_stays_pending(
    account, marketer, manager
):
    services.adjust_points(account=account, points=2000, reason="Opening balance")
    pending = large_request(account, marketer, points=-1500)
    services.adjust_points(account=account, points=-1000, reason="Redeemed in store")

    with pytest.raises(InsufficientPoints):
        services.approve_points_adjustment(adjustment=pending, approver=manager)

    pending.refresh_from_db()
    assert pending.status == PointsAdjustmentRequest.Status.PENDING
    assert balance(account) == 1000


def test_a_pending_adjustment_follows_the_customer_into_a_merge(account, marketer):
    pending = large_request(account, marketer)
    other = customer()
    services.earn_for_order(
        customer=other,
        reference="o1",
        lines=[QuoteLine(Decimal("10"))],
        channel="web",
        idempotency_key="o1",
    )

    merge_customers(customer=other, other=account.customer, cause="same phone")

    pending.refresh_from_db()
    assert pending.account == Account.objects.get()


# --- Through the admin -----------------------------------------------------------------------


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_large_adjustment_in_the_admin_is_kept_pending_with_a_message(account, marketer):
    response = logged_in(marketer).post(
        f"/admin/loyalty/account/{account.pk}/adjust/",
        {"points": "50000", "reason": "Goodwill"},
        follow=True,
    )

    shown = [str(m) for m in response.context["messages"]]
    assert any("waits for another person's approval" in m for m in shown)
    assert PointsAdjustmentRequest.objects.get().status == "pending"
    assert balance(account) == 0


def test_an_approver_approves_in_the_admin_and_the_points_are_posted_once(
    account, marketer, manager
):
    pending = large_request(account, marketer)
    approve = {"action": "approve_selected", "_selected_action": [pending.pk]}
    client = logged_in(manager)

    client.post("/admin/loyalty/pointsadjustmentrequest/", approve)
    client.post("/admin/loyalty/pointsadjustmentrequest/", approve)

    assert balance(account) == 50_000
    assert PointsEntry.objects.filter(kind="adjust").count() == 1


def test_the_requester_is_refused_in_the_admin_even_with_the_approval_permission(account):
    both_roles = UserFactory(
        is_staff=True,
        permissions=["loyalty.add_pointsentry", APPROVE, "loyalty.view_pointsadjustmentrequest"],
    )
    pending = large_request(account, both_roles)

    response = logged_in(both_roles).post(
        "/admin/loyalty/pointsadjustmentrequest/",
        {"action": "approve_selected", "_selected_action": [pending.pk]},
        follow=True,
    )

    assert any("another person must approve" in str(m) for m in response.context["messages"])
    assert balance(account) == 0


def signed_in_to_the_admin(username: str, password: str) -> Client:
    """Through the log-in page, as a person does (the lockout needs the request)."""
    client = Client()
    response = client.post("/admin/login/", {"username": username, "password": password})
    assert response.status_code == 302, "the demo log-in was refused"
    return client


def test_the_demo_marketer_sees_but_cannot_change_the_programme_rules(account):
    load_staff()
    rule = EarnRule.objects.create(
        programme=account.programme, name="Welcome", kind="action", action="sign_up", bonus_points=5
    )
    marketer = signed_in_to_the_admin("marketer", "omni-marketer-demo")
    url = f"/admin/loyalty/programme/{account.programme.pk}/change/"

    seen = marketer.get(url)
    changed = marketer.post(url, {"name": "Omni Rewards", "point_value": "1.00"})

    assert seen.status_code == 200
    assert changed.status_code == 403
    assert marketer.get("/admin/loyalty/programme/add/").status_code == 403
    assert Programme.objects.get().point_value == Decimal("0.01")
    assert EarnRule.objects.get(pk=rule.pk).bonus_points == 5


def test_the_demo_manager_may_change_the_programme_and_approve(account):
    load_staff()
    manager = signed_in_to_the_admin("manager", "omni-manager-demo")

    response = manager.get(f"/admin/loyalty/programme/{account.programme.pk}/change/")

    assert response.status_code == 200
    assert response.context["has_change_permission"]
