"""What makes a customer enter a triggered journey: each trigger finds, set-based, the
customers who have an occasion now (an idle cart, an order completed, a birthday today...),
with a key naming the occasion (the same key never enters the same journey twice) and what the
message may say about it (``variables``, handed to the templates).

Orders, carts and loyalty rows are read through ``Customer``'s model relations
(``campaigns.rules.relations``): campaigns imports neither orders nor loyalty. Every trigger
looks back only a bounded window (``LOOKBACK``), so a run every few minutes reads what is new,
and a journey started today does not enrol years of history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db.models import Exists, F, Max, Model, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Greatest
from django.utils import dateformat, timezone

from campaigns.rules import relations
from customers.models import Customer, Touchpoint
from inventory.models import Product
from omni.core.channels import Channel

if TYPE_CHECKING:
    from campaigns.models import Campaign

# How far back a trigger looks for occasions it may have missed (a worker down for a while).
LOOKBACK = timedelta(days=2)
ONLINE = (Channel.WEB, Channel.IOS, Channel.ANDROID)
# An order that reached one of these is done: collected, delivered, sold at the till.
COMPLETED_STATUSES = ("collected", "delivered", "completed")
MAX_HOURS = 24 * 366
MAX_DAYS = 3660


@dataclass(frozen=True)
class Entrant:
    customer_id: int
    occasion: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Param:
    help: str
    default: int
    minimum: int
    maximum: int


@dataclass(frozen=True)
class Trigger:
    name: str
    label: str
    params: dict[str, Param]
    variables: dict[str, str]  # context keys the messages may use
    find: Callable[[Campaign, dict[str, int], datetime], list[Entrant]]


TRIGGERS: dict[str, Trigger] = {}


def trigger(
    name: str, label: str, *, params: dict[str, Param], variables: dict[str, str]
) -> Callable[[Callable[..., list[Entrant]]], Callable[..., list[Entrant]]]:
    def register(find: Callable[..., list[Entrant]]) -> Callable[..., list[Entrant]]:
        TRIGGERS[name] = Trigger(name, label, params, variables, find)
        return find

    return register


def trigger_errors(name: str, params: Any) -> dict[str, list[str]]:
    """What is wrong with a journey's trigger and its parameters, by field."""
    found = TRIGGERS.get(name)
    if found is None:
        return {"trigger": [f"Choose a trigger among {', '.join(TRIGGERS)}."]}
    if not isinstance(params, dict):
        return {"trigger_params": ['An object such as {"hours": 4}.']}
    problems = []
    for key in sorted(set(params) - found.params.keys()):
        known = ", ".join(found.params) or "none"
        problems.append(f"Unknown parameter {key!r} for {name}: it takes {known}.")
    for key, spec in found.params.items():
        value = params.get(key, spec.default)
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{key} must be a whole number, not {value!r}.")
        elif not spec.minimum <= value <= spec.maximum:
            problems.append(f"{key} must be between {spec.minimum} and {spec.maximum}.")
    return {"trigger_params": problems} if problems else {}


def params_of(campaign: Campaign) -> dict[str, int]:
    spec = TRIGGERS[campaign.trigger].params
    return {key: int(campaign.trigger_params.get(key, p.default)) for key, p in spec.items()}


def find_entrants(campaign: Campaign, *, now: datetime) -> list[Entrant]:
    return TRIGGERS[campaign.trigger].find(campaign, params_of(campaign), now)


def journey_variables(campaign: Campaign) -> dict[str, str]:
    found = TRIGGERS.get(campaign.trigger) if campaign.is_journey else None
    return found.variables if found else {}


# --- Shared reads ---------------------------------------------------------------------------


def audience(campaign: Campaign, path: str = "") -> Q:
    """Customers the journey may enrol (``path`` leads from the rows read to the customer):
    not erased, and members of its segment if it names one."""
    prefix = f"{path}__" if path else ""
    q = Q(**{f"{prefix}erased_at": None})
    if campaign.segment_id is not None:
        q &= Q(**{f"{prefix}segment_memberships__segment_id": campaign.segment_id})
    return q


def _model(factory: Callable[[], type[Model]]) -> Any:
    return factory()._default_manager


def purchases() -> QuerySet[Model]:
    orders: QuerySet[Model] = _model(relations.order_model).filter(
        status__in=relations.purchase_statuses()
    )
    return orders


def shop_day(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def day_text(day: date) -> str:
    return dateformat.format(day, "j F Y")


# --- The triggers ---------------------------------------------------------------------------


@trigger(
    "abandoned_cart",
    "Abandoned cart: a cart with lines, untouched for N hours, not checked out",
    params={"hours": Param("idle for this many hours", 4, 1, MAX_HOURS)},
    variables={"cart_items": "how many items the cart holds", "cart_total": "what they come to"},
)
def abandoned_carts(campaign: Campaign, params: dict[str, int], now: datetime) -> list[Entrant]:
    idle_since = now - timedelta(hours=params["hours"])
    rows = (
        _model(relations.cart_model)
        .filter(audience(campaign, "customer"), status="active", customer__isnull=False)
        .annotate(last_touched=Greatest(F("updated_at"), Max("lines__updated_at")))
        .filter(last_touched__lte=idle_since, last_touched__gt=idle_since - LOOKBACK)
        .annotate(
            items=Sum("lines__quantity"), total=Sum(F("lines__quantity") * F("lines__unit_price"))
        )
        .filter(items__gt=0)
        .values_list("customer_id", "public_id", "last_touched", "items", "total")
    )
    return [
        # A cart left, touched again and left again is a new occasion.
        Entrant(
            customer,
            f"cart:{cart}:{touched:%Y%m%d%H%M%S}",
            {"cart": str(cart), "cart_items": items, "cart_total": str(total)},
        )
        for customer, cart, touched, items, total in rows
    ]


@trigger(
    "browse_abandonment",
    "Browse abandonment: viewed a product online in the last N hours, not bought since",
    params={"hours": Param("views in the last this many hours", 24, 1, MAX_HOURS)},
    variables={"product": "the product they looked at", "product_code": "its code"},
)
def browse_abandonment(campaign: Campaign, params: dict[str, int], now: datetime) -> list[Entrant]:
    bought_since = _model(relations.order_line_model).filter(
        order__status__in=relations.purchase_statuses(),
        order__customer=OuterRef("customer_id"),
        order__placed_at__gte=OuterRef("occurred_at"),
        sku__product__code=OuterRef("product_code"),
    )
    views = (
        Touchpoint.objects.filter(
            audience(campaign, "customer"),
            kind=Touchpoint.Kind.PRODUCT_VIEW,
            channel__in=ONLINE,
            customer__isnull=False,
            occurred_at__gt=now - timedelta(hours=params["hours"]),
            occurred_at__lte=now,
        )
        .exclude(product_code="")
        .filter(~Exists(bought_since))
        .order_by("customer_id", "-occurred_at")
        .values_list("customer_id", "product_code", "occurred_at")
    )
    names = dict(
        Product.objects.filter(code__in={code for _, code, _ in views}).values_list("code", "name")
    )
    entrants: dict[int, Entrant] = {}
    for customer, code, seen in views:  # the latest view of each customer, one per day
        if customer not in entrants:
            entrants[customer] = Entrant(
                customer,
                f"browse:{shop_day(seen).isoformat()}",
                {"product_code": code, "product": names.get(code, code)},
            )
    return list(entrants.values())


@trigger(
    "birthday",
    "Birthday: the customer's birthday, in their time zone, once a year",
    params={},
    variables={},
)
def birthdays(campaign: Campaign, params: dict[str, int], now: datetime) -> list[Entrant]:
    # Anyone's today is within a day of the shop's: the exact day is checked per zone below.
    days = [shop_day(now) + timedelta(days=n) for n in (-1, 0, 1)]
    near = Q()
    for day in days:
        near |= Q(birthday__month=day.month, birthday__day=day.day)
        if (day.month, day.day) == (2, 28):
            near |= Q(birthday__month=2, birthday__day=29)  # celebrated on the 28th
    # Imported here: sending's lifecycle import reads the triggers (template variables).
    from campaigns.services.sending import customer_zones

    people = list(
        Customer.objects.filter(audience(campaign), near, birthday__isnull=False).only(
            "pk", "birthday", "time_zone", "preferred_store_code"
        )
    )
    zones = customer_zones(people)
    entrants = []
    for person in people:
        today = now.astimezone(ZoneInfo(zones[person.pk])).date()
        assert person.birthday is not None
        if _celebrates(person.birthday, today):
            entrants.append(Entrant(person.pk, f"birthday:{today.year}"))
    return entrants


def _celebrates(birthday: date, today: date) -> bool:
    if (birthday.month, birthday.day) == (today.month, today.day):
        return True
    leap_day = (birthday.month, birthday.day) == (2, 29)
    is_leap = today.year % 4 == 0 and (today.year % 100 != 0 or today.year % 400 == 0)
    return leap_day and not is_leap and (today.month, today.day) == (2, 28)


@trigger(
    "win_back",
    "Win-back: no purchase for N days (once per lapse)",
    params={"days": Param("days without a purchase", 90, 1, MAX_DAYS)},
    variables={"last_purchase": "the day of their last purchase"},
)
def win_back(campaign: Campaign, params: dict[str, int], now: datetime) -> list[Entrant]:
    lapsed_at = now - timedelta(days=params["days"])
    rows = (
        purchases()
        .filter(audience(campaign, "customer"), customer__isnull=False)
        .values("customer_id")
        .annotate(last=Max("placed_at"))
        .filter(last__lte=lapsed_at, last__gt=lapsed_at - LOOKBACK)
        .values_list("customer_id", "last")
    )
    return [
        Entrant(customer, f"lapse:{last:%Y%m%d%H%M%S}", {"last_purchase": day_text(shop_day(last))})
        for customer, last in rows
    ]


@trigger(
    "welcome",
    "Welcome: a new customer (a sign-up, a first visit), once",
    params={},
    variables={},
)
def welcome(campaign: Campaign, params: dict[str, int], now: datetime) -> list[Entrant]:
    since = max(now - LOOKBACK, campaign.started_at or now)
    people = Customer.objects.filter(audience(campaign), created_at__gte=since, created_at__lte=now)
    return [Entrant(pk, "welcome") for pk in people.values_list("pk", flat=True)]


@trigger(
    "tier_reached",
    "Tier reached: their loyalty account moved up to a tier above the entry one",
    params={},
    variables={"tier_reached": "the tier they reached"},
)
def tier_reached(campaign: Campaign, params: dict[str, int], now: datetime) -> list[Entrant]:
    # Loyalty records a tier change by setting the account's tier and, one year on, its
    # anniversary (loyalty.services.tiers): a change in the last days has an anniversary a
    # year minus those days away. Keeping a tier moves the anniversary too, but the occasion
    # (the tier) has then entered already.
    today = shop_day(now)
    recent = today + timedelta(days=365) - timedelta(days=LOOKBACK.days)
    rows = (
        _model(relations.loyalty_account_model)
        .filter(audience(campaign, "customer"), tier__rank__gt=0, tier_anniversary__gte=recent)
        .values_list("customer_id", "tier_id", "tier__name")
    )
    return [
        Entrant(customer, f"tier:{tier}", {"tier_reached": name}) for customer, tier, name in rows
    ]


@trigger(
    "points_expiring",
    "Points about to expire: available points expiring within N days (once per expiry day)",
    params={"days": Param("expiring within this many days", 14, 1, 366)},
    variables={
        "expiring_points": "the points that expire that day",
        "expiry_date": "the day they expire",
    },
)
def points_expiring(campaign: Campaign, params: dict[str, int], now: datetime) -> list[Entrant]:
    # Whole days in the shop's time zone: every lot of one expiry day enters together.
    shop = timezone.get_default_timezone()
    last_day = shop_day(now) + timedelta(days=params["days"] + 1)
    until = datetime.combine(last_day, datetime.min.time(), tzinfo=shop)
    rows: dict[tuple[int, date], int] = {}
    lots = (
        _model(relations.points_lot_model)
        .filter(
            audience(campaign, "account__customer"),
            is_pending=False,
            remaining__gt=0,
            expires_at__gt=now,
            expires_at__lt=until,
            # Lots loyalty told the member about before the notice moved here.
            expiry_notice_sent_at=None,
        )
        .values_list("account__customer_id", "expires_at", "remaining")
    )
    for customer, expires_at, remaining in lots:
        key = (customer, shop_day(expires_at))
        rows[key] = rows.get(key, 0) + remaining
    return [
        Entrant(
            customer,
            f"points:{day.isoformat()}",
            {"expiring_points": points, "expiry_date": day_text(day)},
        )
        for (customer, day), points in sorted(rows.items())
    ]


@trigger(
    "order_completed",
    "Order completed: a pick-up collected, a delivery delivered, a till sale",
    params={
        "csat": Param("1: {{ survey_link }} asks CSAT (1 to 5) rather than NPS (0 to 10)", 0, 0, 1),
    },
    variables={
        "order_number": "the order's number",
        "order_channel": "where it was bought (web, ios, android, store)",
        "store_code": "the store of a pick-up or a till sale",
    },
)
def orders_completed(campaign: Campaign, params: dict[str, int], now: datetime) -> list[Entrant]:
    since = max(now - LOOKBACK, campaign.started_at or now)
    rows = (
        _model(relations.order_event_model)
        .filter(
            audience(campaign, "order__customer"),
            to_status__in=COMPLETED_STATUSES,
            created_at__gte=since,
            created_at__lte=now,
        )
        .exclude(from_status="")  # a note on the timeline, not a change
        .values_list("order__customer_id", "order__number", "order__channel", "order__store__code")
        .distinct()
    )
    return [
        Entrant(
            customer,
            f"order:{number}",
            {
                "order_number": number,
                "order_channel": channel,
                "store_code": store or "",
                "survey_scale": "csat" if params.get("csat") else "nps",
            },
        )
        for customer, number, channel, store in rows
    ]


# --- Wish-list news (orders records it: ``WishListEvent``, once per change) -------------------

WISH_LIST_NEWS = {
    # trigger name: (event kind, label, what the event's details give the message)
    "wish_list_price_dropped": (
        "price_dropped",
        "Wish list: the price of a saved item dropped",
        {"from": "price_before", "to": "price_now"},
    ),
    "wish_list_back_in_stock": (
        "back_in_stock",
        "Wish list: a saved item is back in stock at the customer's store",
        {"store": "store_code", "available": "available"},
    ),
    "wish_list_low_stock": (
        "low_stock",
        "Wish list: few of a saved item left at the customer's store",
        {"store": "store_code", "available": "available"},
    ),
}
WISH_LIST_VARIABLES = {
    "price_before": "the price before the drop",
    "price_now": "the price now",
    "store_code": "the customer's store",
    "available": "units available there",
}


def _wish_list_news(
    kind: str, names: dict[str, str]
) -> Callable[[Campaign, dict[str, int], datetime], list[Entrant]]:
    def find(campaign: Campaign, params: dict[str, int], now: datetime) -> list[Entrant]:
        """The customers with news of this kind about a saved item since the journey started
        (the latest per customer), once per customer, item and day."""
        since = max(now - LOOKBACK, campaign.started_at or now)
        events = (
            _model(relations.wish_list_event_model)
            .filter(
                audience(campaign, "item__wish_list__customer"),
                kind=kind,
                at__gte=since,
                at__lte=now,
            )
            .order_by("item__wish_list__customer_id", "-at", "-pk")
            .values_list(
                "item__wish_list__customer_id",
                "item_id",
                "at",
                "details",
                "item__product__code",
                "item__product__name",
            )
        )
        entrants: dict[int, Entrant] = {}
        for customer, item, at, details, code, name in events:
            if customer in entrants:
                continue
            context: dict[str, Any] = {"product": name, "product_code": code}
            context.update({names[k]: v for k, v in (details or {}).items() if k in names})
            entrants[customer] = Entrant(
                customer, f"wish:{kind}:{item}:{shop_day(at).isoformat()}", context
            )
        return list(entrants.values())

    return find


for _name, (_kind, _label, _names) in WISH_LIST_NEWS.items():
    trigger(
        _name,
        _label,
        params={},
        variables={
            "product": "the saved product's name",
            "product_code": "its code",
            **{v: WISH_LIST_VARIABLES[v] for v in _names.values()},
        },
    )(_wish_list_news(_kind, _names))
