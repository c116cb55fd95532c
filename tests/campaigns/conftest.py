"""A small town whose segments are counted by hand: two stores, a catalogue of shoes and
jackets, a loyalty programme and six people, every fact about them placed at a known moment
before ``NOW`` (the clock is frozen there).

    anna   35, prefers Paris Rivoli, web since 2024-01-10; bought trail shoes 5 days ago
           (delivered in Paris) and road shoes 200 days ago (pick-up); Gold, 800 points,
           150 expiring in 20 days and 300 in 100; e-mail marketing and advertising consent;
           viewed the trail shoes 10 days ago; visited Paris Rivoli 30 days ago
    ben    26, prefers Lyon Bellecour, first seen in store 10 days ago; never bought; Member,
           50 points; gave then withdrew e-mail marketing consent; viewed a trail shoe SKU
           and visited Lyon Bellecour 3 days ago
    chloe  no birthday, no store, first seen on Android in May 2025; two jackets in store at
           Lyon (40 and 30 days ago, the first returned 35 days ago), road shoes delivered to
           "lyon " yesterday; SMS advertising consent; viewed the road shoes 2 days ago
    david  65 (66 tomorrow), prefers Paris Rivoli, web since 2020; trail shoes 5 days ago,
           cancelled (to Marseille, no coordinates), road shoes 400 days ago delivered in
           Lyon; Silver, 0 points, 40 pending points expiring in 10 days; viewed the trail
           shoes 20 days ago
    eve    erased yesterday; bought 2 days ago: in no segment, ever
    farid  first seen on iOS 14 days ago; never bought; SMS advertising consent; viewed a
           road shoe SKU 20 days ago
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from customers.models import Customer
from inventory.models import Category, Product
from tests.campaigns.factories import consent, lot, member, order, returned, touch
from tests.inventory.factories import LocationFactory, SkuFactory
from tests.loyalty.factories import programme

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def ago(**delta) -> datetime:
    return NOW - timedelta(**delta)


def ahead(**delta) -> datetime:
    return NOW + timedelta(**delta)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def person(name: str, *, created: datetime, **fields) -> Customer:
    customer = Customer.objects.create(first_name=name, **fields)
    Customer.objects.filter(pk=customer.pk).update(created_at=created)
    customer.refresh_from_db()
    return customer


@pytest.fixture
def town(db, frozen):
    class Town:
        paris = LocationFactory(
            code="PAR-RIV",
            name="Paris Rivoli",
            city="Paris",
            latitude=Decimal("48.860600"),
            longitude=Decimal("2.337600"),
        )
        lyon = LocationFactory(
            code="LYO-BEL",
            name="Lyon Bellecour",
            city="Lyon",
            latitude=Decimal("45.757800"),
            longitude=Decimal("4.832000"),
        )
        footwear = Category.objects.create(code="footwear", name="Footwear")
        apparel = Category.objects.create(code="apparel", name="Apparel")
        programme = programme()

    t = Town
    t.running = Category.objects.create(code="running", name="Running", parent=t.footwear)
    t.trail = Category.objects.create(code="trail", name="Trail", parent=t.running)
    t.jackets = Category.objects.create(code="jackets", name="Jackets", parent=t.apparel)
    t.trail_shoe = Product.objects.create(
        code="trail-shoe", name="Trail shoe", brand="Salomon", category=t.trail
    )
    t.road_shoe = Product.objects.create(
        code="road-shoe", name="Road shoe", brand="Asics", category=t.running
    )
    t.rain_jacket = Product.objects.create(
        code="rain-jacket", name="Rain jacket", brand="Omni", category=t.jackets
    )
    t.TRAIL = SkuFactory(code="TRAIL-42", product=t.trail_shoe, price="120.00")
    t.ROAD = SkuFactory(code="ROAD-42", product=t.road_shoe, price="90.00")
    t.JACKET = SkuFactory(code="JACKET-M", product=t.rain_jacket, price="80.00")

    # --- anna
    t.anna = person(
        "anna",
        created=datetime(2024, 1, 10, tzinfo=UTC),
        birthday=date(1990, 6, 15),
        preferred_store_code="PAR-RIV",
        first_seen_channel="web",
        email="anna@example.com",
        phone="+33611111111",
    )
    order(
        t.anna,
        at=ago(days=5),
        total="120.00",
        skus=(t.TRAIL,),
        ship_to={"city": "Paris", "latitude": 48.85, "longitude": 2.35, "country": "FR"},
    )
    order(
        t.anna,
        at=ago(days=200),
        total="90.00",
        fulfilment="pickup",
        status="collected",
        store=t.paris,
        skus=(t.ROAD,),
    )
    anna_account = member(t.anna, t.programme, "Gold", available=800, card="4000000000000001")
    lot(anna_account, 150, expires_at=ahead(days=20))
    lot(anna_account, 300, expires_at=ahead(days=100))
    consent(t.anna, "email", "marketing", True, at=ago(days=100))
    consent(t.anna, "email", "advertising", True, at=ago(days=50))
    touch(t.anna, "product_view", at=ago(days=10), product_code="trail-shoe")
    touch(t.anna, "store_visit", at=ago(days=30), store_code="PAR-RIV", channel="store")

    # --- ben
    t.ben = person(
        "ben",
        created=ago(days=10),
        birthday=date(2000, 1, 1),
        preferred_store_code="LYO-BEL",
        first_seen_channel="store",
        email="ben@example.com",
        phone="+33644444444",
    )
    member(t.ben, t.programme, "Member", available=50)
    consent(t.ben, "email", "marketing", True, at=ago(days=20))
    consent(t.ben, "email", "marketing", False, at=ago(days=5))
    touch(t.ben, "product_view", at=ago(days=3), sku_code="TRAIL-42")
    touch(t.ben, "store_visit", at=ago(days=3), store_code="LYO-BEL", channel="store")

    # --- chloe
    t.chloe = person(
        "chloe",
        created=datetime(2025, 5, 1, tzinfo=UTC),
        first_seen_channel="android",
        email="chloe@example.com",
        phone="+33622222222",
    )
    first_jacket = order(
        t.chloe,
        at=ago(days=40),
        total="80.00",
        channel="store",
        fulfilment="in_store",
        status="completed",
        store=t.lyon,
        skus=(t.JACKET,),
    )
    order(
        t.chloe,
        at=ago(days=30),
        total="80.00",
        channel="store",
        fulfilment="in_store",
        status="completed",
        store=t.lyon,
        skus=(t.JACKET,),
    )
    order(
        t.chloe,
        at=ago(days=1),
        total="90.00",
        channel="android",
        skus=(t.ROAD,),
        status="shipped",
        ship_to={"city": "lyon ", "latitude": 45.76, "longitude": 4.83, "country": "FR"},
    )
    returned(first_jacket, at=ago(days=35))
    consent(t.chloe, "sms", "advertising", True, at=ago(days=10))
    touch(t.chloe, "product_view", at=ago(days=2), product_code="road-shoe", channel="android")

    # --- david
    t.david = person(
        "david",
        created=datetime(2020, 1, 1, tzinfo=UTC),
        birthday=date(1960, 3, 16),
        preferred_store_code="PAR-RIV",
        first_seen_channel="web",
        email="david@example.com",
    )
    order(
        t.david,
        at=ago(days=5),
        total="500.00",
        status="cancelled",
        skus=(t.TRAIL,),
        ship_to={"city": "Marseille", "country": "FR"},
    )
    order(
        t.david,
        at=ago(days=400),
        total="60.00",
        skus=(t.ROAD,),
        ship_to={"city": "Lyon", "latitude": 45.75, "longitude": 4.85, "country": "FR"},
    )
    david_account = member(t.david, t.programme, "Silver")
    lot(david_account, 40, expires_at=ahead(days=10), pending=True)
    touch(t.david, "product_view", at=ago(days=20), product_code="trail-shoe")

    # --- eve, erased
    t.eve = person(
        "eve",
        created=datetime(2023, 1, 1, tzinfo=UTC),
        birthday=date(1991, 1, 1),
        preferred_store_code="PAR-RIV",
        first_seen_channel="web",
        erased_at=ago(days=1),
    )
    order(
        t.eve, at=ago(days=2), total="300.00", skus=(t.TRAIL, t.JACKET), ship_to={"country": "FR"}
    )
    member(t.eve, t.programme, "Gold", available=900)
    consent(t.eve, "email", "marketing", True, at=ago(days=3))

    # --- farid
    t.farid = person(
        "farid",
        created=ago(days=14),
        first_seen_channel="ios",
        phone="+33633333333",
    )
    consent(t.farid, "sms", "advertising", True, at=ago(days=14))
    touch(t.farid, "product_view", at=ago(days=20), sku_code="ROAD-42", channel="ios")
    return t
