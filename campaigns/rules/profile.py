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
    Exists,
    Expression,
    FloatField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import (
    ASin,
    Cast,
    Cos,
    Lower,
    Power,
    Radians,
    Sin,
    Sqrt,
    Trim,
)
from django.db.models.lookups import GreaterThan
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


def _addresses(*keys: str) -> QuerySet[Model]:
    """Delivery orders whose address (``ship_to``) has ``keys``."""
    return relations.order_model()._default_manager.filter(
        fulfilment=DELIVERY, ship_to__has_keys=list(keys)
    )


def _latest(addresses: QuerySet[Model]) -> QuerySet[Model]:
    """The customer's latest of ``addresses``: none of theirs is later (an anti-join, so
    PostgreSQL answers for every customer in one pass instead of sorting each one's orders)."""
    later = addresses.filter(customer=OuterRef("customer")).filter(
        Q(placed_at__gt=OuterRef("placed_at"))
        | Q(placed_at=OuterRef("placed_at"), pk__gt=OuterRef("pk"))
    )
    return addresses.filter(customer=OuterRef("pk")).filter(~Exists(later))


def _lower_trim(expression: Any) -> Expression:
    return Lower(Trim(Cast(expression, TextField())))


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
        addresses = (
            _addresses("city")
            .annotate(city_name=_lower_trim(KT("ship_to__city")))
            .exclude(city_name="")
        )
        stores = Location.objects.annotate(city_name=_lower_trim("city")).exclude(city_name="")
        if operator == "in":
            latest_matches = _latest(addresses).filter(city_name__in=value)
            store_matches = stores.filter(city_name__in=value)
        else:  # a known city, none of these
            latest_matches = _latest(addresses).exclude(city_name__in=value)
            store_matches = stores.exclude(city_name__in=value)
        has_address = Exists(addresses.filter(customer=OuterRef("pk")))
        return Q(Exists(latest_matches)) | (
            ~Q(has_address) & Q(preferred_store_code__in=store_matches.values("code"))
        )


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


def distance_km(
    latitude: Expression, longitude: Expression, to_latitude: float, to_longitude: float
) -> Expression:
    """Great-circle distance (haversine) between a position and a point, in degrees."""
    to_lat, to_lng = Value(to_latitude, FloatField()), Value(to_longitude, FloatField())
    half_dlat = Radians(latitude - to_lat) / Value(2.0)
    half_dlng = Radians(longitude - to_lng) / Value(2.0)
    a = Power(Sin(half_dlat), 2) + Cos(Radians(latitude)) * Cos(Radians(to_lat)) * Power(
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
        point = float(store.latitude), float(store.longitude)
        float_field = FloatField()
        positions = _addresses("latitude", "longitude").annotate(
            distance=distance_km(
                Cast(KT("ship_to__latitude"), float_field),
                Cast(KT("ship_to__longitude"), float_field),
                *point,
            )
        )
        stores = (
            Location.objects.exclude(latitude=None)
            .exclude(longitude=None)
            .annotate(
                distance=distance_km(
                    Cast("latitude", float_field), Cast("longitude", float_field), *point
                )
            )
        )
        lookup = "distance__lte" if operator == "lte" else "distance__gt"
        km = float(value)
        has_position = Exists(positions.filter(customer=OuterRef("pk")))
        return Q(Exists(_latest(positions).filter(**{lookup: km}))) | (
            ~Q(has_position)
            & Q(preferred_store_code__in=stores.filter(**{lookup: km}).values("code"))
        )
