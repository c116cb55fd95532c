"""The three sales channels the retention and conversion reports group by — the website, the
apps (iOS and Android together) and the stores (till and clerk-assisted sales, pick-ups'
stores) — and the small pieces of SQL those reports share (a moment as raw SQL compares it,
"within N days after")."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from datetime import time as clock
from typing import Any

from django.db import connection
from django.db.models import Case, CharField, F, TextChoices, Value, When
from django.utils import timezone

from omni.core.channels import Channel


class SalesChannel(TextChoices):
    WEB = "web", "Web"
    APP = "app", "App"
    STORE = "store", "Store"


APP_CHANNELS = (Channel.IOS.value, Channel.ANDROID.value)


def sales_channel(field: str = "channel") -> Case:
    """An order's or a touchpoint's channel as a sales channel (the two apps as one)."""
    return Case(
        When(**{f"{field}__in": APP_CHANNELS}, then=Value(SalesChannel.APP.value)),
        default=F(field),
        output_field=CharField(),
    )


def label(value: str) -> str:
    return str(dict(SalesChannel.choices).get(value, value))


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The range's first moment and the moment after its last day, in ``TIME_ZONE``."""
    zone = timezone.get_default_timezone()
    return (
        datetime.combine(start, clock.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), clock.min, tzinfo=zone),
    )


def moment(value: datetime) -> Any:
    """A datetime as raw SQL compares it with a column (text in SQLite)."""
    return connection.ops.adapt_datetimefield_value(value)


def within_days_after(later: str, earlier: str) -> str:
    """SQL true when ``later`` is at or after ``earlier`` and at most ``%s`` days after it
    (one parameter, a whole number of days)."""
    if connection.vendor == "postgresql":
        return f"{later} >= {earlier} AND {later} <= {earlier} + %s * INTERVAL '1 day'"
    return f"julianday({later}) - julianday({earlier}) BETWEEN 0 AND %s"
