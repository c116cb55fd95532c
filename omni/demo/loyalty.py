"""Demo loyalty programme: rules, tiers and members whose points are in every state.

Earnings normally wait 30 days before they can be spent; the demo fast-forwards that wait
for some of them (``mature_points(now=...)``) so a newcomer sees available points at once.
Everything goes through the loyalty services with idempotency keys, so reloading replays.
"""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from customers.models import Customer
from inventory.models import Category
from loyalty import services
from loyalty.models import Card, EarnRule, Programme
from loyalty.services import QuoteLine


def load_loyalty() -> None:
    # The programme and tiers a real database gets from `manage.py setup_loyalty`: Omni
    # Rewards, with Member, Silver (500) and Gold (1500).
    programme = services.set_up_programme().programme
    _load_rules(programme)
    members = {c.email.split(".")[0]: c for c in Customer.objects.filter(erased_at=None)}
    if "camille" in members:
        _camille(members["camille"])
    if "louis" in members:
        _louis(members["louis"])
    if "chloe" in members:
        _chloe(members["chloe"])
    if "hugo" in members:
        services.enrol(customer=members["hugo"])


def _load_rules(programme: Programme) -> None:
    now = timezone.now()
    rules: list[dict[str, Any]] = [
        {
            "name": "Double points in the iOS app",
            "kind": "channel",
            "channel": "ios",
            "multiplier": Decimal(2),
        },
        {
            "name": "Double points in the Android app",
            "kind": "channel",
            "channel": "android",
            "multiplier": Decimal(2),
        },
        {"name": "Welcome bonus", "kind": "action", "action": "sign_up", "bonus_points": 200},
        {
            "name": "First pick-up in store",
            "kind": "action",
            "action": "first_pickup",
            "bonus_points": 100,
        },
        {
            "name": "Autumn rain-ready campaign",
            "kind": "campaign",
            "campaign_code": "AUTUMN",
            "bonus_points": 150,
        },
    ]
    outerwear = Category.objects.filter(code="outerwear").first()
    if outerwear:
        rules.append(
            {
                "name": "Outerwear fortnight",
                "kind": "category",
                "category": outerwear,
                "multiplier": Decimal("1.5"),
                "starts_at": now,
                "ends_at": now + timedelta(days=14),
            }
        )
    for rule in rules:
        name = rule.pop("name")
        if not programme.rules.filter(name=name).exists():
            EarnRule.objects.create(programme=programme, name=name, **rule)


def _earn(customer, amount: str, key: str, channel: str = "web") -> None:
    services.earn_for_order(
        customer=customer,
        reference=key,
        lines=[QuoteLine(Decimal(amount), label="Demo order")],
        channel=channel,
        idempotency_key=f"demo:{key}",
    )


def _camille(camille) -> None:
    """A Silver member with available points, some already spent in store."""
    services.award_bonus(customer=camille, action="sign_up", idempotency_key="demo:camille:signup")
    _earn(camille, "389.00", "WEB-100231")
    _earn(camille, "254.50", "WEB-100377")
    if services.enrol(customer=camille).pending:  # first load only: later members stay pending
        services.mature_points(now=timezone.now() + timedelta(days=31))  # the fast-forward
    services.redeem(
        customer=camille,
        points=300,
        reference="TILL-PAR-RIV-0042",
        source="store",
        channel="store",
        idempotency_key="demo:camille:redeem",
    )


def _louis(louis) -> None:
    """Pending points from a store purchase, and a card reported lost and replaced."""
    _earn(louis, "119.00", "STORE-PAR-BAS-0007", channel="store")
    account = services.enrol(customer=louis)
    if not account.cards.filter(status=Card.Status.BLOCKED).exists():
        services.replace_card(account=account, reason="Lost wallet")


def _chloe(chloe) -> None:
    """Double points from the app, and a goodwill adjustment with its reason."""
    _earn(chloe, "69.00", "IOS-200019", channel="ios")
    services.adjust_points(
        account=services.enrol(customer=chloe),
        points=50,
        reason="Goodwill: click-and-collect order was late",
        idempotency_key="demo:chloe:goodwill",
    )
