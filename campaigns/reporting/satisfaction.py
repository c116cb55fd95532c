"""Customer satisfaction from the surveys sent after orders: NPS and CSAT per order channel, per
store and per campaign, for a date range (days in ``TIME_ZONE``), filtered by channel and store.

The answers are ``survey_answer`` touchpoints (``customers.services.answer_survey``): the
order's channel and store, the campaign that asked, and ``properties`` {scale, score}. An
answer corrected later counts once, with its last score; an erased customer's answer still
counts (erasure keeps its scale and score, nothing else).

* **NPS** (0-10 "how likely to recommend"): promoters answer 9-10, passives 7-8, detractors
  0-6; NPS = % promoters - % detractors, from -100 to +100.
* **CSAT** (1-5 "how satisfied"): the share answering 4 or 5, in %, and the mean score.

A group without answers on a scale has no score on it (None), never a silent 0. Everything is
counted in the database: one grouped query per breakdown (conditional ``COUNT ... FILTER``),
one for the totals, and one each for the names of the stores and campaigns shown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, IntegerField, Q, QuerySet, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from campaigns.models import Campaign, SurveyAnswer
from inventory.models import Location
from omni.core.channels import Channel
from omni.core.errors import InvalidInput

NPS, CSAT = "nps", "csat"
PROMOTER_MIN, DETRACTOR_MAX = 9, 6  # NPS: 9-10 promote, 0-6 detract
SATISFIED_MIN = 4  # CSAT: 4-5 satisfied
NO_STORE, NO_CAMPAIGN = "No store (deliveries)", "No campaign (asked in the app)"
BREAKDOWNS = (("channel", "Order channel"), ("store_code", "Store"), ("campaign_code", "Campaign"))


def _percent(part: int, whole: int, places: str = "0.1") -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal(places), ROUND_HALF_UP)


@dataclass(frozen=True)
class Satisfaction:
    """The answers of one group (a channel, a store, a campaign, or all of them)."""

    key: str
    label: str
    nps_answers: int = 0
    promoters: int = 0
    detractors: int = 0
    csat_answers: int = 0
    satisfied: int = 0
    csat_total: int = 0  # sum of the CSAT scores

    @property
    def passives(self) -> int:
        return self.nps_answers - self.promoters - self.detractors

    @property
    def answers(self) -> int:
        return self.nps_answers + self.csat_answers

    @property
    def nps(self) -> Decimal | None:
        """% promoters - % detractors (one decimal), or None without NPS answers."""
        if not self.nps_answers:
            return None
        return _percent(self.promoters - self.detractors, self.nps_answers)

    @property
    def csat(self) -> Decimal | None:
        """% of CSAT answers at 4 or 5 (one decimal), or None without CSAT answers."""
        return _percent(self.satisfied, self.csat_answers)

    @property
    def csat_mean(self) -> Decimal | None:
        if not self.csat_answers:
            return None
        mean = Decimal(self.csat_total) / Decimal(self.csat_answers)
        return mean.quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Breakdown:
    dimension: str  # channel, store_code or campaign_code
    title: str
    groups: list[Satisfaction] = field(default_factory=list)


@dataclass(frozen=True)
class SatisfactionReport:
    start: date
    end: date
    channel: str
    store_code: str
    total: Satisfaction
    breakdowns: list[Breakdown]

    @property
    def empty(self) -> bool:
        return self.total.answers == 0


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    since = timezone.make_aware(datetime.combine(start, time.min), zone)
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), zone)
    return since, until


def check_filters(*, start: date, end: date, channel: str = "", store_code: str = "") -> None:
    errors: dict[str, list[str]] = {}
    if start > end:
        errors["end"] = [f"The date range is empty: {start} is after {end}."]
    if channel and channel not in Channel.values:
        errors["channel"] = [f"Expected one of {', '.join(Channel.values)}."]
    if errors:
        raise InvalidInput("These filters select no day or no channel.", details=errors)


def answers_in(
    *, start: date, end: date, channel: str = "", store_code: str = ""
) -> QuerySet[SurveyAnswer]:
    """The answers in the range (by when they were first given), with ``scale`` and
    ``score`` read from their properties in SQL."""
    since, until = _bounds(start, end)
    answers = SurveyAnswer.objects.filter(occurred_at__gte=since, occurred_at__lt=until)
    if channel:
        answers = answers.filter(channel=channel)
    if store_code:
        answers = answers.filter(store_code=store_code)
    return answers.annotate(
        scale=KT("properties__scale"),
        score=Cast(KT("properties__score"), IntegerField()),
    )


def _aggregates() -> dict[str, Any]:
    nps, csat = Q(scale=NPS), Q(scale=CSAT)
    return {
        "nps_answers": Count("pk", filter=nps),
        "promoters": Count("pk", filter=nps & Q(score__gte=PROMOTER_MIN)),
        "detractors": Count("pk", filter=nps & Q(score__lte=DETRACTOR_MAX)),
        "csat_answers": Count("pk", filter=csat),
        "satisfied": Count("pk", filter=csat & Q(score__gte=SATISFIED_MIN)),
        "csat_total": Sum("score", filter=csat),
    }


def _satisfaction(key: str, label: str, row: dict[str, Any]) -> Satisfaction:
    return Satisfaction(
        key=key,
        label=label,
        nps_answers=row["nps_answers"] or 0,
        promoters=row["promoters"] or 0,
        detractors=row["detractors"] or 0,
        csat_answers=row["csat_answers"] or 0,
        satisfied=row["satisfied"] or 0,
        csat_total=row["csat_total"] or 0,
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _labels(dimension: str, keys: list[str]) -> dict[str, str]:
    """Names to show: stores by their name, campaigns by theirs (by public id)."""
    if dimension == "channel":
        return {key: str(Channel(key).label) if key in Channel.values else key for key in keys}
    if dimension == "store_code":
        names = dict(
            Location.objects.filter(code__in=[k for k in keys if k]).values_list("code", "name")
        )
        return {key: f"{names[key]} ({key})" if key in names else key or NO_STORE for key in keys}
    public_ids = [key for key in keys if _is_uuid(key)]
    names = {
        str(public_id): name
        for public_id, name in Campaign.objects.filter(public_id__in=public_ids).values_list(
            "public_id", "name"
        )
    }
    return {key: names.get(key, key) or NO_CAMPAIGN for key in keys}


def satisfaction_report(
    *, start: date, end: date, channel: str = "", store_code: str = ""
) -> SatisfactionReport:
    """NPS and CSAT of the answers given from ``start`` to ``end`` (included), in total and
    per order channel, store and campaign, most answered first; ``InvalidInput`` for an
    empty range or an unknown channel. Six queries whatever the number of answers."""
    check_filters(start=start, end=end, channel=channel, store_code=store_code)
    answers = answers_in(start=start, end=end, channel=channel, store_code=store_code)
    total = _satisfaction("", "All answers", answers.aggregate(**_aggregates()))
    breakdowns = []
    for dimension, title in BREAKDOWNS:
        rows = list(answers.values(dimension).annotate(**_aggregates()).order_by(dimension))
        labels = _labels(dimension, [row[dimension] for row in rows])
        groups = [_satisfaction(row[dimension], labels[row[dimension]], row) for row in rows]
        groups.sort(key=lambda group: (-group.answers, group.label))
        breakdowns.append(Breakdown(dimension=dimension, title=title, groups=groups))
    return SatisfactionReport(
        start=start,
        end=end,
        channel=channel,
        store_code=store_code,
        total=total,
        breakdowns=breakdowns,
    )


def report_stores() -> list[tuple[str, str]]:
    """The stores a marketer can filter by: (code, name), by code."""
    return list(
        Location.objects.filter(kind=Location.Kind.STORE)
        .order_by("code")
        .values_list("code", "name")
    )
