"""Segment refresh times at a chosen scale, on PostgreSQL.

Everything happens in a schema of its own (``bench_segments``): every table of customers,
inventory, loyalty, orders and campaigns is copied there empty (columns, constraints and
indexes, no rows), the connection's ``search_path`` puts it first, and the synthetic data is
made in SQL with ``generate_series`` (no Python loop over rows). The usual services then run
unchanged against it: RFM scores, a live count, and a few representative segments refreshed
twice (the first refresh writes every member, the second only the difference). The schema is
dropped at the end (``--keep`` leaves it for a look). Prints figures; asserts nothing.
"""

import time
from typing import Any

from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from campaigns import selectors, services
from campaigns.models import Segment, SegmentRefresh
from omni.management.benchmarking import BenchmarkCommand

SCHEMA = "bench_segments"
STORES = 50
CITIES = ["Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Lille", "Bordeaux", "Nice"]
BRANDS = 20

SEGMENTS: dict[str, dict[str, Any]] = {
    "Recent big spenders": {
        "and": [
            {"field": "recency_days", "operator": "lte", "value": 90},
            {"field": "spend", "operator": "gte", "value": 300, "days": 365},
        ]
    },
    "Viewed trail running, did not buy, e-mail consent": {
        "and": [
            {
                "field": "viewed_category_not_bought",
                "operator": "in",
                "value": ["bench-c1"],
                "days": 30,
            },
            {"field": "consent", "operator": "granted", "value": "email", "purpose": "marketing"},
        ]
    },
    "Lapsed Gold and Silver, never returned": {
        "and": [
            {"field": "loyalty_tier", "operator": "in", "value": ["Gold", "Silver"]},
            {"field": "recency_days", "operator": "gte", "value": 180},
            {"not": {"field": "returned", "operator": "is", "value": True}},
        ]
    },
    "Champions or near the first store": {
        "or": [
            {"field": "rfm_segment", "operator": "in", "value": ["champions", "loyal"]},
            {"field": "distance_km", "operator": "lte", "value": 15, "store": "BENCH-000"},
        ]
    },
    "25-34 in Paris, bought footwear, not in the big spenders": {
        "and": [
            {"field": "age", "operator": "between", "value": [25, 34]},
            {"field": "city", "operator": "in", "value": ["paris"]},
            {"field": "bought_category", "operator": "in", "value": ["bench-top0"]},
            {"field": "in_segment", "operator": "not_in", "value": ["Recent big spenders"]},
        ]
    },
}


class Command(BenchmarkCommand):
    schema = SCHEMA

    help = (
        "Build synthetic customers, orders, touchpoints, consents and loyalty accounts in a "
        "schema of their own (set-based SQL), then time the RFM scores, a live count and the "
        "refresh of five representative segments; drops the schema at the end. PostgreSQL "
        'only, e.g. `make benchmark-segments ARGS="--customers 1000000 --touchpoints '
        '10000000"` (a throwaway server).'
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--touchpoints", type=int, default=1_000_000)
        parser.add_argument(
            "--orders", type=float, default=1.5, help="Orders per customer, on average."
        )
        parser.add_argument("--seed", type=float, default=0.42, help="For setseed(), -1..1.")
        parser.add_argument("--keep", action="store_true", help="Leave the schema in place.")

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            raise CommandError("Benchmarks mean something on PostgreSQL only (see --help).")
        if opts["customers"] < 10 or opts["touchpoints"] < 0:
            raise CommandError("At least 10 customers, and no negative touchpoints.")
        self.now = timezone.now()
        with self.own_schema(keep=opts["keep"]):
            self.build(opts)
            self.measure()

    # --- the data -------------------------------------------------------------------------

    def build(self, opts: dict[str, Any]) -> None:
        n, touchpoints = opts["customers"], opts["touchpoints"]
        orders = max(1, int(n * opts["orders"]))
        self.sql("SELECT setseed(%s)", [opts["seed"]])
        self.step("catalogue: 50 stores, 25 categories, 2000 products, 4000 SKUs", self.catalogue)
        self.chunked("customers", n, self.customers, n=n)
        self.chunked("orders", orders, self.orders, n=n)
        self.step("order lines (2 per order)", self.order_lines)
        self.step("returns (3 % of orders)", self.returns)
        self.chunked("touchpoints", touchpoints, self.touchpoints, n=n)
        self.step("consents, loyalty accounts and points lots", self.loyalty_and_consents, n=n)
        # Like tables that have lived a while (hint bits set, statistics known); VACUUM cannot
        # run inside a transaction (the test runs the command in one), ANALYZE can.
        tidy = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        self.step(tidy, lambda: self.sql(f"{tidy} {', '.join(self.tables())}"))
        if not connection.in_atomic_block and self.superuser():
            # Write the load out now rather than during the first refresh timed below.
            self.step("CHECKPOINT", lambda: self.sql("CHECKPOINT"))

    def catalogue(self) -> None:
        self.sql(
            "INSERT INTO inventory_location (code, name, kind, address, city, postcode, country,"
            " latitude, longitude, time_zone, opening_hours, pickup_enabled, ship_from_enabled,"
            " pickup_hold_days, is_active)"
            " SELECT 'BENCH-' || lpad(i::text, 3, '0'), 'Bench store ' || i, 'store', '',"
            " (%s::text[])[1 + i %% 8], '', 'FR', 43 + (i %% 8) * 0.7 + (i / 8) * 0.01,"
            " 1 + (i %% 8) * 0.6 + (i / 8) * 0.01, '', '{}'::jsonb, true, true, 7, true"
            " FROM generate_series(0, %s) AS i",
            [CITIES, STORES - 1],
        )
        self.sql(
            "INSERT INTO inventory_category (code, name, parent_id)"
            " SELECT 'bench-top' || i, 'Top ' || i, NULL FROM generate_series(0, 4) AS i"
        )
        self.sql(
            "INSERT INTO inventory_category (code, name, parent_id)"
            " SELECT 'bench-c' || i, 'Category ' || i,"
            " (SELECT id FROM inventory_category WHERE code = 'bench-top' || (i %% 5))"
            " FROM generate_series(0, 19) AS i"
        )
        self.sql(
            "INSERT INTO inventory_product (code, name, description, category_id, brand,"
            " is_active, created_at)"
            " SELECT 'bench-p' || i, 'Product ' || i, '',"
            " (SELECT id FROM inventory_category WHERE code = 'bench-c' || (i %% 20)),"
            " 'Brand ' || (i %% %s), true, %s FROM generate_series(0, 1999) AS i",
            [BRANDS, self.now],
        )
        self.sql(
            "INSERT INTO inventory_sku (product_id, code, barcode, attributes, price, currency,"
            " is_active)"
            " SELECT p.id, 'BENCH-SKU-' || (2 * (p.id - 1) + s), '', '{}'::jsonb, 49.90, 'EUR',"
            " true FROM inventory_product p CROSS JOIN generate_series(0, 1) AS s"
        )
        self.sql(
            "INSERT INTO loyalty_programme (name, points_per_currency_unit, rounding,"
            " pending_days, expiry_days, expiry_notice_days, point_value, minimum_redemption,"
            " tier_basis, adjustment_approval_threshold)"
            " VALUES ('Bench', 1, 'down', 30, 365, 14, 0.01, 100, 'spend', 1000)"
        )
        self.sql(
            "INSERT INTO loyalty_tier (programme_id, name, rank, threshold, earn_multiplier)"
            " SELECT (SELECT id FROM loyalty_programme), t.name, t.rank, t.rank * 500, 1"
            " FROM (VALUES ('Member', 0), ('Silver', 1), ('Gold', 2)) AS t(name, rank)"
        )

    def customers(self, first: int, last: int, n: int) -> None:
        # 1 in 200 erased; 80 % with a birthday; 60 % with a preferred store.
        self.sql(
            "INSERT INTO customers_customer (public_id, first_name, last_name, email, phone,"
            " birthday, preferred_store_code, first_seen_channel, time_zone, password, erased_at,"
            " created_at, updated_at)"
            " SELECT gen_random_uuid(), 'Bench', '', 'bench' || i || '@example.invalid',"
            " CASE WHEN i %% 3 = 0 THEN '+336' || lpad(i::text, 8, '0') ELSE '' END,"
            " CASE WHEN random() < 0.8 THEN date '1950-01-01' + (random() * 20000)::int END,"
            " CASE WHEN random() < 0.6 THEN 'BENCH-' || lpad((i %% %s)::text, 3, '0') ELSE ''"
            " END, (ARRAY['web', 'ios', 'android', 'store'])[1 + i %% 4], '', '',"
            " CASE WHEN i %% 200 = 0 THEN %s END,"
            " %s - random() * interval '1825 days', %s"
            " FROM generate_series(%s, %s) AS i",
            [STORES, self.now, self.now, self.now, first, last],
        )

    def orders(self, first: int, last: int, n: int) -> None:
        # Customer ids are 1..n (a fresh identity); stores 1..50; 5 % cancelled.
        self.sql(
            "INSERT INTO orders_order (number, customer_id, channel, fulfilment, status,"
            " store_id, ship_to, currency, subtotal, offer_discount, points_redeemed,"
            " points_discount, total, pickup_code, pickup_code_failures, checkout_fingerprint,"
            " placed_at, updated_at)"
            " SELECT 'B' || i, c, ch, f,"
            " CASE WHEN r < 0.05 THEN 'cancelled' WHEN f = 'delivery' THEN 'delivered'"
            "  WHEN f = 'pickup' THEN 'collected' ELSE 'completed' END,"
            " CASE WHEN f = 'delivery' THEN NULL ELSE 1 + (i %% %s) END,"
            " CASE WHEN f = 'delivery' THEN jsonb_build_object('city', city, 'country', 'FR',"
            "  'latitude', 43 + k * 0.7 + random() * 0.2, 'longitude', 1 + k * 0.6"
            "  + random() * 0.2) ELSE '{}'::jsonb END,"
            " 'EUR', amount, 0, 0, 0, amount, '', 0, '', %s - random() * interval '730 days', %s"
            " FROM (SELECT i, 1 + floor(random() * %s)::bigint AS c, random() AS r,"
            "  (ARRAY['web', 'ios', 'android', 'store'])[1 + i %% 4] AS ch,"
            "  CASE WHEN i %% 4 = 3 THEN 'in_store' WHEN i %% 4 = 2 THEN 'pickup'"
            "   ELSE 'delivery' END AS f,"
            "  (%s::text[])[1 + i %% 8] AS city, i %% 8 AS k,"
            "  round((10 + random() * 290)::numeric, 2) AS amount"
            "  FROM generate_series(%s, %s) AS i) AS o",
            [STORES, self.now, self.now, n, CITIES, first, last],
        )

    def order_lines(self) -> None:
        self.sql(
            "INSERT INTO orders_orderline (order_id, sku_id, quantity, unit_price, line_total,"
            " discount, returned_quantity, cancelled_quantity, cancelled_refund)"
            " SELECT o.id, 1 + floor(random() * 4000)::int, 1, 49.90, 49.90, 0, 0, 0, 0"
            " FROM orders_order o CROSS JOIN generate_series(1, 2)"
        )

    def returns(self) -> None:
        self.sql(
            "INSERT INTO orders_return (public_id, order_id, refund_amount, points_reversed,"
            " created_at)"
            " SELECT gen_random_uuid(), id, 10, 0, placed_at + interval '10 days'"
            " FROM orders_order WHERE id %% 33 = 0 AND status <> 'cancelled'"
        )

    def touchpoints(self, first: int, last: int, n: int) -> None:
        # 70 % product views of one of 4000 SKUs, 10 % store visits, 20 % page views.
        self.sql(
            "INSERT INTO customers_touchpoint (customer_id, anonymous_id, event_id, kind,"
            " channel, occurred_at, received_at, url, sku_code, product_code, store_code,"
            " campaign_code, utm_source, utm_medium, utm_campaign, utm_term, utm_content,"
            " properties)"
            " SELECT 1 + floor(random() * %s)::bigint, '', '', kind,"
            " (ARRAY['web', 'ios', 'android', 'store'])[1 + i %% 4],"
            " %s - random() * interval '90 days', %s, '',"
            " CASE WHEN kind = 'product_view' THEN 'BENCH-SKU-' || (i %% 4000) ELSE '' END, '',"
            " CASE WHEN kind = 'store_visit' THEN 'BENCH-' || lpad((i %% %s)::text, 3, '0')"
            "  ELSE '' END, '', '', '', '', '', '', '{}'::jsonb"
            " FROM (SELECT i, CASE WHEN i %% 10 < 7 THEN 'product_view'"
            "  WHEN i %% 10 = 7 THEN 'store_visit' ELSE 'page_view' END AS kind"
            "  FROM generate_series(%s, %s) AS i) AS t",
            [n, self.now, self.now, STORES, first, last],
        )

    def loyalty_and_consents(self, n: int) -> None:
        self.sql(
            "INSERT INTO customers_consent (customer_id, channel, purpose, granted,"
            " source_channel, recorded_at, user_agent)"
            " SELECT id, 'email', 'marketing', random() < 0.85, 'web',"
            " created_at + interval '1 day', '' FROM customers_customer WHERE id %% 5 < 3"
            " UNION ALL"
            " SELECT id, 'email', 'advertising', true, 'web', created_at + interval '1 day', ''"
            " FROM customers_customer WHERE id %% 10 < 3"
        )
        self.sql(
            "INSERT INTO loyalty_account (customer_id, programme_id, tier_id, tier_anniversary,"
            " available, pending, joined_at)"
            " SELECT c.id, (SELECT id FROM loyalty_programme),"
            " (SELECT t.id FROM loyalty_tier t WHERE t.rank = c.id %% 3), (%s::date + 100),"
            " floor(random() * 2000)::int, 0, c.created_at"
            " FROM customers_customer c WHERE c.id %% 2 = 0",
            [self.now.date()],
        )
        self.sql(
            "WITH earned AS (INSERT INTO loyalty_pointsentry (account_id, kind, available,"
            "  pending, source, reference, channel, qualifying_amount, explanation, reason,"
            "  created_at)"
            "  SELECT id, 'earn', 200, 0, 'bench', '', 'web', 0, '[]'::jsonb, '', %s"
            "  FROM loyalty_account WHERE id %% 5 = 0 RETURNING id, account_id)"
            " INSERT INTO loyalty_pointslot (account_id, entry_id, points, remaining, is_pending,"
            "  matures_at, expires_at)"
            " SELECT account_id, id, 200, 200, false, %s - interval '300 days',"
            " %s + (id %% 120) * interval '1 day' FROM earned",
            [self.now, self.now, self.now],
        )

    # --- the figures ----------------------------------------------------------------------

    def measure(self) -> None:
        scored = self.step("RFM scores (NTILE over every buyer)", services.refresh_rfm_scores)
        self.say(f"  {scored:,} customers scored")
        first = next(iter(SEGMENTS.values()))
        counted = self.step(
            "live count of the first segment's rules", selectors.count_matching, first
        )
        self.say(f"  {counted:,} customers")
        made = [Segment.objects.create(name=name, rules=rules) for name, rules in SEGMENTS.items()]
        for segment in made:
            segment.full_clean()
        for run in ("first refresh (every member joins)", "second refresh (the difference)"):
            self.say(f"Segments, {run}:")
            for segment in made:
                started = time.perf_counter()
                refresh = services.refresh_segment(
                    segment=segment, trigger=SegmentRefresh.Trigger.BENCHMARK
                )
                seconds = time.perf_counter() - started
                self.say(
                    f"  {seconds:7.2f} s  {segment.name}: {refresh.members:,} members "
                    f"(+{refresh.joined:,} -{refresh.left:,})"
                )

    # --- plumbing -------------------------------------------------------------------------

    def superuser(self) -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = cursor.fetchone()
        return bool(row and row[0])
