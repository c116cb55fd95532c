"""Conditions on who the customer is: age band, city, preferred store, first channel, customer
since, and distance to a store.

Where a customer lives is not on the profile. Their **city** and **coordinates** are taken from
the latest delivery address that has them (``Order.ship_to``: where parcels actually reach
them), else from their preferred store (where they choose to shop, so near where they live or
work). A customer with neither has no known city or position and matches no city or distance
condition (nor its negation by ``not_in``; only a NOT group takes them in).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    Case,
    Expression,
    FloatField,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import (
    ASin,
    Cast,
    Coalesce,
    Cos,
    Lower,
    NullIf,
    Power,
    Radians,
    Sin,
    Sqrt,
    Trim,
)
from django.db.models.lookups import GreaterThan, In, IsNull, LessThanOrEqual
from django.utils import timezone

from campaigns.rules import relations
from campaigns.rules.base import (
    CompileContext,
    Condition,
    Invalid,
    Param,
    ValidationContext,
    amount,
    choices,
    days,
    existing,
    iso_date,
    numeric_value,
    register,
    string_list,
    whole_number,
)
from inventory.models import Location
from omni.core.channels import Channel

EARTH_RADIUS_KM = 6371.0088
DELIVERY = "delivery"


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


@register
class Age(Condition):
    field = "age"
    label = "Age in years (from the birthday; customers without one never match)"
    group = "Profile"
    operators = {
        "between": "[low, high] years, both included: an age band, e.g. [25, 34]",
        "gte": "years",
        "lte": "years",
        "eq": "years",
    }
    example = {"field": "age", "operator": "between", "value": [25, 34]}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        def years(v: Any) -> int:
            return whole_number(v, what="an age in years", maximum=130)

        return numeric_value(operator, value, years), params

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        low, high = {
            "between": lambda: tuple(value),
            "eq": lambda: (value, value),
            "gte": lambda: (value, None),
            "lte": lambda: (None, value),
        }[operator]()
        today = timezone.localdate(context.now)
        condition = Q()
        if low is not None:  # born on or before today, ``low`` years ago
            condition &= Q(birthday__lte=_years_before(today, low))
        if high is not None:  # not yet ``high + 1``
            condition &= Q(birthday__gt=_years_before(today, high + 1))
        return condition


def _latest_delivery(key_path: str, *keys: str) -> Subquery:
    """A value of the latest delivery address that has ``keys`` (``ship_to`` of an order)."""
    orders = relations.order_model()._default_manager.filter(
        customer=OuterRef("pk"), fulfilment=DELIVERY, ship_to__has_keys=list(keys)
    )
    return Subquery(orders.order_by("-placed_at", "-pk").values_list(KT(key_path))[:1])


def _preferred_store(column: str) -> Subquery:
    stores = Location.objects.filter(code=OuterRef("preferred_store_code"))
    return Subquery(stores.values_list(column)[:1])


def known_city() -> Expression:
    """The customer's city, lower-case: latest delivery address, else preferred store."""
    text = TextField()
    delivered = NullIf(
        Trim(_latest_delivery("ship_to__city", "city")), Value(""), output_field=text
    )
    store = NullIf(Trim(Cast(_preferred_store("city"), text)), Value(""), output_field=text)
    return Lower(Coalesce(delivered, store, output_field=text))


@register
class City(Condition):
    field = "city"
    label = "City (of the latest delivery address, else of the preferred store)"
    group = "Profile"
    operators = {
        "in": "a list of city names (any case)",
        "not_in": "a list of city names: a known city that is none of them",
    }
    example = {"field": "city", "operator": "in", "value": ["Paris", "Lyon"]}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        return string_list(value, what="city names", lower=True), params

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        city = known_city()
        inside = Q(In(city, value))
        # Spelled out so that a NOT group around it takes in customers with no known city.
        known = Q(IsNull(city, False))
        return (inside if operator == "in" else ~inside) & known


@register
class PreferredStore(Condition):
    field = "preferred_store"
    label = "Preferred store (its code)"
    group = "Profile"
    operators = {
        "in": "a list of store codes",
        "not_in": "a list of store codes: customers with another preferred store",
    }
    example = {"field": "preferred_store", "operator": "in", "value": ["PAR-RIV"]}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        codes = existing(value, what="store codes", model=Location, column="code", context=context)
        return codes, params

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        inside = Q(preferred_store_code__in=value)
        return inside if operator == "in" else ~inside & ~Q(preferred_store_code="")


@register
class FirstChannel(Condition):
    field = "first_channel"
    label = "Channel the customer was first seen in"
    group = "Profile"
    operators = {
        "in": f"a list of channels ({', '.join(Channel.values)})",
        "not_in": "a list of channels: first seen in another (known) channel",
    }
    example = {"field": "first_channel", "operator": "in", "value": ["store"]}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        return choices(value, Channel.values, what="channels"), params

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        inside = Q(first_seen_channel__in=value)
        return inside if operator == "in" else ~inside & ~Q(first_seen_channel="")


@register
class CustomerSince(Condition):
    field = "customer_since"
    label = "When the profile was created"
    group = "Profile"
    operators = {
        "within_days": "days: created in the last N days",
        "more_than_days": "days: created more than N days ago",
        "since": "a date YYYY-MM-DD: created on or after it",
        "before": "a date YYYY-MM-DD: created before it",
    }
    example = {"field": "customer_since", "operator": "within_days", "value": 30}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        if operator in ("since", "before"):
            return iso_date(value).isoformat(), params
        return days(value), params

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        if operator in ("since", "before"):
            start = timezone.make_aware(datetime.combine(date.fromisoformat(value), time.min))
            return Q(created_at__gte=start) if operator == "since" else Q(created_at__lt=start)
        moment = context.now - timedelta(days=value)
        return Q(created_at__gte=moment) if operator == "within_days" else Q(created_at__lt=moment)


def known_position() -> tuple[Expression, Expression]:
    """The customer's latitude and longitude (degrees): latest delivery address with both,
    else the preferred store's."""

    def coordinate(name: str) -> Expression:
        delivered = Cast(
            _latest_delivery(f"ship_to__{name}", "latitude", "longitude"), FloatField()
        )
        return Coalesce(delivered, Cast(_preferred_store(name), FloatField()))

    return coordinate("latitude"), coordinate("longitude")


def distance_km(latitude: float, longitude: float) -> Expression:
    """Great-circle distance from the customer's known position to a point (haversine)."""
    lat, lng = known_position()
    to_lat, to_lng = Value(latitude, FloatField()), Value(longitude, FloatField())
    half_dlat = Radians(lat - to_lat) / Value(2.0)
    half_dlng = Radians(lng - to_lng) / Value(2.0)
    a = Power(Sin(half_dlat), 2) + Cos(Radians(lat)) * Cos(Radians(to_lat)) * Power(
        Sin(half_dlng), 2
    )
    # Rounding can push a hair above 1 near antipodes; LEAST would also turn NULL into 1.
    clamped = Case(When(GreaterThan(a, Value(1.0)), then=Value(1.0)), default=a)
    return Value(2 * EARTH_RADIUS_KM) * ASin(Sqrt(clamped))


@register
class DistanceToStore(Condition):
    field = "distance_km"
    label = (
        "Distance in km to a store (from the latest delivery address with coordinates, else "
        "from the preferred store)"
    )
    group = "Location"
    operators = {"lte": "km: within this distance", "gt": "km: further than this"}
    params = {"store": Param("the store's code, e.g. PAR-RIV (it needs coordinates)", True)}
    example = {"field": "distance_km", "operator": "lte", "value": 10, "store": "PAR-RIV"}

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        km = amount(value)
        if km <= 0 or km > 20000:
            raise Invalid(f"the distance must be between 0 and 20000 km, not {value!r}.")
        (code,) = string_list(params["store"], what="store code")[:1]
        store = Location.objects.filter(code=code).values("latitude", "longitude").first()
        if store is None:
            raise Invalid(f"unknown store {code}.")
        if store["latitude"] is None or store["longitude"] is None:
            raise Invalid(f"store {code} has no coordinates.")
        return str(km), {"store": code}

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        store = Location.objects.only("latitude", "longitude").get(code=params["store"])
        if store.latitude is None or store.longitude is None:  # checked by ``clean``
            raise Invalid(f"store {store.code} has no coordinates.")
        distance = distance_km(float(store.latitude), float(store.longitude))
        km = Value(float(value), FloatField())
        near = LessThanOrEqual(distance, km) if operator == "lte" else GreaterThan(distance, km)
        return Q(near) & Q(IsNull(distance, False))
