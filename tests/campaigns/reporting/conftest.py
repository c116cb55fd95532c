"""A customer base drawn from the CLV models with known parameters, written as orders."""

import numpy as np
import pytest

from campaigns.reporting.clv import BgNbd, GammaGamma
from tests.campaigns.conftest import NOW
from tests.campaigns.reporting.simulation import simulate, write_orders
from tests.inventory.factories import LocationFactory

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
