"""The roll-up: a date range's rows replaced in one go, on demand (service and
``compute_attribution``) and nightly (yesterday); bad input refused with nothing written."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from campaigns import tasks
from campaigns.models import AttributionCredit
from campaigns.reporting import attribution
from omni.core.errors import InvalidInput
from tests.campaigns.reporting.conftest import DAY, NOW

OTHER_DAY = DAY - timedelta(days=5)


def old_row(day: date, **fields) -> AttributionCredit:
    return AttributionCredit.objects.create(
        day=day,
        model=fields.pop("model", "linear"),
        channel=fields.pop("channel", "sms"),
        orders_share=Decimal("7"),
        revenue_share=Decimal("700"),
        computed_at=NOW - timedelta(days=30),
        **fields,
    )


def test_computing_a_range_replaces_its_rows_and_keeps_the_others(journeys):
    stale = old_row(DAY)
    kept = old_row(OTHER_DAY)

    run = attribution.compute_attribution(start=DAY, end=DAY)

    assert not AttributionCredit.objects.filter(pk=stale.pk).exists()
    assert AttributionCredit.objects.filter(pk=kept.pk).exists()
    assert run.orders == 4
    assert run.steps == 7  # anna 3, ben 2, chloe 1, the guest 1
    assert run.rows == AttributionCredit.objects.filter(day=DAY).count()
    assert set(run.seconds) == {"journeys", *AttributionCredit.Model.values}


def test_computing_twice_gives_the_same_rows(journeys):
    attribution.compute_attribution(start=DAY, end=DAY)
    first = set(
        AttributionCredit.objects.values_list(
            "day", "model", "channel", "campaign_code", "store_code", "orders_share"
        )
    )

    attribution.compute_attribution(start=DAY, end=DAY)

    assert first == set(
        AttributionCredit.objects.values_list(
            "day", "model", "channel", "campaign_code", "store_code", "orders_share"
        )
    )


def test_a_range_without_orders_clears_its_days(db):
    old_row(DAY)

    run = attribution.compute_attribution(start=DAY, end=DAY)

    assert run.orders == 0
    assert not AttributionCredit.objects.exists()


def test_the_look_back_decides_which_touchpoints_count(journeys):
    steps = attribution.journey_credits(start=DAY, end=DAY, model="linear", lookback_days=4)

    anna = [s.channel for s in steps if s.order_id == journeys.anna.pk]
    assert anna == ["direct"]  # the e-mail (10 days) and the ad (5 days) are too old


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"start": DAY, "end": DAY - timedelta(days=1)}, "date range is empty"),
        ({"lookback_days": 0}, "look-back window"),
        ({"lookback_days": -3}, "look-back window"),
        ({"half_life_days": 0}, "half-life"),
        ({"half_life_days": -1.5}, "half-life"),
        ({"position_weights": ["0.4", "0.4", "0.4"]}, "must sum to 1"),
        ({"position_weights": ["0.5", "0.5"]}, "three numbers"),
        ({"position_weights": ["0.5", "x", "0.5"]}, "three numbers"),
        ({"position_weights": ["1.2", "-0.2", "0"]}, "three numbers"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(journeys, arguments, message):
    kept = old_row(DAY)

    with pytest.raises(InvalidInput, match=message):
        attribution.compute_attribution(**{"start": DAY, "end": DAY, **arguments})

    assert list(AttributionCredit.objects.all()) == [kept]


def test_the_command_computes_a_range(journeys):
    out = io.StringIO()

    call_command("compute_attribution", "--from", "2026-03-13", "--to", "2026-03-14", stdout=out)

    assert "5 orders" in out.getvalue()
    assert AttributionCredit.objects.filter(day=DAY, model="markov").exists()
    # The order of the day before (out of the first run's range) is credited now.
    assert AttributionCredit.objects.filter(day=DAY - timedelta(days=1)).count() == 7


@pytest.mark.parametrize(
    "arguments",
    [
        ["--from", "2026-03-14", "--to", "2026-03-13"],
        ["--from", "2026-03-14", "--to", "2026-03-14", "--lookback-days", "0"],
        ["--from", "2026-03-14", "--to", "2026-03-14", "--half-life-days", "0"],
        ["--from", "2026-03-14", "--to", "2026-03-14", "--position-weights", "0.5,0.5,0.5"],
    ],
)
def test_the_command_refuses_bad_input_with_a_clear_message(journeys, arguments):
    with pytest.raises(CommandError):
        call_command("compute_attribution", *arguments, stdout=io.StringIO())

    assert not AttributionCredit.objects.exists()


def test_the_command_refuses_a_date_it_cannot_read(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("compute_attribution", "--from", "14/03/2026", "--to", "2026-03-14")


def test_the_nightly_task_computes_yesterday(journeys):
    tasks.compute_attribution()

    days = set(AttributionCredit.objects.values_list("day", flat=True))
    assert days == {DAY}
