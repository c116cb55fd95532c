"""Per-channel and cross-channel conversion on a hand-made history: looks (product views and
adds to cart) from 1 to 10 March 2026, orders within 7 days after (the default window).

    web   ann   viewed 2 Mar, bought at the Paris store 5 Mar        web -> store
          bob   added to cart 3 Mar, bought on the web 4 Mar         web -> web
          cat   viewed 1 Mar, bought on the web 9 Mar (8 days)      only with a longer window
          ivy   viewed 10 Mar 10:00, bought on the web 17 Mar 10:00 (7 days: counts)
          hal   viewed 8 Mar, his order of 9 Mar was cancelled
          an anonymous visitor viewed twice (one visitor, never a buyer)
    app   dan   viewed on iOS 4 and 5 Mar, bought on the web 6 Mar   app -> web
          eve   viewed on Android 6 Mar, after her app order of 5 Mar
    store fay   added to a cart in the Lyon store 7 Mar, bought there   store -> store
    and   gus   only a page view (not a look) before his order
"""

from datetime import UTC, date, datetime

import pytest
import time_machine

from campaigns.reporting import conversion
from customers.models import Customer, Touchpoint
from omni.core.errors import InvalidInput
from tests.campaigns.factories import order, touch
from tests.inventory.factories import LocationFactory

Kind = Touchpoint.Kind
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
RANGE = {"start": date(2026, 3, 1), "end": date(2026, 3, 10)}


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def looks(db):
    with time_machine.travel(NOW, tick=False):
        paris, lyon = LocationFactory(code="PAR-RIV"), LocationFactory(code="LYO-CEN")
        till = {"channel": "store", "fulfilment": "in_store", "status": "completed"}
        ann, bob, cat, ivy, hal, dan, eve, fay, gus = (
            Customer.objects.create(first_name=n)
            for n in ("Ann", "Bob", "Cat", "Ivy", "Hal", "Dan", "Eve", "Fay", "Gus")
        )
        touch(ann, Kind.PRODUCT_VIEW, at=at(2))
        order(ann, at=at(5), store=paris, **till)
        touch(bob, Kind.ADD_TO_CART, at=at(3))
        order(bob, at=at(4))
        touch(cat, Kind.PRODUCT_VIEW, at=at(1))
        order(cat, at=at(9))
        touch(ivy, Kind.PRODUCT_VIEW, at=at(10, 10))
        order(ivy, at=at(17, 10))
        touch(hal, Kind.PRODUCT_VIEW, at=at(8))
        order(hal, at=at(9), status="cancelled")
        for day in (2, 3):
            Touchpoint.objects.create(
                anonymous_id="anon-1", kind=Kind.PRODUCT_VIEW, channel="web", occurred_at=at(day)
            )
        touch(dan, Kind.PRODUCT_VIEW, at=at(4), channel="ios")
        touch(dan, Kind.PRODUCT_VIEW, at=at(5), channel="ios")
        order(dan, at=at(6))
        order(eve, at=at(5), channel="android")
        touch(eve, Kind.PRODUCT_VIEW, at=at(6), channel="android")
        touch(fay, Kind.ADD_TO_CART, at=at(7, 10), channel="store", store_code="LYO-CEN")
        order(fay, at=at(7, 11), store=lyon, **till)
        touch(gus, Kind.PAGE_VIEW, at=at(2))
        order(gus, at=at(3))
        yield


def rows(found):
    return {row.channel: row for row in found.rows}


def test_visitors_per_browse_channel_count_each_person_or_device_once(looks):
    found = rows(conversion.conversion(**RANGE))

    assert {c: (r.visitors, r.known) for c, r in found.items()} == {
        "web": (6, 5),  # ann, bob, cat, ivy, hal and the anonymous visitor
        "app": (2, 2),  # iOS and Android together
        "store": (1, 1),
    }


def test_the_matrix_counts_who_bought_where_within_the_window(looks):
    found = conversion.conversion(**RANGE)
    web, app, store = (rows(found)[c] for c in ("web", "app", "store"))

    assert found.window_days == 7
    assert web.bought == {"web": 2, "store": 1, "*": 3}  # bob and ivy; ann in store
    assert app.bought == {"web": 1, "*": 1}  # dan; eve bought before she looked
    assert store.bought == {"store": 1, "*": 1}
    assert web.same_channel_rate == pytest.approx(2 / 6)
    assert web.rate("store") == pytest.approx(1 / 6)  # viewed online, bought in store
    assert web.known_rate("*") == pytest.approx(3 / 5)
    assert app.same_channel_rate == 0
    assert store.same_channel_rate == 1


def test_a_longer_window_counts_the_later_order(looks):
    web = rows(conversion.conversion(**RANGE, window_days=10))["web"]

    assert web.bought["web"] == 3  # cat, 8 days after her look


def test_a_store_keeps_only_the_orders_placed_there(looks):
    found = rows(conversion.conversion(**RANGE, store_code="PAR-RIV"))

    assert found["web"].bought == {"store": 1, "*": 1}
    assert found["store"].bought == {}
    assert found["web"].visitors == 6  # every visitor still counts


def test_a_channel_keeps_only_its_visitors(looks):
    found = conversion.conversion(**RANGE, channel="app")

    assert [r.channel for r in found.rows] == ["app"]


def test_the_report_is_one_query(looks, django_assert_num_queries):
    with django_assert_num_queries(1):
        conversion.conversion(**RANGE)


@pytest.mark.parametrize("days", [0, -3, 366, True])
def test_a_window_that_makes_no_sense_is_refused(looks, days):
    with pytest.raises(InvalidInput, match="conversion window must be a whole number"):
        conversion.conversion(**RANGE, window_days=days)


def test_an_empty_range_is_refused(looks):
    with pytest.raises(InvalidInput, match="The date range is empty"):
        conversion.conversion(start=date(2026, 3, 10), end=date(2026, 3, 1))
