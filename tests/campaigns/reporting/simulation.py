"""Purchase histories drawn from the BG/NBD and Gamma-Gamma models with known parameters
(numpy, a fixed seed), as event times so that a holdout period can be cut from them, and
written as orders for the tests that go through the database."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
from django.db import connection

from campaigns.reporting.clv import BgNbd, GammaGamma
from customers.models import Customer
from orders.models import Order

# Enough repeat purchases for nearly every customer: the (few) who would buy more within the
# period are cut at MAX_EVENTS (a truncation the tests' parameters make negligible).
MAX_EVENTS = 80


@dataclass
class Simulated:
    """Repeat purchase times (days after the first purchase, NaN past the last one) and the
    value of each purchase, first purchase included (column 0)."""

    times: np.ndarray  # (n, MAX_EVENTS)
    values: np.ndarray  # (n, MAX_EVENTS + 1)

    def counts(self, start, end) -> np.ndarray:
        """Repeat purchases in (start, end] days after each customer's first purchase."""
        start = np.asarray(start, dtype=float)[:, None]
        end = np.asarray(end, dtype=float)[:, None]
        return ((self.times > start) & (self.times <= end)).sum(axis=1)

    def history(self, big_t) -> tuple[np.ndarray, np.ndarray]:
        """(x, t_x) observed for big_t days after the first purchase."""
        big_t = np.asarray(big_t, dtype=float)
        seen = self.times <= big_t[:, None]
        x = seen.sum(axis=1)
        t_x = np.where(seen, self.times, 0.0).max(axis=1)
        return x, t_x


def simulate(purchases: BgNbd, spend: GammaGamma, n: int, rng: np.random.Generator) -> Simulated:
    rate = rng.gamma(purchases.r, 1.0 / purchases.alpha, n)
    dropout = rng.beta(purchases.a, purchases.b, n)
    gaps = rng.exponential(1.0, (n, MAX_EVENTS)) / rate[:, None]
    times = np.cumsum(gaps, axis=1)
    # The customer drops out right after repeat purchase J ~ Geometric(p): none after it.
    last = rng.geometric(dropout)
    times[np.arange(MAX_EVENTS)[None, :] >= last[:, None]] = np.nan
    nu = rng.gamma(spend.q, 1.0 / spend.gamma, n)
    values = rng.gamma(spend.p, 1.0 / nu[:, None], (n, MAX_EVENTS + 1))
    return Simulated(times=times, values=values)


def write_orders(
    simulated: Simulated, *, first_days_ago, now: datetime, channels=("web",), store=None
) -> list[Customer]:
    """One customer per simulated history, first purchase ``first_days_ago[i]`` days before
    ``now`` at noon, repeat purchases on the days their times fall (up to ``now``), with the
    simulated values; the channel cycles through ``channels`` by purchase."""
    n = len(first_days_ago)
    customers = Customer.objects.bulk_create(
        Customer(first_name=f"sim{i}", email=f"sim{i}@example.com") for i in range(n)
    )
    orders = []
    for i, customer in enumerate(customers):
        start = now.replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(
            days=int(first_days_ago[i])
        )
        days = [0.0, *(t for t in simulated.times[i] if t == t and t <= first_days_ago[i])]
        for k, day in enumerate(days):
            channel = channels[k % len(channels)]
            total = Decimal(str(round(float(simulated.values[i, k]), 2)))
            orders.append(
                Order(
                    number=f"S{i:05d}-{k:03d}",
                    customer=customer,
                    channel=channel,
                    fulfilment="in_store" if channel == "store" else "delivery",
                    store=store if channel == "store" else None,
                    status="completed" if channel == "store" else "delivered",
                    subtotal=total,
                    total=total,
                    placed_at=start + timedelta(days=int(day)),
                )
            )
    moments = [order.placed_at for order in orders]
    Order.objects.bulk_create(orders, batch_size=5000)
    # bulk_create stamps auto_now_add fields with the clock; the purchase moments go back, in
    # one statement (PostgreSQL's unnest of two arrays).
    table = Order._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET placed_at = v.at FROM unnest(%s::bigint[], %s::timestamptz[])"
            f" AS v(id, at) WHERE {table}.id = v.id",
            [[order.pk for order in orders], moments],
        )
    return customers
