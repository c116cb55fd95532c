"""Conversion per sales channel and across them: of the visitors who looked at a product (a
product view or an add to cart) on a channel in a date range, the share who placed an order
on that channel — and on each other channel ("viewed online, bought in store") — within N days
after one of those looks.

**Visitors** are counted once per channel they browsed on: a known customer by their profile
(whatever device), an unrecognised visitor by their anonymous id (a touchpoint with neither
is left out). Only known customers can be followed to an order, so an anonymous visitor counts
among the visitors and never as a buyer; both rates are given, over every visitor and over the
known ones. When a visitor is later recognised, their earlier touchpoints are theirs.

**Orders** are those of any status but cancelled or expired (a return does not undo one),
placed at or after a look in the range and at most N days after it, so an order up to N days
after the range's last day counts. Looks of the last N days before today have not had their
whole window yet. A store filter keeps only the orders at that store (pick-ups and till
sales), so the table answers "who browsed, then bought at this store".

**How.** One query: the looks and the orders as two sub-queries, joined per customer with the
window, counted per browse channel and order channel (``COUNT(DISTINCT ...)``), with the
visitors per browse channel beside them (``UNION ALL``). Portable SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from campaigns.reporting import sales_channels
from campaigns.reporting.attribution import check_range
from campaigns.reporting.sales_channels import SalesChannel
from campaigns.rules import relations
from customers.models import Touchpoint
from omni.core.errors import InvalidInput

LOOKS = (Touchpoint.Kind.PRODUCT_VIEW.value, Touchpoint.Kind.ADD_TO_CART.value)
MAX_WINDOW_DAYS = 365
ANY = "*"  # an order on any channel


def window(days: int | None) -> int:
    """The window given, else ``CONVERSION_WINDOW_DAYS``, checked."""
    chosen = settings.CONVERSION_WINDOW_DAYS if days is None else days
    if (
        isinstance(chosen, bool)
        or not isinstance(chosen, int)
        or not 1 <= chosen <= MAX_WINDOW_DAYS
    ):
        raise InvalidInput(
            f"The conversion window must be a whole number of days from 1 to {MAX_WINDOW_DAYS} "
            f"(got {chosen!r}).",
            details={"window_days": str(chosen)},
        )
    return chosen


@dataclass
class BrowseChannel:
    """The visitors who browsed on ``channel``, and who of them bought where."""

    channel: str
    visitors: int
    known: int  # of them, recognised customers
    bought: dict[str, int]  # order channel (or ANY) -> buyers

    @property
    def label(self) -> str:
        return sales_channels.label(self.channel)

    def rate(self, bought_on: str) -> float:
        """Buyers on ``bought_on`` (ANY: on any channel) per visitor."""
        return self.bought.get(bought_on, 0) / self.visitors if self.visitors else 0.0

    def known_rate(self, bought_on: str) -> float:
        return self.bought.get(bought_on, 0) / self.known if self.known else 0.0

    @property
    def same_channel_rate(self) -> float:
        """Per-channel conversion: browsed here, bought here."""
        return self.rate(self.channel)


@dataclass
class ConversionReport:
    start: date
    end: date
    window_days: int
    rows: list[BrowseChannel]
    bought_on: list[str]  # the order channels, in order (the matrix's columns)


def _looks(since: datetime, until: datetime, channel: str) -> QuerySet[Any]:
    """The looks of the range, each with its sales channel (``sales``)."""
    looks: QuerySet[Any] = Touchpoint.objects.filter(
        kind__in=LOOKS, occurred_at__gte=since, occurred_at__lt=until
    ).annotate(sales=sales_channels.sales_channel())
    if channel:
        looks = looks.filter(sales=channel)
    return looks


def _rows(
    start: date, end: date, window_days: int, channel: str, store_code: str
) -> list[tuple[Any, ...]]:
    since, until = sales_channels.bounds(start, end)
    looks_sql, looks_params = (
        _looks(since, until, channel)
        .values("customer_id", "anonymous_id", "occurred_at", "sales")
        .order_by()
        .query.sql_with_params()
    )
    orders = relations.order_model()._default_manager.filter(
        status__in=relations.purchase_statuses(),
        customer__isnull=False,
        placed_at__gte=since,
        placed_at__lt=until + timedelta(days=window_days),
    )
    if store_code:
        orders = orders.filter(store__code=store_code)
    orders_sql, orders_params = (
        orders.annotate(sales=sales_channels.sales_channel())
        .values("customer_id", "placed_at", "sales")
        .order_by()
        .query.sql_with_params()
    )
    within = sales_channels.within_days_after("o.placed_at", "l.occurred_at")
    sql = f"""
        WITH looks (customer_id, anonymous_id, occurred_at, channel) AS ({looks_sql}),
        orders (customer_id, placed_at, channel) AS ({orders_sql}),
        bought AS (
            SELECT l.channel AS browsed, o.channel AS bought, l.customer_id
            FROM looks l JOIN orders o ON o.customer_id = l.customer_id AND {within}
        )
        SELECT 'visitors', channel, '',
               COUNT(DISTINCT CASE
                   WHEN customer_id IS NOT NULL THEN 'c' || CAST(customer_id AS TEXT)
                   WHEN anonymous_id <> '' THEN 'a' || anonymous_id END),
               COUNT(DISTINCT customer_id)
        FROM looks GROUP BY channel
        UNION ALL
        SELECT 'bought', browsed, bought, COUNT(DISTINCT customer_id), 0
        FROM bought GROUP BY browsed, bought
        UNION ALL
        SELECT 'bought', browsed, '{ANY}', COUNT(DISTINCT customer_id), 0
        FROM bought GROUP BY browsed
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*looks_params, *orders_params, window_days])
        return list(cursor.fetchall())


def conversion(
    *,
    start: date,
    end: date,
    window_days: int | None = None,
    channel: str = "",
    store_code: str = "",
) -> ConversionReport:
    """Visitors who browsed from ``start`` to ``end`` (days included, ``TIME_ZONE``), per
    browse channel (or only ``channel``), and who of them bought on each channel within the
    window (only orders at ``store_code`` when given). One query."""
    check_range(start, end)
    days = window(window_days)
    if channel and channel not in SalesChannel.values:
        raise InvalidInput(
            f"Unknown sales channel {channel!r}: one of {', '.join(SalesChannel.values)}.",
            details={"channel": channel},
        )
    rows: dict[str, BrowseChannel] = {}
    for kind, browsed, bought, count, known in _rows(start, end, days, channel, store_code):
        row = rows.setdefault(browsed, BrowseChannel(browsed, 0, 0, {}))
        if kind == "visitors":
            row.visitors, row.known = int(count), int(known)
        else:
            row.bought[bought] = int(count)
    return ConversionReport(
        start=start,
        end=end,
        window_days=days,
        rows=[rows[c] for c in SalesChannel.values if c in rows],
        bought_on=list(SalesChannel.values),
    )
