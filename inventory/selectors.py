"""Reads of stock and locations that the API, the clerk pages and the admin share."""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.db.models import (
    Case,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import (
    ASin,
    Cast,
    Coalesce,
    Cos,
    Greatest,
    Least,
    Power,
    Radians,
    Sin,
    Sqrt,
)
from django.utils import timezone

from inventory.models import (
    CycleCount,
    CycleCountLine,
    IntegrationToken,
    Location,
    Reservation,
    Sku,
    StockLevel,
    Transfer,
    TransferLine,
)
from omni.core.credentials import hash_secret
from omni.core.errors import InvalidRequest

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


class Band:
    """How storefronts show a quantity: exact numbers are for staff, bands for shoppers."""

    AVAILABLE = "available"
    LOW = "low"
    OUT = "out"


def band_for(available: int) -> str:
    if available <= 0:
        return Band.OUT
    if available <= settings.LOW_STOCK_BAND:
        return Band.LOW
    return Band.AVAILABLE


def _distance_km(latitude: float, longitude: float) -> CombinedExpression:
    """Great-circle distance from a point to each row's coordinates (haversine), in SQL."""
    lat, lng = Radians(Cast("latitude", FloatField())), Radians(Cast("longitude", FloatField()))
    lat0, lng0 = math.radians(latitude), math.radians(longitude)
    half_chord = Power(Sin((lat - Value(lat0)) / 2), 2) + Value(math.cos(lat0)) * Cos(lat) * Power(
        Sin((lng - Value(lng0)) / 2), 2
    )
    # Rounding can push the term a hair above 1 for antipodes, where asin() would fail.
    return Value(2 * EARTH_RADIUS_KM) * ASin(
        Sqrt(Least(half_chord, Value(1.0))), output_field=FloatField()
    )


def stores_near(
    latitude: float, longitude: float, *, limit: int, pickup_only: bool = True
) -> QuerySet[Location]:
    """Active locations nearest first, each with ``distance_km``; those without coordinates
    cannot be placed and are left out. ``pickup_only`` keeps the ones customers collect from."""
    locations = Location.objects.filter(
        is_active=True, latitude__isnull=False, longitude__isnull=False
    )
    if pickup_only:
        locations = locations.filter(pickup_enabled=True)
    return locations.annotate(distance_km=_distance_km(latitude, longitude)).order_by(
        "distance_km", "pk"
    )[:limit]


# --- What online channels may sell -----------------------------------------------------------
#
# The one rule, for every read that shows or allocates stock to online channels: on hand less
# reserved less safety stock, where a cart hold that has lapsed is no longer reserved, whether
# or not the clean-up task (``services.expire_cart_holds``) has reached it yet. ``reserve``
# agrees: when a level looks short by its row's numbers, it expires the lapsed holds on it (under
# the level's lock) and checks again, which leaves exactly these units. Reads never write: they
# leave the lapsed holds to ``reserve`` and the clean-up task.


def _freed_hold_units(now: datetime, holder: str | None) -> Subquery:
    """Units of the level's active cart holds that no longer keep stock from this reader:
    those that have lapsed and, with ``holder``, the holder's own (it may take them again)."""
    freed = Q(expires_at__lte=now)
    if holder is not None:
        freed |= Q(reference=holder)
    holds = Reservation.objects.filter(
        freed,
        level=OuterRef("pk"),
        kind=Reservation.Kind.CART_HOLD,
        status=Reservation.Status.ACTIVE,
    )
    return Subquery(
        holds.order_by().values("level").annotate(units=Sum("quantity")).values("units"),
        output_field=IntegerField(),
    )


def sellable_units(*, now: datetime | None = None, holder: str | None = None) -> Greatest:
    """The rule as an expression over a ``StockLevel`` queryset, computed in SQL, never below
    zero. ``holder`` (a cart's hold reference) counts that holder's own holds as its own."""
    now = now or timezone.now()
    # Most levels reserve nothing: CASE spares them the look-up of their holds.
    reserved = Case(
        When(reserved=0, then=Value(0)),
        default=F("reserved") - Coalesce(_freed_hold_units(now, holder), Value(0)),
        output_field=IntegerField(),
    )
    return Greatest(F("on_hand") - reserved - F("safety_stock"), Value(0))


class Sellable(TypedDict):
    sellable: int


def with_sellable(
    levels: QuerySet[StockLevel], *, now: datetime | None = None, holder: str | None = None
) -> "QuerySet[WithAnnotations[StockLevel, Sellable]]":
    """The levels, each with ``sellable``: what online channels may sell there (the rule above)."""
    return levels.annotate(sellable=sellable_units(now=now, holder=holder))


@dataclass(frozen=True)
class HolderStock:
    """What one holder (a cart, by its hold reference) has and could have of a SKU at a place."""

    available: int  # what it could hold there now: sellable, its own holds counted as its own
    held: int  # what its live (unlapsed) holds keep for it there
    hold_expires_at: datetime | None  # when the first of those holds lapses


NOTHING_HELD = HolderStock(available=0, held=0, hold_expires_at=None)


def stock_for_holder(
    holder: str | None,
    *,
    location_ids: Iterable[int],
    sku_ids: Iterable[int],
    now: datetime | None = None,
) -> dict[tuple[int, int], HolderStock]:
    """By (location id, SKU id), what ``holder`` holds and could hold (``None``: a reader who
    holds nothing), in one query whatever the number of places and SKUs. A pair without a
    level is absent: nothing there."""
    now = now or timezone.now()
    live_holds = Reservation.objects.filter(
        level=OuterRef("pk"),
        kind=Reservation.Kind.CART_HOLD,
        status=Reservation.Status.ACTIVE,
        reference=holder,
        expires_at__gt=now,
    ).order_by()
    levels = StockLevel.objects.filter(
        location_id__in=set(location_ids), sku_id__in=set(sku_ids)
    ).order_by()
    rows = (
        with_sellable(levels, now=now, holder=holder)
        .annotate(
            held=Coalesce(
                Subquery(
                    live_holds.values("level").annotate(units=Sum("quantity")).values("units"),
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
            hold_expires_at=Subquery(live_holds.order_by("expires_at").values("expires_at")[:1]),
        )
        .values_list("location_id", "sku_id", "sellable", "held", "hold_expires_at")
    )
    return {
        (location, sku): HolderStock(available, held, expires)
        for location, sku, available, held, expires in rows
    }


@dataclass(frozen=True)
class Shortfall:
    """A line a place cannot cover: how much is wanted, how much it could have."""

    sku: str
    wanted: int
    available: int


def shortfalls(
    wanted: Sequence[tuple[Sku, int]],
    stock: dict[tuple[int, int], HolderStock],
    location_id: int,
) -> list[Shortfall]:
    """The lines of ``wanted`` (SKU, quantity) that ``stock`` (``stock_for_holder``) does not
    cover at the location, in the order given."""
    short = []
    for sku, quantity in wanted:
        available = stock.get((location_id, sku.pk), NOTHING_HELD).available
        if available < quantity:
            short.append(Shortfall(sku.code, quantity, available))
    return short


@dataclass(frozen=True)
class StoreCoverage:
    store: Location  # annotated with distance_km
    short: list[Shortfall]  # empty: the store covers every line

    @property
    def covers(self) -> bool:
        return not self.short


def pickup_stores_covering(
    wanted: Sequence[tuple[Sku, int]],
    latitude: float,
    longitude: float,
    *,
    limit: int,
    holder: str | None,
) -> list[StoreCoverage]:
    """The ``limit`` pick-up stores nearest the point, nearest first, each with the lines of
    ``wanted`` it is short of for ``holder`` (whose own holds count as its own). Two queries
    whatever the number of lines and stores: the stores, then their stock."""
    stores = list(stores_near(latitude, longitude, limit=limit, pickup_only=True))
    stock = (
        stock_for_holder(
            holder,
            location_ids=[store.pk for store in stores],
            sku_ids=[sku.pk for sku, _ in wanted],
        )
        if stores and wanted
        else {}
    )
    return [StoreCoverage(store, shortfalls(wanted, stock, store.pk)) for store in stores]


@dataclass(frozen=True)
class SkuAvailability:
    sku: str
    available: int
    band: str


@dataclass(frozen=True)
class StoreAvailability:
    store: Location  # annotated with distance_km
    lines: list[SkuAvailability]


def availability_near(
    sku_codes: Iterable[str], latitude: float, longitude: float, *, stores: int
) -> list[StoreAvailability]:
    """What online channels may sell (``with_sellable``) of each SKU at the ``stores`` nearest
    pick-up stores.

    Three queries whatever the number of SKUs and stores: the SKUs, the stores, their levels.
    A SKU without a level at a store has nothing there. Unknown or inactive SKU codes are
    refused, naming them, rather than shown as out of stock.
    """
    codes = list(dict.fromkeys(sku_codes))  # unique, in the order asked
    skus = dict(
        Sku.objects.filter(code__in=codes, is_active=True).order_by().values_list("code", "pk")
    )
    unknown = sorted(set(codes) - set(skus))
    if unknown:
        raise InvalidRequest(
            f"Unknown or inactive SKU: {', '.join(unknown)}.", details={"unknown_skus": unknown}
        )
    nearest = list(stores_near(latitude, longitude, limit=stores, pickup_only=True))
    if not nearest:
        return []
    levels = StockLevel.objects.filter(
        sku_id__in=skus.values(), location_id__in=[store.pk for store in nearest]
    ).order_by()  # the model's ordering would join SKUs and locations for nothing
    sellable = {
        (location, sku): units
        for location, sku, units in with_sellable(levels).values_list(
            "location_id", "sku_id", "sellable"
        )
    }
    result = []
    for store in nearest:
        lines = []
        for code in codes:
            available = sellable.get((store.pk, skus[code]), 0)
            lines.append(SkuAvailability(code, available, band_for(available)))
        result.append(StoreAvailability(store, lines))
    return result


def skus_by_code(codes: Iterable[str]) -> dict[str, Sku]:
    """The SKUs with these codes, active or not, in one query; unknown codes are absent."""
    return {sku.code: sku for sku in Sku.objects.filter(code__in=set(codes))}


def locations_by_code(codes: Iterable[str]) -> dict[str, Location]:
    """The locations with these codes in one query; unknown codes are absent."""
    return {location.code: location for location in Location.objects.filter(code__in=set(codes))}


class LevelOnHand(TypedDict):
    pk: int
    on_hand: int
    sku_code: str
    location_code: str


def stock_on_hand(level_ids: Iterable[int]) -> dict[int, LevelOnHand]:
    """On hand of levels by id, with their SKU and location codes, in one query."""
    rows = StockLevel.objects.filter(pk__in=set(level_ids)).values(
        "pk", "on_hand", sku_code=F("sku__code"), location_code=F("location__code")
    )
    return {row["pk"]: row for row in rows}


def transfers_with_lines() -> QuerySet[Transfer]:
    """Transfers with their places and lines (in the order they were asked for) in 2 queries."""
    return Transfer.objects.select_related("source", "destination").prefetch_related(
        Prefetch("lines", queryset=TransferLine.objects.select_related("sku").order_by("pk"))
    )


def cycle_counts_with_lines() -> QuerySet[CycleCount]:
    """Cycle counts with their location and lines (in the order counted) in 2 queries."""
    return CycleCount.objects.select_related("location").prefetch_related(
        Prefetch("lines", queryset=CycleCountLine.objects.select_related("sku").order_by("pk"))
    )


def integration_token_for(raw_token: str) -> IntegrationToken | None:
    """The token with this value and its user, whatever its state (revoked, expired)."""
    return (
        IntegrationToken.objects.select_related("user")
        .filter(key_hash=hash_secret(raw_token))
        .first()
    )


# Orders reserve their stock under "order:<number>" (a pick-up) or "order:<number>:<more>" (each
# delivery shipment, "order:<number>:ship:<id>"); inventory knows no more of orders than that.
ORDER_REFERENCE_PREFIX = "order:"


def order_number_in(reference: str) -> str | None:
    """The order number a movement's reference may name: the reference itself (``OM-123``),
    or the number in an order reservation's reference (``order:OM-123``,
    ``order:OM-123:ship:7``; the prefix in any case). None for what cannot be one
    (``receipt:991``, blank)."""
    reference = reference.strip()
    if reference[: len(ORDER_REFERENCE_PREFIX)].lower() == ORDER_REFERENCE_PREFIX:
        reference = reference[len(ORDER_REFERENCE_PREFIX) :].split(":", 1)[0]
    if not reference or ":" in reference:
        return None
    return reference


def orders_holding_stock(numbers: Iterable[str]) -> set[str]:
    """Which of these order numbers have stock Omni itself reserves or has taken off for them
    (an order allocation still active, or consumed when it shipped or was collected), in one
    query. Those orders' stock leaves through their own confirmation, never a sale movement."""
    wanted = set(numbers)
    if not wanted:
        return set()
    named = Q()
    for number in sorted(wanted):
        root = f"{ORDER_REFERENCE_PREFIX}{number}"
        named |= Q(reference=root) | Q(reference__startswith=f"{root}:")
    references = (
        Reservation.objects.filter(
            named,
            kind=Reservation.Kind.ORDER,
            status__in=[Reservation.Status.ACTIVE, Reservation.Status.CONSUMED],
        )
        .order_by()
        .values_list("reference", flat=True)
        .distinct()
    )
    found = {order_number_in(reference) for reference in references}
    return {number for number in wanted if number in found}
