"""Channel attribution times at a chosen scale, on PostgreSQL.

Like ``benchmark_segments``: every table of customers, inventory, loyalty, orders and campaigns
is copied empty into a schema of its own (``bench_attribution``) searched first, the synthetic
data is made in SQL with ``generate_series`` (no Python loop over rows), then the usual service
(``campaigns.reporting.attribution.compute_attribution``) credits the last ``--days`` days'
orders by every model and the time of each part is printed: the journeys, then each model (the
Markov one with its transition counts and its solve). The schema is dropped at the end
(``--keep`` leaves it). Prints figures; asserts nothing.
"""

import time
from datetime import timedelta
from typing import Any

from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from campaigns.reporting import attribution
from omni.management.benchmarking import BenchmarkCommand

SCHEMA = "bench_attribution"
STORES = 50
CAMPAIGNS = 40
# Touchpoints by i % 20: what they are and where they came from.
TOUCHPOINT_MIX = """
    CASE WHEN m < 6 THEN 'page_view' WHEN m < 10 THEN 'product_view'
         WHEN m = 10 THEN 'email_open' WHEN m = 11 THEN 'email_click'
         WHEN m IN (12, 13) THEN 'ad_click' WHEN m = 14 THEN 'qr_scan'
         WHEN m IN (15, 16) THEN 'store_visit' ELSE 'page_view' END
"""


class Command(BenchmarkCommand):
    schema = SCHEMA

    help = (
        "Build synthetic customers, stores, touchpoints (web, apps, stores, e-mails, ads, QR "
        "scans, store visits, social, referral and SMS links) and orders in a schema of their "
        "own (set-based SQL), then time every attribution model over the last --days days' "
        "orders; drops the schema at the end. PostgreSQL only, e.g. `make "
        'benchmark-attribution ARGS="--customers 1000000 --touchpoints 10000000"`.'
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--touchpoints", type=int, default=1_000_000)
        parser.add_argument(
            "--orders", type=float, default=0.5, help="Orders per customer in the range."
        )
        parser.add_argument("--days", type=int, default=30, help="Days of orders credited.")
        parser.add_argument("--seed", type=float, default=0.42, help="For setseed(), -1..1.")
        parser.add_argument("--keep", action="store_true", help="Leave the schema in place.")

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            raise CommandError("Benchmarks mean something on PostgreSQL only (see --help).")
        if opts["customers"] < 10 or opts["touchpoints"] < 0 or opts["days"] < 1:
            raise CommandError("At least 10 customers and 1 day, and no negative touchpoints.")
        self.now = timezone.now()
        with self.own_schema(keep=opts["keep"]):
            self.build(opts)
            self.measure(opts["days"])

    # --- the data -------------------------------------------------------------------------

    def build(self, opts: dict[str, Any]) -> None:
        n, touchpoints, days = opts["customers"], opts["touchpoints"], opts["days"]
        orders = max(1, int(n * opts["orders"]))
        self.sql("SELECT setseed(%s)", [opts["seed"]])
        self.step(f"{STORES} stores", self.stores)
        self.chunked("customers", n, self.customers)
        # Touchpoints over the range and the look-back before it.
        span = days + 30
        self.chunked("touchpoints", touchpoints, self.touchpoints, n=n, span=span)
        self.chunked("orders", orders, self.orders, n=n, days=days)
        tidy = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        self.step(tidy, lambda: self.sql(f"{tidy} {', '.join(self.tables())}"))

    def stores(self) -> None:
        self.sql(
            "INSERT INTO inventory_location (code, name, kind, address, city, postcode, country,"
            " latitude, longitude, time_zone, opening_hours, pickup_enabled, ship_from_enabled,"
            " pickup_hold_days, is_active)"
            " SELECT 'BENCH-' || lpad(i::text, 3, '0'), 'Bench store ' || i, 'store', '',"
            " 'Paris', '', 'FR', 48.8, 2.3, '', '{}'::jsonb, true, true, 7, true"
            " FROM generate_series(0, %s) AS i",
            [STORES - 1],
        )

    def customers(self, first: int, last: int) -> None:
        self.sql(
            "INSERT INTO customers_customer (public_id, first_name, last_name, email, phone,"
            " preferred_store_code, first_seen_channel, time_zone, password, created_at,"
            " updated_at)"
            " SELECT gen_random_uuid(), 'Bench', '', 'bench' || i || '@example.invalid', '',"
            " '', (ARRAY['web', 'ios', 'android', 'store'])[1 + i %% 4], '', '',"
            " %s - interval '400 days', %s FROM generate_series(%s, %s) AS i",
            [self.now, self.now, first, last],
        )

    def touchpoints(self, first: int, last: int, n: int, span: int) -> None:
        # 50 % direct browsing, 10 % e-mails (with a campaign), 10 % ad clicks, 5 % QR scans,
        # 10 % store visits, 5 % social, 5 % referral and 5 % SMS links (with a campaign).
        self.sql(
            "INSERT INTO customers_touchpoint (customer_id, anonymous_id, event_id, kind,"
            " channel, occurred_at, received_at, url, sku_code, product_code, store_code,"
            " campaign_code, utm_source, utm_medium, utm_campaign, utm_term, utm_content,"
            " properties)"
            " SELECT 1 + floor(random() * %s)::bigint, '', '', kind,"
            " CASE WHEN kind IN ('qr_scan', 'store_visit') THEN 'store'"
            "  ELSE (ARRAY['web', 'ios', 'android'])[1 + i %% 3] END,"
            " %s - random() * %s * interval '1 day', %s, '', '', '',"
            " CASE WHEN kind IN ('qr_scan', 'store_visit')"
            "  THEN 'BENCH-' || lpad((i %% %s)::text, 3, '0') ELSE '' END,"
            " CASE WHEN m IN (10, 11, 19) THEN 'BENCH-C' || (i %% %s) ELSE '' END,"
            " CASE m WHEN 12 THEN 'google' WHEN 13 THEN 'meta' WHEN 17 THEN 'instagram'"
            "  WHEN 18 THEN 'blog' ELSE '' END,"
            " CASE m WHEN 12 THEN 'cpc' WHEN 13 THEN 'paid_social' WHEN 17 THEN 'social'"
            "  WHEN 18 THEN 'referral' WHEN 19 THEN 'sms' ELSE '' END,"
            " CASE WHEN m IN (12, 13) THEN 'bench-ads-' || (i %% 5) ELSE '' END,"
            " '', '', '{}'::jsonb"
            f" FROM (SELECT i, m, {TOUCHPOINT_MIX} AS kind"
            "  FROM (SELECT i, i %% 20 AS m FROM generate_series(%s, %s) AS i) AS g) AS t",
            [n, self.now, span, self.now, STORES, CAMPAIGNS, first, last],
        )

    def orders(self, first: int, last: int, n: int, days: int) -> None:
        # Placed over the range (up to yesterday); a quarter at the till, 3 % cancelled.
        self.sql(
            "INSERT INTO orders_order (number, customer_id, channel, fulfilment, status,"
            " store_id, ship_to, currency, subtotal, offer_discount, points_redeemed,"
            " points_discount, total, pickup_code, pickup_code_failures, checkout_fingerprint,"
            " placed_at, updated_at)"
            " SELECT 'B' || i, 1 + floor(random() * %s)::bigint, ch, f,"
            " CASE WHEN random() < 0.03 THEN 'cancelled' WHEN f = 'in_store' THEN 'completed'"
            "  ELSE 'delivered' END,"
            " CASE WHEN f = 'in_store' THEN 1 + (i %% %s) END, '{}'::jsonb, 'EUR', amount, 0, 0,"
            " 0, amount, '', 0, '', date_trunc('day', %s::timestamptz) - interval '1 second'"
            " - random() * %s * interval '1 day', %s"
            " FROM (SELECT i, (ARRAY['web', 'ios', 'android', 'store'])[1 + i %% 4] AS ch,"
            "  CASE WHEN i %% 4 = 3 THEN 'in_store' ELSE 'delivery' END AS f,"
            "  round((10 + random() * 290)::numeric, 2) AS amount"
            "  FROM generate_series(%s, %s) AS i) AS o",
            [n, STORES, self.now, days - 1, self.now, first, last],
        )

    # --- the figures ----------------------------------------------------------------------

    def measure(self, days: int) -> None:
        today = timezone.localdate(self.now)
        start, end = today - timedelta(days=days), today - timedelta(days=1)
        self.say(f"Attribution of {start} to {end}, every model:")
        started = time.perf_counter()
        run = attribution.compute_attribution(start=start, end=end, now=self.now)
        total = time.perf_counter() - started
        for part, seconds in run.seconds.items():
            self.say(f"{seconds:9.2f} s  {part}")
        self.say(f"{total:9.2f} s  in all (one transaction)")
        self.say(f"  {run.orders:,} orders, {run.steps:,} journey steps, {run.rows:,} roll-up rows")
        effects = ", ".join(f"{c} {e:.3f}" for c, e in sorted(run.removal_effects.items()))
        self.say(f"  removal effects: {effects}")
