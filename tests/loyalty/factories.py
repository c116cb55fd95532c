from decimal import Decimal

from customers.models import Customer
from loyalty.models import Programme, Tier


def programme(**overrides) -> Programme:
    """The programme most tests use: 1 point per euro, 30 days pending, a year to live,
    a point worth 1 cent, at least 100 points per redemption, and three tiers."""
    values = {
        "name": "Omni Rewards",
        "points_per_currency_unit": Decimal("1"),
        "pending_days": 30,
        "expiry_days": 365,
        "point_value": Decimal("0.01"),
        "minimum_redemption": 100,
        **overrides,
    }
    made = Programme.objects.create(**values)
    for rank, (name, threshold, multiplier) in enumerate(
        [("Member", "0", "1.00"), ("Silver", "500", "1.25"), ("Gold", "1500", "1.50")]
    ):
        Tier.objects.create(
            programme=made,
            name=name,
            rank=rank,
            threshold=Decimal(threshold),
            earn_multiplier=Decimal(multiplier),
        )
    return made


_made = iter(range(10**9))


def customer(**fields) -> Customer:
    n = next(_made)
    return Customer.objects.create(
        first_name=fields.pop("first_name", f"Member{n}"),
        email=fields.pop("email", f"member{n}@example.com"),
        **fields,
    )
