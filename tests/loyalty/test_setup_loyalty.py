"""``manage.py setup_loyalty``: what a database needs before its first order when the demo is
not loaded. It creates the loyalty programme and its tiers once; run again, it changes
nothing, so a deployment script may run it every time."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from loyalty import services
from loyalty.models import Programme, Tier
from omni.core.errors import InvalidInput
from tests.loyalty.factories import customer

pytestmark = pytest.mark.django_db


def setup_loyalty(*args: str) -> str:
    out = StringIO()
    call_command("setup_loyalty", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def tiers() -> list[tuple[str, Decimal, Decimal]]:
    return list(Tier.objects.order_by("rank").values_list("name", "threshold", "earn_multiplier"))


def test_an_empty_database_gets_the_programme_and_its_tiers_with_progress_shown():
    output = setup_loyalty()

    programme = Programme.objects.get()
    assert programme.name == "Omni Rewards"
    assert (programme.points_per_currency_unit, programme.point_value) == (
        Decimal("1.00"),
        Decimal("0.0100"),
    )
    assert (programme.minimum_redemption, programme.pending_days, programme.expiry_days) == (
        100,
        30,
        365,
    )
    assert tiers() == [
        ("Member", Decimal("0.00"), Decimal("1.00")),
        ("Silver", Decimal("500.00"), Decimal("1.25")),
        ("Gold", Decimal("1500.00"), Decimal("1.50")),
    ]
    assert 'Created the programme "Omni Rewards"' in output
    assert "at least 100 points per redemption" in output
    for name in ("Member", "Silver", "Gold"):
        assert f"Created the tier {name}" in output


def test_the_programmes_main_values_and_tiers_are_options():
    setup_loyalty(
        "--name",
        "Club Omni",
        "--points-per-unit",
        "2",
        "--point-value",
        "0.005",
        "--minimum-redemption",
        "500",
        "--pending-days",
        "14",
        "--expiry-days",
        "730",
        "--tier-basis",
        "points",
        "--tier",
        "Club:0:1",
        "--tier",
        "VIP:2000:2",
    )

    programme = Programme.objects.get()
    assert programme.name == "Club Omni"
    assert (programme.points_per_currency_unit, programme.point_value) == (
        Decimal("2.00"),
        Decimal("0.0050"),
    )
    assert (programme.minimum_redemption, programme.pending_days, programme.expiry_days) == (
        500,
        14,
        730,
    )
    assert programme.tier_basis == "points"
    assert tiers() == [
        ("Club", Decimal("0.00"), Decimal("1.00")),
        ("VIP", Decimal("2000.00"), Decimal("2.00")),
    ]


def test_running_it_again_changes_nothing_and_says_so():
    setup_loyalty()
    programme = Programme.objects.get()
    before = tiers()

    output = setup_loyalty()

    assert Programme.objects.get() == programme
    assert tiers() == before
    assert "already set up" in output
    assert "Created" not in output


def test_a_programme_changed_in_the_admin_is_left_as_it_is():
    setup_loyalty()
    Programme.objects.update(minimum_redemption=250)
    Tier.objects.filter(name="Gold").update(threshold=Decimal("2000"))

    output = setup_loyalty("--minimum-redemption", "50", "--tier", "Basic:0:1")

    assert Programme.objects.get().minimum_redemption == 250
    assert [name for name, *_ in tiers()] == ["Member", "Silver", "Gold"]
    assert Tier.objects.get(name="Gold").threshold == Decimal("2000")
    assert "left as it is" in output


def test_a_programme_made_in_the_admin_without_tiers_gets_them():
    Programme.objects.create(name="Rewards")

    output = setup_loyalty()

    assert Programme.objects.get().name == "Rewards"
    assert [name for name, *_ in tiers()] == ["Member", "Silver", "Gold"]
    assert "Created the tier Member" in output


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--tier", "Gold:lots:1"], "NAME:THRESHOLD:MULTIPLIER"),
        (["--tier", "Gold"], "NAME:THRESHOLD:MULTIPLIER"),
        (["--tier", "Silver:100:1"], "The first tier starts at 0"),
        (["--tier", "A:0:1", "--tier", "B:500:1", "--tier", "C:500:1"], "increase"),
        (["--tier", "A:0:1", "--tier", "A:500:1"], "twice"),
        (["--tier", "A:0:-1"], "multiplier"),
        (["--point-value", "-0.01"], "point_value"),
        (["--name", ""], "name"),
    ],
)
def test_bad_values_are_refused_and_create_nothing(args, complaint):
    with pytest.raises(CommandError, match=complaint):
        setup_loyalty(*args)

    assert not Programme.objects.exists()
    assert not Tier.objects.exists()


def test_the_service_refuses_bad_tiers_with_the_fields_named():
    with pytest.raises(InvalidInput) as refused:
        services.set_up_programme(tiers=[])

    assert "tiers" in refused.value.details
    assert not Programme.objects.exists()


def test_after_set_up_a_customer_can_join_and_earn():
    setup_loyalty()
    camille = customer()

    entry = services.earn_for_order(
        customer=camille,
        reference="OM-FIRST",
        lines=[services.QuoteLine(Decimal("42.00"))],
        channel="web",
        idempotency_key="order:OM-FIRST:earn",
    )

    assert entry is not None
    assert entry.pending == 42
    assert camille.loyalty_account.tier.name == "Member"
