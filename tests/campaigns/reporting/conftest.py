"""The reporting tests' data. Hand-made journeys whose credits are worked out by hand, the
clock frozen at ``NOW``; the orders are placed on ``DAY`` (yesterday), the default look-back is
30 days.

    anna   e-mail click (campaign SPRING) 10 days before, an ad click (cpc, brand-search)
           5 days before, a direct page view 1 day before; web order of 100.00
    ben    visited Paris Rivoli 3 days before buying there at the till: 60.00
    chloe  web order of 40.00 with nothing in its window: a page view 40 days before (out of
           the look-back), a "purchase" event (a conversion, not a step) and a view after it
    david  clicked an e-mail 2 days ago and bought nothing (a null path for the chain)
    guest  an order of 25.00 without a customer
    and    a cancelled order (never credited), an order the day before (out of the range)

And a customer base drawn from the CLV models with known parameters, written as orders
(``base``).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
import time_machine

from campaigns.reporting.clv import BgNbd, GammaGamma
from customers.models import Customer, Touchpoint
from inventory.models import Location
from orders.models import Order
from tests.campaigns.factories import order, touch
from tests.campaigns.reporting.simulation import simulate, write_orders
from tests.inventory.factories import LocationFactory

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
DAY = date(2026, 3, 14)
Kind = Touchpoint.Kind


def at(hour: int, **before) -> datetime:
    """``DAY`` at ``hour``, moved back by ``before`` (e.g. days=3)."""
    return datetime(2026, 3, 14, hour, 0, tzinfo=UTC) - timedelta(**before)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@dataclass
class Journeys:
    paris: Location
    anna: Order
    ben: Order
    chloe: Order
    guest: Order
    david: Customer


@pytest.fixture
def journeys(db, frozen) -> Journeys:
    paris = LocationFactory(code="PAR-RIV", name="Paris Rivoli")
    anna, ben, chloe, david = (
        Customer.objects.create(first_name=name) for name in ("Anna", "Ben", "Chloe", "David")
    )
    touch(anna, Kind.EMAIL_CLICK, at=at(10, days=10), campaign_code="SPRING")
    touch(anna, Kind.AD_CLICK, at=at(10, days=5), utm_medium="cpc", utm_campaign="brand-search")
    touch(anna, Kind.PAGE_VIEW, at=at(10, days=1))
    anna_order = order(anna, at=at(10), total="100.00")

    touch(ben, Kind.STORE_VISIT, at=at(15, days=3), channel="store", store_code="PAR-RIV")
    ben_order = order(
        ben,
        at=at(15),
        total="60.00",
        channel="store",
        fulfilment="in_store",
        status="completed",
        store=paris,
    )

    touch(chloe, Kind.PAGE_VIEW, at=at(9, days=40), utm_medium="cpc")
    touch(chloe, Kind.PURCHASE, at=at(9))
    touch(chloe, Kind.PRODUCT_VIEW, at=at(9, hours=-1), utm_medium="email")
    chloe_order = order(chloe, at=at(9), total="40.00")

    touch(david, Kind.EMAIL_CLICK, at=at(12, days=1), campaign_code="SPRING")

    guest_order = order(None, at=at(18), total="25.00")
    order(anna, at=at(11), total="999.00", status="cancelled")
    order(ben, at=at(11, days=1), total="999.00")
    return Journeys(paris, anna_order, ben_order, chloe_order, guest_order, david)


PURCHASES = BgNbd(r=1.0, alpha=30.0, a=1.2, b=6.0)
SPEND = GammaGamma(p=8.0, q=12.0, gamma=30.0)


@pytest.fixture
def base(db, frozen):
    """400 customers, first purchase 200 to 700 days before NOW; every third purchase at the
    till, so most repeat buyers are omnichannel."""
    rng = np.random.default_rng(14)
    simulated = simulate(PURCHASES, SPEND, 400, rng)
    first_days_ago = rng.integers(200, 701, 400)
    customers = write_orders(
        simulated,
        first_days_ago=first_days_ago,
        now=NOW,
        channels=("web", "web", "store"),
        store=LocationFactory(),
    )
    return customers
