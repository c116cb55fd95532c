"""The demo's staff roles: exporting customers, approving large points adjustments and setting
the loyalty programme's rules belong to the manager, not to the marketer or the clerk
(issue 9 #9 and #13)."""

import pytest
from django.contrib.auth.models import Permission, User

from omni.demo import load_staff

pytestmark = pytest.mark.django_db

MANAGERS_ONLY = [
    "customers.export_customers",
    "campaigns.export_audience",
    "loyalty.approve_points_adjustment",
    "loyalty.change_programme",
    "loyalty.change_tier",
    "loyalty.add_earnrule",
    "loyalty.change_earnrule",
    "loyalty.delete_earnrule",
]


@pytest.fixture
def staff() -> dict[str, User]:
    load_staff()
    return {user.username: user for user in User.objects.all()}


@pytest.mark.parametrize("permission", MANAGERS_ONLY)
def test_only_the_manager_and_the_superuser_hold_it(staff, permission):
    holders = {name for name, user in staff.items() if user.has_perm(permission)}

    assert holders == {"admin", "manager"}


def test_the_marketer_still_reads_the_programme_and_asks_for_adjustments(staff):
    marketer = staff["marketer"]

    assert marketer.has_perm("loyalty.view_programme")
    assert marketer.has_perm("loyalty.view_earnrule")
    assert marketer.has_perm("loyalty.add_pointsentry")
    assert marketer.has_perm("customers.view_customer")
    assert marketer.has_perm("campaigns.change_campaign")
    assert marketer.has_perm("campaigns.change_segment")


def test_loading_the_staff_again_takes_back_what_a_group_no_longer_has(staff):
    marketer = staff["marketer"]
    marketer.groups.get().permissions.add(Permission.objects.get(codename="export_customers"))

    load_staff()

    assert not User.objects.get(username="marketer").has_perm("customers.export_customers")
