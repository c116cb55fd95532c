"""Acquisition cohorts by first month and first sales channel, their retention curves, repeat
and omnichannel rates, on a small history worked out by hand (clock frozen on 15 March 2026).

    November 2025, web:   ann  web 3 Nov, web 10 Dec (+1), store 5 Feb (+3)   repeat, in 90 d
                          bob  web 20 Nov, cancelled 1 Dec, iOS 1 Mar (+4)  repeat, 101 days
                          cat  web 25 Nov, returned: still an order         once
    November 2025, store: dan  Paris 10 Nov, Paris 28 Nov (+0), web 15 Jan (+2)
    December 2025, app:   eve  iOS 5 Dec, Android 6 Jan (+1)
    December 2025, store: fay  Lyon 24 Dec
    and a guest's order in November, gus (first order in October, again in November)
"""

from datetime import UTC, date, datetime

import pytest
import time_machine

from campaigns.reporting import retention
from omni.core.errors import InvalidInput
from tests.campaigns.factories import order, returned
from tests.inventory.factories import LocationFactory

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
NOVEMBER, DECEMBER = date(2025, 11, 1), date(2025, 12, 1)
RANGE = {"start": date(2025, 11, 1), "end": date(2025, 12, 31)}


def noon(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


@pytest.fixture
def history(db):
    from customers.models import Customer

    with time_machine.travel(NOW, tick=False):
        paris = LocationFactory(code="PAR-RIV")
        lyon = LocationFactory(code="LYO-CEN")
        till = {"channel": "store", "fulfilment": "in_store", "status": "completed"}
        ann, bob, cat, dan, eve, fay, gus = (
            Customer.objects.create(first_name=n)
            for n in ("Ann", "Bob", "Cat", "Dan", "Eve", "Fay", "Gus")
        )
        order(ann, at=noon(2025, 11, 3))
        order(ann, at=noon(2025, 12, 10))
        order(ann, at=noon(2026, 2, 5), store=paris, **till)
        order(bob, at=noon(2025, 11, 20))
        order(bob, at=noon(2025, 12, 1), status="cancelled")
        order(bob, at=noon(2026, 3, 1), channel="ios")
        returned(order(cat, at=noon(2025, 11, 25)), at=noon(2025, 12, 2))
        order(dan, at=noon(2025, 11, 10), store=paris, **till)
        order(dan, at=noon(2025, 11, 28), store=paris, **till)
        order(dan, at=noon(2026, 1, 15))
        order(eve, at=noon(2025, 12, 5), channel="ios")
        order(eve, at=noon(2026, 1, 6), channel="android")
        order(fay, at=noon(2025, 12, 24), store=lyon, **till)
        order(None, at=noon(2025, 11, 12))
        order(gus, at=noon(2025, 10, 30))
        order(gus, at=noon(2025, 11, 5))
        yield


def report(**filters):
    return retention.cohorts(**{**RANGE, **filters}, now=NOW)


def by_key(found):
    return {(c.month, c.channel): c for c in found.cohorts}


def test_customers_are_grouped_by_the_month_and_channel_of_their_first_order(history):
    cohorts = by_key(report())

    assert {key: c.customers for key, c in cohorts.items()} == {
        (NOVEMBER, "web"): 3,
        (NOVEMBER, "store"): 1,
        (DECEMBER, "app"): 1,
        (DECEMBER, "store"): 1,
    }


def test_the_retention_curve_counts_orders_in_each_later_month_until_today(history):
    cohorts = by_key(report())

    # March 2026 (month +4 of November) has begun; April has not: no figure, not a zero.
    assert cohorts[(NOVEMBER, "web")].retained == [1, 0, 1, 1] + [None] * 8
    assert cohorts[(NOVEMBER, "store")].retained == [0, 1, 0, 0] + [None] * 8
    assert cohorts[(DECEMBER, "app")].retained == [1, 0, 0] + [None] * 9
    assert cohorts[(DECEMBER, "store")].retained == [0, 0, 0] + [None] * 9
    assert cohorts[(NOVEMBER, "web")].retention[:4] == pytest.approx([1 / 3, 0, 1 / 3, 1 / 3])


def test_the_repeat_purchase_rate_and_within_90_days(history):
    cohorts = by_key(report())

    web = cohorts[(NOVEMBER, "web")]
    assert (web.repeat_customers, web.repeat_within_90) == (2, 1)  # bob's second: 101 days
    assert web.repeat_rate == pytest.approx(2 / 3)
    assert web.repeat_within_90_rate == pytest.approx(1 / 3)
    assert web.repeat_window_complete  # 30 November + 90 days is before 15 March
    store = cohorts[(NOVEMBER, "store")]
    assert (store.repeat_customers, store.repeat_within_90) == (1, 1)  # in the same month
    app = cohorts[(DECEMBER, "app")]
    assert (app.repeat_customers, app.repeat_within_90) == (1, 1)
    assert not app.repeat_window_complete  # 31 December + 90 days is after 15 March
    assert cohorts[(DECEMBER, "store")].repeat_customers == 0


def test_becoming_omnichannel_is_a_property_of_the_cohort_not_a_cohort(history):
    cohorts = by_key(report())

    assert cohorts[(NOVEMBER, "web")].omnichannel == 1  # ann, later in a store
    assert cohorts[(NOVEMBER, "store")].omnichannel == 1  # dan, later on the web
    assert cohorts[(DECEMBER, "app")].omnichannel == 0  # eve: iOS and Android are both online


def test_each_channel_adds_up_its_cohorts_over_the_months_they_could_be_seen(history):
    totals = {c.channel: c for c in report().by_channel}

    store = totals["store"]
    assert store.customers == 2
    assert store.retained[:4] == [0, 1, 0, 0]
    # Month +4: only November's cohort has reached it (December's +4 is April).
    assert store.bases[:4] == [2, 2, 2, 1]
    assert store.retention[1] == pytest.approx(0.5)
    assert store.retention[4] is None


def test_the_filters_keep_the_cohorts_of_one_channel_or_one_store(history):
    assert set(by_key(report(channel="store"))) == {(NOVEMBER, "store"), (DECEMBER, "store")}
    by_paris = by_key(report(store_code="PAR-RIV"))
    assert set(by_paris) == {(NOVEMBER, "store")}
    # ann's later order in Paris does not make her a Paris cohort member.
    assert by_paris[(NOVEMBER, "store")].customers == 1


def test_months_are_those_of_the_shops_time_zone(db, settings):
    from customers.models import Customer

    settings.TIME_ZONE = "Europe/Paris"
    late = Customer.objects.create(first_name="Late")
    order(late, at=datetime(2025, 11, 30, 23, 30, tzinfo=UTC))  # 1 December in Paris

    found = retention.cohorts(start=NOVEMBER, end=date(2025, 12, 31), now=NOW)

    assert [(c.month, c.customers) for c in found.cohorts] == [(DECEMBER, 1)]


def test_the_cohorts_are_one_query(history, django_assert_num_queries):
    with django_assert_num_queries(1):
        report()


def test_an_empty_range_is_refused(history):
    with pytest.raises(InvalidInput, match="The date range is empty"):
        retention.cohorts(start=date(2025, 12, 1), end=date(2025, 11, 1), now=NOW)


def test_an_unknown_channel_is_refused(history):
    with pytest.raises(InvalidInput, match="Unknown sales channel"):
        report(channel="fax")
