"""Where a delivery order ships from: the one documented allocation strategy.

1. Prefer a single location that can ship every line in full.
2. Among those, the nearest to the delivery address, then the one with the most stock of the
   ordered SKUs (so thin shelves are left for pick-up customers).
3. Only when no single location can ship everything, split: repeatedly take the location that
   covers the most of what is still missing (ties again by distance, then stock).

``allocate`` is a pure function over the candidates, so the strategy is tested without a
database; ``allocate_delivery`` loads the candidates in two queries and applies it.
"""

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from inventory.models import Location, StockLevel
from inventory.selectors import with_sellable
from omni.core.errors import InsufficientStock

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Candidate:
    location_id: int
    distance_km: float | None  # None when the location or the address has no coordinates
    available: dict[int, int] = field(default_factory=dict)  # sku_id -> available units


@dataclass(frozen=True)
class Shipment:
    location_id: int
    lines: dict[int, int]  # sku_id -> units shipped from this location


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def _preference(candidate: Candidate, skus: Iterable[int]) -> tuple[float, int]:
    """Sort key: nearer first (unknown distance last), then more stock of the ordered SKUs."""
    distance = math.inf if candidate.distance_km is None else candidate.distance_km
    return (distance, -sum(candidate.available.get(sku, 0) for sku in skus))


def allocate(lines: dict[int, int], candidates: list[Candidate]) -> list[Shipment]:
    if not lines:
        return []
    best = _best_complete(lines, candidates)
    if best is not None:
        return [Shipment(best.location_id, dict(lines))]
    return _split(dict(lines), list(candidates))


def _best_complete(lines: dict[int, int], candidates: list[Candidate]) -> Candidate | None:
    """The preferred candidate that can ship every line in full, if any can."""
    complete = [
        c for c in candidates if all(c.available.get(sku, 0) >= q for sku, q in lines.items())
    ]
    return min(complete, key=lambda c: _preference(c, lines), default=None)


def _split(missing: dict[int, int], pool: list[Candidate]) -> list[Shipment]:
    shipments = []
    while missing:

        def coverage(candidate: Candidate) -> int:
            return sum(min(candidate.available.get(s, 0), q) for s, q in missing.items())

        best = min(pool, key=lambda c: (-coverage(c), *_preference(c, missing)), default=None)
        if best is None or coverage(best) == 0:
            raise InsufficientStock(
                "No set of locations can ship this order.",
                details={"missing": {str(sku): q for sku, q in missing.items()}},
            )
        taken = {
            sku: min(best.available.get(sku, 0), q)
            for sku, q in missing.items()
            if best.available.get(sku, 0) > 0
        }
        shipments.append(Shipment(best.location_id, taken))
        for sku, units in taken.items():
            missing[sku] -= units
            if not missing[sku]:
                del missing[sku]
        pool.remove(best)
    return shipments


def delivery_candidates(
    sku_ids: list[int], latitude: float | None, longitude: float | None
) -> list[Candidate]:
    """Active ship-from locations with what online channels may sell there of the given SKUs
    (``selectors.with_sellable``: another cart's lapsed hold keeps nothing back)."""
    locations = list(
        Location.objects.filter(is_active=True, ship_from_enabled=True).values_list(
            "pk", "latitude", "longitude"
        )
    )
    stock: dict[int, dict[int, int]] = {pk: {} for pk, _, _ in locations}
    levels = (
        with_sellable(StockLevel.objects.filter(location_id__in=stock, sku_id__in=sku_ids))
        .filter(sellable__gt=0)
        .order_by()
        .values_list("location_id", "sku_id", "sellable")
    )
    for location_id, sku_id, free in levels:
        stock[location_id][sku_id] = free
    return [
        Candidate(
            location_id=pk,
            distance_km=_distance_or_none(lat, lng, latitude, longitude),
            available=stock[pk],
        )
        for pk, lat, lng in locations
    ]


def _distance_or_none(
    lat: Decimal | None, lng: Decimal | None, latitude: float | None, longitude: float | None
) -> float | None:
    """The distance from a location to the address, or None when either has no coordinates."""
    if lat is None or lng is None or latitude is None or longitude is None:
        return None
    return distance_km(float(lat), float(lng), latitude, longitude)


def allocate_delivery(
    lines: dict[int, int], *, latitude: float | None = None, longitude: float | None = None
) -> list[Shipment]:
    """Ship-from locations for a delivery order (see the module docstring for the strategy)."""
    return allocate(lines, delivery_candidates(list(lines), latitude, longitude))


def location_for_whole(
    lines: dict[int, int],
    *,
    latitude: float | None = None,
    longitude: float | None = None,
    exclude: Collection[int] = (),
) -> int | None:
    """The one ship-from location (outside ``exclude``) that can ship all of ``lines``, chosen
    as checkout chooses (nearest, then most stock); None when no single location can. For a
    line that moves whole when its location turns out to be short."""
    candidates = [
        c
        for c in delivery_candidates(list(lines), latitude, longitude)
        if c.location_id not in exclude
    ]
    best = _best_complete(lines, candidates)
    return best.location_id if best else None
