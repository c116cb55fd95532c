"""Figures for the stock truths at a chosen scale: how fast availability answers, how many
reservations per second PostgreSQL grants under concurrent checkouts (and that none oversell),
and how long the ledger check takes. Prints figures; asserts nothing about time."""

import random
import statistics
import threading
import time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from inventory import selectors, services
from inventory.ledger_check import drifts_between
from inventory.models import Location, Product, Reservation, Sku, StockLevel, StockMovement
from inventory.services import MovementSpec, StockLine
from omni.core.errors import InsufficientStock

PREFIX = "BENCH"


class Command(BaseCommand):
    help = (
        "Load a benchmark catalogue (SKUs x stores, every unit received through the ledger) "
        "and print: availability latency for 50 SKUs at the 5 nearest stores, concurrent "
        "reservation throughput with the oversell check, and the ledger verification time. "
        "Run it on PostgreSQL, e.g. `make benchmark` (a throwaway server)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--skus", type=int, default=5000)
        parser.add_argument("--stores", type=int, default=50)
        parser.add_argument("--units", type=int, default=3, help="Units of each SKU per store.")
        parser.add_argument("--calls", type=int, default=300, help="Availability calls timed.")
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--reservations", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=20261124)

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            raise CommandError("Benchmarks mean something on PostgreSQL only (see --help).")
        self.random = random.Random(opts["seed"])
        skus, stores = self.load(opts["skus"], opts["stores"], opts["units"])
        self.availability(skus, opts["calls"])
        self.reservations(skus, stores, opts["threads"], opts["reservations"])
        self.verification()

    # --- data ---------------------------------------------------------------------------

    def load(self, sku_count: int, store_count: int, units: int):
        Location.objects.bulk_create(
            [
                Location(
                    code=f"{PREFIX}-{n:03d}",
                    name=f"Bench store {n}",
                    latitude=Decimal("48.8") + Decimal(n % 50) / 100,
                    longitude=Decimal("2.3") + Decimal(n // 50) / 100,
                    pickup_enabled=True,
                    ship_from_enabled=True,
                )
                for n in range(store_count)
            ],
            ignore_conflicts=True,
        )
        product = Product.objects.get_or_create(
            code=f"{PREFIX.lower()}-product", defaults={"name": "Benchmark product"}
        )[0]
        Sku.objects.bulk_create(
            [
                Sku(product=product, code=f"{PREFIX}-{n:06d}", price=Decimal("10"))
                for n in range(sku_count)
            ],
            ignore_conflicts=True,
            batch_size=5000,
        )
        skus = list(Sku.objects.filter(code__startswith=PREFIX).values_list("pk", "code"))
        stores = list(Location.objects.filter(code__startswith=PREFIX).values_list("pk", flat=True))
        stocked = set(
            StockLevel.objects.filter(location__in=stores).values_list("sku_id", "location_id")
        )
        todo = [(sku, store) for sku, _ in skus for store in stores if (sku, store) not in stocked]
        started = time.perf_counter()
        batch = 10_000
        for first in range(0, len(todo), batch):
            services.record_movements(
                [
                    MovementSpec(sku, store, StockMovement.Kind.RECEIPT, units, reason="bench")
                    for sku, store in todo[first : first + batch]
                ],
                source="benchmark",
            )
            done = min(first + batch, len(todo))
            self.stdout.write(f"  received stock for {done}/{len(todo)} levels", ending="\r")
        seconds = time.perf_counter() - started
        self.stdout.write("")
        self.stdout.write(
            f"Catalogue: {len(skus)} SKUs x {len(stores)} stores = {len(skus) * len(stores)} "
            f"stock levels ({len(todo)} loaded through the ledger in {seconds:.1f} s"
            + (f", {len(todo) / seconds:,.0f} levels/s)" if todo else ")")
        )
        return skus, stores

    # --- measurements -------------------------------------------------------------------

    def availability(self, skus, calls: int) -> None:
        codes = [code for _, code in skus]
        timings, queries = [], []
        for _ in range(calls):
            wanted = self.random.sample(codes, min(50, len(codes)))
            lat, lng = 48.8 + self.random.random() / 2, 2.3 + self.random.random() / 2
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                selectors.availability_near(wanted, lat, lng, stores=5)
                timings.append((time.perf_counter() - started) * 1000)
            queries.append(len(captured))
        timings.sort()
        p95 = timings[int(len(timings) * 0.95)]
        self.stdout.write(
            f"Availability, 50 SKUs at the 5 nearest stores, {calls} calls: "
            f"p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, "
            f"{max(queries)} queries per call"
        )

    def reservations(self, skus, stores, threads: int, total: int) -> None:
        # A few hot SKUs at a few stores, so requests really fight over the last units.
        hot = [(sku, store) for sku, _ in skus[:20] for store in stores[:3]]
        available_before = sum(
            level.available
            for level in StockLevel.objects.filter(
                sku_id__in={s for s, _ in hot}, location_id__in={st for _, st in hot}
            )
        )
        granted, refused, crashed = [], [], []
        lock = threading.Lock()
        per_thread = total // threads

        def worker(n: int) -> None:
            rng = random.Random(n)
            try:
                for i in range(per_thread):
                    sku, store = rng.choice(hot)
                    try:
                        services.reserve(
                            lines=[StockLine(sku, store, 1)],
                            kind=Reservation.Kind.ORDER,
                            reference=f"bench:{n}:{i}",
                        )
                        with lock:
                            granted.append(1)
                    except InsufficientStock:
                        with lock:
                            refused.append(1)
                    except Exception as error:  # reported below, not hidden
                        with lock:
                            crashed.append(repr(error))
            finally:
                connection.close()

        started = time.perf_counter()
        pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        seconds = time.perf_counter() - started
        attempts = per_thread * threads
        oversold = StockLevel.objects.filter(
            location_id__in=stores, reserved__gt=F("on_hand") - F("safety_stock")
        ).count()
        self.stdout.write(
            f"Reservations, {threads} threads, {attempts} attempts on {len(hot)} hot levels "
            f"({available_before} units available): {attempts / seconds:,.0f} attempts/s, "
            f"{len(granted)} granted, {len(refused)} refused, {len(crashed)} crashed, "
            f"oversold levels: {oversold}"
        )
        if len(granted) > available_before or oversold or crashed:
            raise CommandError(f"Stock truth broken under load: {crashed[:3]}")

    def verification(self) -> None:
        started = time.perf_counter()
        last = StockLevel.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        drifts = drifts_between(0, last)
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"Ledger check of {StockLevel.objects.count()} levels: {seconds:.2f} s, "
            f"{len(drifts)} drifting"
        )
