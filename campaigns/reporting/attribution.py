"""Channel attribution: which channels, campaigns and stores led to each day's orders, credited
by seven models computed on the same journeys and rolled up into ``AttributionCredit``.

**Journey** of an order (every purchase, i.e. not cancelled or expired, placed in the range):
the customer's touchpoints in the ``lookback_days`` before it, in every channel (web, apps,
stores: store visits, QR scans, messages opened and clicked). A ``purchase`` touchpoint is a
conversion, not a step, and a ``survey_answer`` (an opinion of an earlier order) is none
either. A till or clerk-assisted sale (the order's channel is ``store``) adds the sale itself
as its last step (channel ``store``, the order's store). An order left with no
step at all (a guest, or someone never seen before buying online) gets one ``direct`` step: so
every order is credited, and its shares sum to 1 in every model.

**Channel** of a step (``_channel_sql``, first match wins): ``qr_scan`` and ``store_visit`` by
kind; ``email`` (an e-mail opened or clicked, or ``utm_medium`` email/newsletter); ``sms``;
``push`` (push and in-app); ``paid`` (an ad click, or a paid ``utm_medium``: cpc, ppc, display,
paid_social, affiliate...); ``social``; ``campaign`` (a ``campaign_code`` and nothing above);
``referral`` (any other ``utm_*``); ``store`` (anything else that happened in a store);
``direct`` otherwise. **Direct** is thus an online visit (web or app) that carries no ``utm_*``
and no ``campaign_code``: nothing says what brought the customer. Offline steps are never
direct: a store visit or a QR scan names its store, and the last non-direct model must not
skip it. A step's campaign is its ``campaign_code``, else its ``utm_campaign``.

**Models**, each a weight per step (summing to 1 per order): first touch; last touch; last
non-direct (the last step that is not direct, else the last); linear (1/n); time decay (weight
2^(-age/half-life), age in days before the order, normalised); position-based (first/middle/
last shares, 40/20/40 by default; one step takes 100 %, two steps 50/50); Markov (first-order
chain over channels with start, conversion and null states; each channel's removal effect is
1 - P(conversion without it) / P(conversion); an order's credit goes to the channels of its
journey in proportion to their removal effects, split evenly between a channel's steps).
The chain's converting paths are the journeys; its null paths are the touchpoints (from
``lookback_days`` before the range to its end) of customers who bought nothing in the range.

Everything is set-based: the journeys are written once into a temporary table (window
functions number the steps), each model is one ``INSERT ... SELECT`` over it, the chain's
transition counts one ``GROUP BY``; only the small chain (a dozen states) is solved in Python,
with numpy. Days are in ``TIME_ZONE``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from campaigns.locks import lock_attribution
from campaigns.models import AttributionCredit
from campaigns.rules import relations
from customers.models import Touchpoint
from omni.core.errors import InvalidInput

Model = AttributionCredit.Model
Channel = AttributionCredit.Channel
Kind = Touchpoint.Kind

JOURNEY = "attribution_journey"
# Touchpoints that are no step of a journey: a purchase is a conversion, a survey answer the
# customer's opinion of an order already made.
NOT_STEPS = (Kind.PURCHASE.value, Kind.SURVEY_ANSWER.value)
START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"

EMAIL_MEDIUMS = ("email", "e-mail", "newsletter")
SMS_MEDIUMS = ("sms",)
PUSH_MEDIUMS = ("push", "in_app", "in-app")
PAID_MEDIUMS = (
    "cpc",
    "ppc",
    "cpm",
    "paid",
    "paid_search",
    "paidsearch",
    "paid_social",
    "display",
    "affiliate",
)
SOCIAL_MEDIUMS = ("social", "social_media", "organic_social")


# --- Parameters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameters:
    lookback_days: int
    half_life_days: float
    # Shares of the first, the middle (together) and the last step of the position-based model.
    position_weights: tuple[Decimal, Decimal, Decimal]


def check_range(start: date, end: date) -> None:
    if start > end:
        raise InvalidInput(
            f"The date range is empty: it starts on {start} and ends on {end}, before it "
            "starts. Give the first day, then the last day (both included).",
            details={"from": str(start), "to": str(end)},
        )


def parameters(
    *,
    lookback_days: int | None = None,
    half_life_days: float | Decimal | None = None,
    position_weights: Sequence[str | Decimal | float] | None = None,
) -> Parameters:
    """The parameters given, the settings' (``ATTRIBUTION_*``) for the others, checked."""
    lookback = settings.ATTRIBUTION_LOOKBACK_DAYS if lookback_days is None else lookback_days
    if isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 1:
        raise InvalidInput(
            f"The look-back window must be a whole number of days, 1 or more (got {lookback!r}).",
            details={"lookback_days": str(lookback)},
        )
    half_life = settings.ATTRIBUTION_HALF_LIFE_DAYS if half_life_days is None else half_life_days
    if isinstance(half_life, bool) or not (float(half_life) > 0 and math.isfinite(half_life)):
        raise InvalidInput(
            f"The time-decay half-life must be a number of days above 0 (got {half_life!r}).",
            details={"half_life_days": str(half_life)},
        )
    weights = (
        settings.ATTRIBUTION_POSITION_WEIGHTS if position_weights is None else position_weights
    )
    return Parameters(lookback, float(half_life), _position_weights(weights))


def _position_weights(weights: Sequence[str | Decimal | float]) -> tuple[Decimal, Decimal, Decimal]:
    given = ", ".join(str(w) for w in weights)
    try:
        # str() first: 0.4 as a float is not quite 0.4, and the sum must be exactly 1.
        parsed = [Decimal(str(w).strip()) for w in weights]
    except InvalidOperation:
        parsed = []
    if len(parsed) != 3 or not all(w.is_finite() and w >= 0 for w in parsed):
        raise InvalidInput(
            f"Position-based weights are three numbers of 0 or more, for the first, middle and "
            f"last steps, e.g. 0.4, 0.2, 0.4 (got {given}).",
            details={"position_weights": given},
        )
    if sum(parsed) != 1:
        raise InvalidInput(
            f"Position-based weights must sum to 1; {given} sum to {sum(parsed)}.",
            details={"position_weights": given},
        )
    return parsed[0], parsed[1], parsed[2]


# --- The journeys ------------------------------------------------------------------------------


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The range's first moment and the moment after it, in ``TIME_ZONE``."""
    zone = timezone.get_default_timezone()
    return (
        datetime.combine(start, clock.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), clock.min, tzinfo=zone),
    )


def _purchases(since: datetime, until: datetime) -> QuerySet[Any]:
    return relations.order_model()._default_manager.filter(
        status__in=relations.purchase_statuses(), placed_at__gte=since, placed_at__lt=until
    )


# The columns of the range's purchases, named so by the journeys' query.
ORDER_COLUMNS = ("id", "customer_id", "placed_at", "channel", "total", "day", "store_code")


def _orders_sql(since: datetime, until: datetime) -> tuple[str, tuple[Any, ...]]:
    """ORDER_COLUMNS of the range's purchases."""
    orders = (
        _purchases(since, until)
        .annotate(
            day=TruncDate("placed_at", tzinfo=timezone.get_default_timezone()),
            store_code=Coalesce(F("store__code"), Value("")),
        )
        .values("pk", *ORDER_COLUMNS[1:])
        .order_by()
    )
    sql, params = orders.query.sql_with_params()
    return sql, tuple(params)


def _quoted(values: Sequence[str]) -> str:
    # Constants of this module only: never a value from outside.
    return ", ".join(f"'{value}'" for value in values)


def _channel_sql(t: str) -> str:
    """The attribution channel of touchpoint ``t`` (see the module's docstring)."""
    medium = f"LOWER(TRIM({t}.utm_medium))"
    return f"""CASE
        WHEN {t}.kind = '{Kind.QR_SCAN}' THEN '{Channel.QR_SCAN}'
        WHEN {t}.kind = '{Kind.STORE_VISIT}' THEN '{Channel.STORE_VISIT}'
        WHEN {t}.kind IN ('{Kind.EMAIL_OPEN}', '{Kind.EMAIL_CLICK}')
            OR {medium} IN ({_quoted(EMAIL_MEDIUMS)}) THEN '{Channel.EMAIL}'
        WHEN {medium} IN ({_quoted(SMS_MEDIUMS)}) THEN '{Channel.SMS}'
        WHEN {medium} IN ({_quoted(PUSH_MEDIUMS)}) THEN '{Channel.PUSH}'
        WHEN {t}.kind = '{Kind.AD_CLICK}' OR {medium} IN ({_quoted(PAID_MEDIUMS)})
            THEN '{Channel.PAID}'
        WHEN {medium} IN ({_quoted(SOCIAL_MEDIUMS)}) THEN '{Channel.SOCIAL}'
        WHEN {t}.campaign_code <> '' THEN '{Channel.CAMPAIGN}'
        WHEN {t}.utm_source <> '' OR {t}.utm_medium <> '' OR {t}.utm_campaign <> ''
            THEN '{Channel.REFERRAL}'
        WHEN {t}.channel = 'store' THEN '{Channel.STORE}'
        ELSE '{Channel.DIRECT}'
    END"""


def _campaign_sql(t: str) -> str:
    return f"CASE WHEN {t}.campaign_code <> '' THEN {t}.campaign_code ELSE {t}.utm_campaign END"


def _days_between(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400 AS DOUBLE PRECISION)"
    return f"(julianday({later}) - julianday({earlier}))"


def _in_lookback(order_at: str, touch_at: str) -> str:
    """True when the touch is at most ``%s`` days before the order (one parameter)."""
    if connection.vendor == "postgresql":
        # Written so that the (customer, occurred_at) index bounds the scan.
        return f"{touch_at} <= {order_at} AND {touch_at} >= {order_at} - %s * INTERVAL '1 day'"
    return f"{_days_between(order_at, touch_at)} BETWEEN 0 AND %s"


def _moment(value: datetime) -> Any:
    """A datetime as raw SQL compares it with a column (text in SQLite)."""
    return connection.ops.adapt_datetimefield_value(value)


def _temporary(table: str) -> str:
    """The temporary table's name, qualified: a DROP never reaches a real table of that name."""
    return f"{'pg_temp' if connection.vendor == 'postgresql' else 'temp'}.{table}"


def _build_journeys(cursor: CursorWrapper, start: date, end: date, lookback_days: int) -> None:
    """The temporary table of every step of every journey: order_id, day, revenue, channel,
    campaign, store, age_days, step (1..steps, in time order), steps, previous (the channel of
    the step before, for the chain), credited_step (the step the last non-direct model
    credits)."""
    since, until = _bounds(start, end)
    orders_sql, orders_params = _orders_sql(since, until)
    touchpoints = connection.ops.quote_name(Touchpoint._meta.db_table)
    touched = f"t.customer_id = o.customer_id AND t.kind NOT IN ({_quoted(NOT_STEPS)})"
    in_lookback = _in_lookback("o.placed_at", "t.occurred_at")
    cursor.execute(f"DROP TABLE IF EXISTS {_temporary(JOURNEY)}")
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE {JOURNEY} AS
        WITH orders ({", ".join(ORDER_COLUMNS)}) AS ({orders_sql})
        SELECT order_id, day, revenue, channel, campaign, store, age_days, step, steps,
               previous,
               COALESCE(
                   MAX(CASE WHEN channel <> '{Channel.DIRECT}' THEN step END)
                       OVER (PARTITION BY order_id),
                   steps
               ) AS credited_step
        FROM (
            SELECT s.*, ROW_NUMBER() OVER in_time AS step, LAG(channel) OVER in_time AS previous,
                   COUNT(*) OVER (PARTITION BY order_id) AS steps
            FROM (
                -- Each touchpoint in the window; an online order with none: one direct step.
                SELECT o.id AS order_id, o.day, o.total AS revenue, t.id AS touch_id,
                       COALESCE(t.occurred_at, o.placed_at) AS occurred_at,
                       CASE WHEN t.id IS NULL THEN '{Channel.DIRECT}'
                            ELSE {_channel_sql("t")} END AS channel,
                       COALESCE({_campaign_sql("t")}, '') AS campaign,
                       COALESCE(t.store_code, '') AS store,
                       COALESCE({_days_between("o.placed_at", "t.occurred_at")}, 0) AS age_days
                FROM orders o
                LEFT JOIN {touchpoints} t ON {touched} AND {in_lookback}
                    -- The same bound for every order: the scan skips older touchpoints.
                    AND t.occurred_at >= %s AND t.occurred_at < %s
                WHERE t.id IS NOT NULL OR o.channel <> 'store'
                UNION ALL
                -- A till or clerk-assisted sale: the sale itself, last, at its store.
                SELECT o.id, o.day, o.total, NULL, o.placed_at, '{Channel.STORE}', '',
                       o.store_code, CAST(0 AS DOUBLE PRECISION)
                FROM orders o WHERE o.channel = 'store'
            ) AS s
            WINDOW in_time AS (
                PARTITION BY order_id ORDER BY occurred_at, touch_id IS NULL, touch_id
            )
        ) AS numbered
        """,
        [
            *orders_params,
            lookback_days,
            _moment(since - timedelta(days=lookback_days)),
            _moment(until),
        ],
    )
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {JOURNEY}")


@contextmanager
def _journeys(start: date, end: date, lookback_days: int) -> Iterator[CursorWrapper]:
    """The journeys' table for the block (inside the caller's transaction: a failure rolls its
    creation back with everything else)."""
    with connection.cursor() as cursor:
        _build_journeys(cursor, start, end, lookback_days)
        yield cursor
        cursor.execute(f"DROP TABLE {_temporary(JOURNEY)}")


# --- The Markov chain --------------------------------------------------------------------------


def _transition_counts(
    cursor: CursorWrapper, start: date, end: date, lookback_days: int
) -> dict[tuple[str, str], int]:
    """(from, to) -> how many times, over the journeys (ending in conversion) and the
    touchpoints of customers who bought nothing in the range (ending in null)."""
    since, until = _bounds(start, end)
    buyers_sql, buyers_params = (
        _purchases(since, until)
        .filter(customer__isnull=False)
        .values("customer_id")
        .order_by()
        .query.sql_with_params()
    )
    touchpoints = connection.ops.quote_name(Touchpoint._meta.db_table)
    cursor.execute(
        f"""
        WITH buyers AS ({buyers_sql}),
        lost AS (
            SELECT channel, LAG(channel) OVER w AS previous, LEAD(id) OVER w IS NULL AS is_last
            FROM (
                SELECT t.id, t.customer_id, t.occurred_at, {_channel_sql("t")} AS channel
                FROM {touchpoints} t
                WHERE t.customer_id IS NOT NULL AND t.kind NOT IN ({_quoted(NOT_STEPS)})
                  AND t.occurred_at >= %s AND t.occurred_at < %s
                  AND NOT EXISTS (SELECT 1 FROM buyers b WHERE b.customer_id = t.customer_id)
            ) AS t
            WINDOW w AS (PARTITION BY customer_id ORDER BY occurred_at, id)
        ),
        pairs AS (
            SELECT COALESCE(previous, %s) AS source, channel AS target FROM {JOURNEY}
            UNION ALL
            SELECT channel, %s FROM {JOURNEY} WHERE step = steps
            UNION ALL
            SELECT COALESCE(previous, %s), channel FROM lost
            UNION ALL
            SELECT channel, %s FROM lost WHERE is_last
        )
        SELECT source, target, COUNT(*) FROM pairs GROUP BY source, target
        """,
        [
            *buyers_params,
            _moment(since - timedelta(days=lookback_days)),
            _moment(until),
            START,
            CONVERSION,
            START,
            NULL,
        ],
    )
    return {(source, target): int(count) for source, target, count in cursor.fetchall()}


def _conversion_probability(
    moves: np.ndarray[Any, Any], to_conversion: np.ndarray[Any, Any]
) -> float:
    """From the start state (index 0): the absorbing chain's P(conversion), solving
    (I - Q) x = R for the transient states."""
    size = moves.shape[0]
    return float(np.linalg.solve(np.eye(size) - moves, to_conversion)[0])


def removal_effects(transitions: Mapping[tuple[str, str], int]) -> dict[str, float]:
    """Each channel's removal effect: 1 - P(conversion once every move into the channel
    goes to null instead) / P(conversion). 0 for every channel when nothing converts."""
    channels = sorted({state for pair in transitions for state in pair} - {START, CONVERSION, NULL})
    index = {state: i for i, state in enumerate([START, *channels])}
    size = len(index)
    counts = np.zeros((size, size + 2))  # the transient states, then conversion and null
    for (source, target), count in transitions.items():
        column = index.get(target, size if target == CONVERSION else size + 1)
        counts[index[source], column] += count
    totals = counts.sum(axis=1, keepdims=True)
    probabilities = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    moves, to_conversion = probabilities[:, :size], probabilities[:, size]
    base = _conversion_probability(moves, to_conversion)
    if base <= 0:
        return dict.fromkeys(channels, 0.0)
    effects = {}
    for channel in channels:
        without = moves.copy()
        without[:, index[channel]] = 0.0
        effects[channel] = max(0.0, 1 - _conversion_probability(without, to_conversion) / base)
    return effects


# --- The models ---------------------------------------------------------------------------------

STEP_COLUMNS = "order_id, step, day, revenue, channel, campaign, store"


def _weights_sql(
    model: str, chosen: Parameters, effects: Mapping[str, float]
) -> tuple[str, list[Any]]:
    """A SELECT of STEP_COLUMNS and the step's ``weight`` under ``model``, over the journeys."""
    columns = STEP_COLUMNS
    if model == Model.FIRST_TOUCH:
        return f"SELECT {columns}, 1.0 AS weight FROM {JOURNEY} WHERE step = 1", []
    if model == Model.LAST_TOUCH:
        return f"SELECT {columns}, 1.0 AS weight FROM {JOURNEY} WHERE step = steps", []
    if model == Model.LAST_NON_DIRECT:
        return f"SELECT {columns}, 1.0 AS weight FROM {JOURNEY} WHERE step = credited_step", []
    if model == Model.LINEAR:
        return f"SELECT {columns}, 1.0 / steps AS weight FROM {JOURNEY}", []
    if model == Model.TIME_DECAY:
        return (
            f"""SELECT {columns}, decay / SUM(decay) OVER (PARTITION BY order_id) AS weight
            FROM (SELECT *, EXP(-age_days * %s) AS decay FROM {JOURNEY}) AS decayed""",
            [math.log(2) / chosen.half_life_days],
        )
    if model == Model.POSITION_BASED:
        first, middle, last = (float(w) for w in chosen.position_weights)
        return (
            f"""SELECT {columns}, CASE WHEN steps = 1 THEN 1.0 WHEN steps = 2 THEN 0.5
                WHEN step = 1 THEN %s WHEN step = steps THEN %s
                ELSE %s / (steps - 2) END AS weight
            FROM {JOURNEY}""",
            [first, last, middle],
        )
    if model == Model.MARKOV:
        known = effects or {Channel.DIRECT.value: 0.0}
        # A UNION rather than VALUES: SQLite cannot name a VALUES list's columns.
        rows = " UNION ALL ".join(["SELECT %s AS channel, %s AS effect"] * len(known))
        return (
            f"""SELECT {columns},
                CASE WHEN total_effect > 0 THEN effect / channel_steps / total_effect
                ELSE 1.0 / steps END AS weight
            FROM (
                SELECT *, SUM(effect / channel_steps) OVER (PARTITION BY order_id)
                    AS total_effect
                FROM (
                    SELECT j.*, COALESCE(e.effect, 0.0) AS effect,
                           COUNT(*) OVER (PARTITION BY j.order_id, j.channel) AS channel_steps
                    FROM {JOURNEY} j
                    LEFT JOIN ({rows}) AS e ON e.channel = j.channel
                ) AS weighed
            ) AS totalled""",
            [value for pair in known.items() for value in pair],
        )
    raise InvalidInput(f"Unknown attribution model {model!r}.", details={"model": model})


# --- Computing ----------------------------------------------------------------------------------


@dataclass
class AttributionRun:
    """What one computation did: orders and steps seen, rows written, the chain's removal
    effects, and the seconds each part took (the journeys, then each model)."""

    start: date
    end: date
    parameters: Parameters
    orders: int = 0
    steps: int = 0
    rows: int = 0
    removal_effects: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class StepCredit:
    order_id: int
    step: int
    channel: str
    campaign: str
    store: str
    weight: float


# The journeys' and the chain's window functions sort millions of rows at scale: in memory
# rather than in files on disk, for this transaction only (PostgreSQL's default is 4 MB).
SORT_MEMORY = "256MB"


def _sort_in_memory() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [SORT_MEMORY])


@transaction.atomic
def compute_attribution(
    *,
    start: date,
    end: date,
    lookback_days: int | None = None,
    half_life_days: float | Decimal | None = None,
    position_weights: Sequence[str | Decimal | float] | None = None,
    now: datetime | None = None,
) -> AttributionRun:
    """Credit the orders placed from ``start`` to ``end`` (days included, ``TIME_ZONE``) by
    every model, replacing those days' roll-up rows in one transaction. Parameters left out
    come from the settings; bad ones raise ``InvalidInput`` before anything is written."""
    check_range(start, end)
    chosen = parameters(
        lookback_days=lookback_days,
        half_life_days=half_life_days,
        position_weights=position_weights,
    )
    lock_attribution()
    _sort_in_memory()
    run = AttributionRun(start=start, end=end, parameters=chosen)
    computed_at = now or timezone.now()
    credits = connection.ops.quote_name(AttributionCredit._meta.db_table)
    started = time.perf_counter()
    with _journeys(start, end, chosen.lookback_days) as cursor:
        cursor.execute(f"SELECT COUNT(DISTINCT order_id), COUNT(*) FROM {JOURNEY}")
        run.orders, run.steps = (int(n) for n in cursor.fetchone() or (0, 0))
        run.seconds["journeys"] = time.perf_counter() - started
        AttributionCredit.objects.filter(day__range=(start, end)).delete()
        for model in Model:
            started = time.perf_counter()
            if model == Model.MARKOV:
                transitions = _transition_counts(cursor, start, end, chosen.lookback_days)
                run.removal_effects = removal_effects(transitions)
            weights_sql, weights_params = _weights_sql(model, chosen, run.removal_effects)
            cursor.execute(
                f"""
                INSERT INTO {credits} (day, model, channel, campaign_code, store_code,
                                       orders_share, revenue_share, computed_at)
                SELECT day, %s, channel, campaign, store,
                       ROUND(CAST(SUM(weight) AS NUMERIC), 6),
                       ROUND(CAST(SUM(weight * revenue) AS NUMERIC), 6), %s
                FROM ({weights_sql}) AS weighted
                GROUP BY day, channel, campaign, store
                """,
                [model.value, computed_at, *weights_params],
            )
            run.rows += cursor.rowcount
            run.seconds[model.value] = time.perf_counter() - started
    return run


@transaction.atomic
def journey_credits(
    *,
    start: date,
    end: date,
    model: str,
    lookback_days: int | None = None,
    half_life_days: float | Decimal | None = None,
    position_weights: Sequence[str | Decimal | float] | None = None,
) -> list[StepCredit]:
    """Every step of every journey with the weight ``model`` gives it, before the roll-up (to
    explain one order's credit; the tests check the models with it). Writes nothing."""
    check_range(start, end)
    chosen = parameters(
        lookback_days=lookback_days,
        half_life_days=half_life_days,
        position_weights=position_weights,
    )
    with _journeys(start, end, chosen.lookback_days) as cursor:
        effects: dict[str, float] = {}
        if model == Model.MARKOV:
            effects = removal_effects(_transition_counts(cursor, start, end, chosen.lookback_days))
        weights_sql, weights_params = _weights_sql(model, chosen, effects)
        cursor.execute(
            f"SELECT order_id, step, channel, campaign, store, weight FROM ({weights_sql}) AS w"
            " ORDER BY order_id, step",
            weights_params,
        )
        return [
            StepCredit(int(o), int(s), channel, campaign, store, float(w))
            for o, s, channel, campaign, store, w in cursor.fetchall()
        ]


def compute_yesterday(*, now: datetime | None = None) -> AttributionRun:
    """The nightly run: yesterday's orders (``TIME_ZONE``), with the settings' parameters."""
    yesterday = timezone.localdate(now or timezone.now()) - timedelta(days=1)
    return compute_attribution(start=yesterday, end=yesterday, now=now)


# --- Reading the roll-up ------------------------------------------------------------------------


@dataclass
class ChannelCredit:
    """One channel's credit under each model (model value -> orders, revenue)."""

    channel: str
    label: str
    orders: dict[str, Decimal]
    revenue: dict[str, Decimal]


@dataclass
class Comparison:
    """The models side by side per channel, over a date range, for the admin's report."""

    start: date
    end: date
    channels: list[ChannelCredit]
    orders: dict[str, Decimal]
    revenue: dict[str, Decimal]


def compare_models(
    *, start: date, end: date, channel: str = "", store_code: str = ""
) -> Comparison:
    """Credit per channel and model from the roll-up, in one query; channels in their
    declared order, each model's totals beside them."""
    check_range(start, end)
    chosen = Q(day__range=(start, end))
    if channel:
        chosen &= Q(channel=channel)
    if store_code:
        chosen &= Q(store_code=store_code)
    sums = (
        AttributionCredit.objects.filter(chosen)
        .values("channel", "model")
        .annotate(orders=Sum("orders_share"), revenue=Sum("revenue_share"))
        .order_by()
    )
    zero = Decimal("0")
    per_channel: dict[str, ChannelCredit] = {}
    totals_orders = {m.value: zero for m in Model}
    totals_revenue = {m.value: zero for m in Model}
    for row in sums:
        credit = per_channel.setdefault(
            row["channel"],
            ChannelCredit(
                channel=row["channel"],
                label=_channel_label(row["channel"]),
                orders={m.value: zero for m in Model},
                revenue={m.value: zero for m in Model},
            ),
        )
        credit.orders[row["model"]] = row["orders"]
        credit.revenue[row["model"]] = row["revenue"]
        totals_orders[row["model"]] += row["orders"]
        totals_revenue[row["model"]] += row["revenue"]
    order = {value: n for n, value in enumerate(Channel.values)}
    return Comparison(
        start=start,
        end=end,
        channels=sorted(per_channel.values(), key=lambda c: order.get(c.channel, len(order))),
        orders=totals_orders,
        revenue=totals_revenue,
    )


def _channel_label(value: str) -> str:
    return str(dict(Channel.choices).get(value, value))


def credited_stores() -> list[str]:
    """Store codes the roll-up credits, for the report's filter."""
    return list(
        AttributionCredit.objects.exclude(store_code="")
        .order_by("store_code")
        .values_list("store_code", flat=True)
        .distinct()
    )
