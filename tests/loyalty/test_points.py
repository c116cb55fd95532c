from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from customers.models import Identity
from customers.services import erase_customer
from inventory.models import Category
from loyalty import services
from loyalty.models import Account, Card, EarnRule, PointsEntry, PointsLot
from loyalty.services import QuoteLine
from omni.core.errors import CardBlocked, Conflict, InsufficientPoints, InvalidRequest
from tests.customers.factories import CustomerFactory
from tests.loyalty.factories import customer, programme

pytestmark = pytest.mark.django_db

NEW_YEAR = datetime(2026, 1, 1, 10, tzinfo=UTC)


def earn(member, amount: str, *, key: str, reference: str = "", channel: str = "web"):
    return services.earn_for_order(
        customer=member,
        reference=reference or key,
        lines=[QuoteLine(Decimal(amount))],
        channel=channel,
        idempotency_key=key,
    )


def redeem(member, points: int, key: str, **kwargs):
    return services.redeem(
        customer=member,
        points=points,
        reference=key,
        source="order",
        idempotency_key=key,
        **kwargs,
    )


def account_of(member) -> Account:
    return Account.objects.get(customer=member)


def ledger_sums(account: Account) -> tuple[int, int]:
    sums = account.entries.aggregate(a=Sum("available"), p=Sum("pending"))
    return sums["a"] or 0, sums["p"] or 0


def test_enrolment_gives_the_entry_tier_and_a_card_with_a_valid_check_digit():
    programme()
    member = customer()

    account = services.enrol(customer=member)

    assert account.tier.name == "Member"
    card = account.cards.get()
    assert services.is_valid_card_number(card.number)
    assert services.enrol(customer=member) == account


def test_a_card_number_with_a_wrong_check_digit_is_not_valid():
    valid = services.new_card_number()
    wrong = valid[:-1] + str((int(valid[-1]) + 1) % 10)

    assert not services.is_valid_card_number(wrong)


def test_earned_points_stay_pending_and_a_retry_never_earns_twice():
    programme()
    member = customer()

    first = earn(member, "89.90", key="order:1001:earn")
    again = earn(member, "89.90", key="order:1001:earn")

    account = account_of(member)
    assert again == first
    assert (account.available, account.pending) == (0, 89)
    assert ledger_sums(account) == (0, 89)


def test_a_quote_explains_each_rule_that_applied():
    made = programme()
    clothing = Category.objects.create(code="clothing", name="Clothing")
    jackets = Category.objects.create(code="jackets", name="Jackets", parent=clothing)
    EarnRule.objects.create(
        programme=made,
        name="Double points in the app",
        kind="channel",
        channel="ios",
        multiplier=Decimal("2"),
    )
    EarnRule.objects.create(
        programme=made,
        name="Clothing week",
        kind="category",
        category=clothing,
        multiplier=Decimal("1.5"),
    )
    EarnRule.objects.create(
        programme=made,
        name="Autumn campaign",
        kind="campaign",
        campaign_code="AUTUMN",
        bonus_points=50,
    )

    quote = services.quote_points(
        lines=[QuoteLine(Decimal("40.00"), jackets.pk, "Rain jacket"), QuoteLine(Decimal("9.99"))],
        channel="ios",
        campaign_codes=("AUTUMN",),
    )

    # 40 x 2 x 1.5 = 120, 9.99 x 2 = 19.98, + 50 bonus = 189.98, rounded down
    assert quote.points == 189
    assert [f["rule"] for f in quote.explanation[0]["factors"]] == [
        "Double points in the app",
        "Clothing week",
    ]
    assert quote.explanation[-1] == {"rule": "Autumn campaign", "bonus": 50}


def test_a_rule_outside_its_dates_does_not_apply():
    made = programme()
    EarnRule.objects.create(
        programme=made,
        name="Old promo",
        kind="channel",
        channel="web",
        multiplier=Decimal("3"),
        ends_at=NEW_YEAR,
    )

    quote = services.quote_points(lines=[QuoteLine(Decimal("10"))], channel="web")

    assert quote.points == 10


def test_pending_points_become_available_after_the_return_window(time_machine):
    programme()
    member = customer()
    time_machine.move_to(NEW_YEAR)
    earn(member, "250", key="o1")

    time_machine.move_to(NEW_YEAR + timedelta(days=29))
    assert services.mature_points() == 0
    time_machine.move_to(NEW_YEAR + timedelta(days=30, seconds=1))
    assert services.mature_points() == 250

    account = account_of(member)
    assert (account.available, account.pending) == (250, 0)
    assert ledger_sums(account) == (250, 0)


def matured_member(*amounts: str, time_machine) -> object:
    """A member whose earnings (one per month from New Year) have all matured."""
    programme()
    member = customer()
    for month, amount in enumerate(amounts):
        time_machine.move_to(NEW_YEAR + timedelta(days=31 * month))
        earn(member, amount, key=f"order:{month}")
    time_machine.move_to(NEW_YEAR + timedelta(days=31 * len(amounts) + 30))
    services.mature_points()
    return member


def test_redemption_below_the_minimum_or_above_the_balance_is_refused_and_changes_nothing(
    time_machine,
):
    member = matured_member("150", time_machine=time_machine)

    with pytest.raises(InvalidRequest):
        redeem(member, 99, "r1")
    with pytest.raises(InsufficientPoints):
        redeem(member, 151, "r2")
    with pytest.raises(InvalidRequest):
        redeem(member, -5, "r3")

    assert account_of(member).available == 150
    assert not PointsEntry.objects.filter(kind="redeem").exists()


def test_redemption_is_worth_the_point_value_and_a_retry_returns_the_first(time_machine):
    member = matured_member("300", time_machine=time_machine)

    first = redeem(member, 200, "till:77")
    again = redeem(member, 200, "till:77")

    assert (first.points, first.value) == (200, Decimal("2.00"))
    assert again.entry == first.entry
    assert account_of(member).available == 100


def test_a_blocked_card_cannot_redeem_but_the_new_card_can(time_machine):
    member = matured_member("300", time_machine=time_machine)
    account = account_of(member)
    old = account.cards.get()

    new = services.replace_card(account=account, reason="Lost on the train")

    with pytest.raises(CardBlocked):
        services.redeem(
            card_number=old.number,
            points=100,
            reference="t",
            source="store",
            idempotency_key="k1",
        )
    services.redeem(
        card_number=new.number, points=100, reference="t", source="store", idempotency_key="k2"
    )
    assert account_of(member).available == 200
    assert Card.objects.get(pk=old.pk).status == Card.Status.BLOCKED


def test_redemption_and_expiry_take_the_oldest_points_first(time_machine):
    # 100 points earned in January, 50 in February; all available by the end of March.
    member = matured_member("100", "50", time_machine=time_machine)
    january, february = PointsLot.objects.order_by("pk")
    redeem(member, 120, "r1")  # 100 from January, 20 from February

    assert [lot.remaining for lot in PointsLot.objects.order_by("pk")] == [0, 30]
    time_machine.move_to(january.expires_at + timedelta(seconds=1))
    assert services.expire_points() == 0  # January's points were all spent
    time_machine.move_to(february.expires_at + timedelta(seconds=1))
    assert services.expire_points() == 30

    account = account_of(member)
    assert (account.available, account.pending) == (0, 0)
    assert ledger_sums(account) == (0, 0)


def test_releasing_a_redemption_gives_the_points_back_to_the_lots_they_came_from(time_machine):
    member = matured_member("100", "50", time_machine=time_machine)
    redeem(member, 120, "order:9:redeem")

    services.release_redemption(redemption_key="order:9:redeem")
    services.release_redemption(redemption_key="order:9:redeem")

    assert [lot.remaining for lot in PointsLot.objects.order_by("pk")] == [100, 50]
    assert account_of(member).available == 150


def test_part_of_a_redemption_goes_back_once_latest_lots_first_and_the_rest_on_release(
    time_machine,
):
    member = matured_member("100", "50", time_machine=time_machine)
    redeem(member, 120, "order:9:redeem")  # 100 from the first lot, 20 from the second

    services.release_redemption(redemption_key="order:9:redeem", points=30, part="line:1")
    services.release_redemption(redemption_key="order:9:redeem", points=30, part="line:1")

    assert [lot.remaining for lot in PointsLot.objects.order_by("pk")] == [10, 50]
    assert account_of(member).available == 60

    services.release_redemption(redemption_key="order:9:redeem")  # the order is cancelled

    assert [lot.remaining for lot in PointsLot.objects.order_by("pk")] == [100, 50]
    assert account_of(member).available == 150
    assert ledger_sums(account_of(member)) == (150, 0)


def test_a_partial_release_names_its_points_and_its_part(time_machine):
    member = matured_member("100", time_machine=time_machine)
    redeem(member, 100, "order:9:redeem")

    with pytest.raises(InvalidRequest):
        services.release_redemption(redemption_key="order:9:redeem", points=10)
    with pytest.raises(InvalidRequest):
        services.release_redemption(redemption_key="order:9:redeem", points=0, part="line:1")


def test_a_return_reverses_a_pro_rata_share_of_the_orders_pending_points():
    programme()
    member = customer()
    earn(member, "200", key="order:5:earn", reference="order:5")

    services.reverse_for_return(
        customer=member,
        reference="order:5",
        returned_amount=Decimal("50"),
        idempotency_key="return:1",
    )
    services.reverse_for_return(
        customer=member,
        reference="order:5",
        returned_amount=Decimal("50"),
        idempotency_key="return:1",
    )

    account = account_of(member)
    assert (account.available, account.pending) == (0, 150)
    assert ledger_sums(account) == (0, 150)


def test_a_return_after_the_points_were_spent_never_takes_the_balance_below_zero(time_machine):
    member = matured_member("200", time_machine=time_machine)
    redeem(member, 150, "r1")

    services.reverse_for_return(
        customer=member,
        reference="order:0",
        returned_amount=Decimal("200"),
        idempotency_key="return:all",
    )

    account = account_of(member)
    assert (account.available, account.pending) == (0, 0)
    assert ledger_sums(account) == (0, 0)


def test_a_manual_adjustment_needs_a_reason_and_cannot_go_below_zero(time_machine):
    member = matured_member("120", time_machine=time_machine)
    account = account_of(member)

    with pytest.raises(InvalidRequest):
        services.adjust_points(account=account, points=-10, reason="  ")
    with pytest.raises(InsufficientPoints):
        services.adjust_points(account=account, points=-121, reason="Duplicate receipt")
    services.adjust_points(account=account, points=-20, reason="Duplicate receipt")
    services.adjust_points(account=account, points=35, reason="Goodwill: late delivery")

    account.refresh_from_db()
    assert account.available == 135
    assert ledger_sums(account) == (135, 0)


def test_a_sign_up_bonus_is_available_at_once_and_given_once():
    made = programme()
    EarnRule.objects.create(
        programme=made, name="Welcome", kind="action", action="sign_up", bonus_points=200
    )
    member = customer()

    services.award_bonus(customer=member, action="sign_up", idempotency_key="signup:m1")
    services.award_bonus(customer=member, action="sign_up", idempotency_key="signup:m1")

    assert account_of(member).available == 200


def test_qualifying_spend_upgrades_at_once_and_a_downgrade_waits_for_the_anniversary(
    time_machine,
):
    programme()
    member = customer()
    time_machine.move_to(NEW_YEAR)
    earn(member, "600", key="big-order", reference="big-order")
    assert account_of(member).tier.name == "Silver"

    # The spend leaves the rolling 12 months in January next year...
    time_machine.move_to(NEW_YEAR + timedelta(days=366))
    services.evaluate_all_tiers()
    assert account_of(member).tier.name == "Member"


def test_nothing_is_downgraded_before_the_anniversary(time_machine):
    programme()
    member = customer()
    time_machine.move_to(NEW_YEAR)
    earn(member, "600", key="big-order", reference="big-order")
    services.reverse_for_return(
        customer=member,
        reference="big-order",
        returned_amount=Decimal("600"),
        idempotency_key="return:big",
    )

    time_machine.move_to(NEW_YEAR + timedelta(days=200))
    services.evaluate_all_tiers()

    assert account_of(member).tier.name == "Silver"


def test_a_card_number_finds_its_customer_until_the_card_is_blocked():
    programme()
    member = customer()
    account = services.enrol(customer=member)
    old = account.cards.get()

    new = services.replace_card(account=account, reason="Lost")

    cards = Identity.objects.filter(kind=Identity.Kind.LOYALTY_CARD)
    assert list(cards.values_list("value", "customer")) == [(new.number, member.pk)]
    assert not cards.filter(value=old.number).exists()


def test_an_erased_customer_earns_nothing_and_gets_no_new_card():
    programme()
    customer = CustomerFactory()
    erase_customer(customer=customer, requested_via="admin")
    customer.refresh_from_db()

    earned = services.earn_for_order(
        customer=customer,
        reference="ORDER-1",
        lines=[],
        channel="store",
        idempotency_key="earn:erased",
    )

    assert earned is None
    assert not Account.objects.filter(customer=customer).exists()
    with pytest.raises(Conflict):
        services.enrol(customer=customer)
