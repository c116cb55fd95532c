"""Delivery orders after checkout. Each location's shipment is picked, packed into one or more
parcels and shipped with a carrier's tracking number; the order follows its parcels (partly
shipped, shipped, delivered) and earns its points on delivery.

Rules kept here:
- stock leaves a location only when a parcel ships, as a sale through the stock ledger that
  consumes exactly the parcel's reserved units; a second report of the same parcel, line or
  shipment finds nothing left to send and is refused (``AlreadyShipped``), so a shipment is
  never taken off stock twice;
- a line its location cannot find (reported short) moves whole to the one location that can
  cover it, chosen as checkout chooses, and the first location's reservation is released; when
  none can, it is cancelled and its share of the money and the points is given back;
- a line may be shipped from a location other than the allocated one: the allocation is
  released and the units are taken only where they shipped; if that location is short,
  nothing changes;
- every step locks the order, then the shipment, then its lines (``orders.locks``).
"""

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from inventory import services as inventory
from inventory.allocation import location_for_whole
from inventory.models import Location, Reservation
from inventory.services import StockLine
from loyalty import services as loyalty
from omni.core.errors import AlreadyShipped, InsufficientStock, InvalidRequest, NotFound
from orders import notifications
from orders.locks import (
    lock_open_shipment_at,
    lock_order,
    lock_order_line,
    lock_parcel,
    lock_shipment,
    lock_shipment_lines,
)
from orders.models import (
    CarrierEvent,
    Order,
    OrderLine,
    Parcel,
    ParcelLine,
    Shipment,
    ShipmentLine,
)
from orders.services import money
from orders.services.lifecycle import note_on_timeline, transition
from orders.services.points import earn_points

S = Order.Status
SL = ShipmentLine.Status
P = Parcel.Status
CENT = Decimal("0.01")
LIVE = {SL.OPEN, SL.PICKED, SL.SHIPPED}  # lines still part of the order's delivery
UNSENT = {SL.OPEN, SL.PICKED}
FINISHED = {Shipment.Status.SHIPPED, Shipment.Status.DELIVERED, Shipment.Status.CANCELLED}
REATTEMPTS = 3  # another order may take the stock between choosing a location and reserving


@dataclass(frozen=True)
class Tracking:
    """What a parcel leaves with: the carrier, its tracking number, and the link the customer
    follows (optional)."""

    carrier: str
    number: str
    url: str = ""

    def checked(self) -> "Tracking":
        carrier, number, url = self.carrier.strip(), self.number.strip(), self.url.strip()
        if not carrier or not number:
            raise InvalidRequest("Give the carrier and the tracking number.")
        if url:
            try:
                URLValidator(schemes=["https", "http"])(url)
            except ValidationError:
                raise InvalidRequest(
                    "The tracking link must be a web address (https://...).",
                    details={"tracking_url": url},
                ) from None
        return Tracking(carrier, number, url)


# --- Steps at the location ----------------------------------------------------------------------


@transaction.atomic
def pick(
    *, shipment: Shipment, line_ids: Collection[int] | None = None, actor: User | None = None
) -> Shipment:
    """The location found these lines on its shelves (all still to pick by default). Picking a
    picked line again changes nothing."""
    order, shipment = _locked(shipment)
    lines = _chosen(shipment, line_ids, default=lambda line: line.status == SL.OPEN)
    _mark_picked(lines)
    _settle(order, shipment, actor=actor)
    return shipment


@transaction.atomic
def pack(
    *,
    shipment: Shipment,
    contents: dict[int, int] | None = None,
    actor: User | None = None,
) -> Parcel:
    """Put picked units into a new parcel: ``contents`` maps shipment line ids to units (by
    default everything picked and not packed yet)."""
    order, shipment = _locked(shipment)
    parcel = _pack(shipment, contents, actor=actor)
    _settle(order, shipment, actor=actor)
    return parcel


@transaction.atomic
def ship_parcel(*, parcel: Parcel, tracking: Tracking, actor: User | None = None) -> Parcel:
    """A packed parcel leaves with its carrier: its units leave the location's stock, the
    customer is told with the tracking link, and the order moves on."""
    tracking = tracking.checked()
    order, shipment = _locked(parcel.shipment, finished_ok=True)
    parcel = lock_parcel(parcel)
    if parcel.status != P.PACKED:
        raise AlreadyShipped(
            f"This parcel already left with {parcel.carrier} ({parcel.tracking_number}); "
            "its stock was taken then and is not taken again.",
            details={"parcel": str(parcel.public_id), "tracking_number": parcel.tracking_number},
        )
    _send(order, shipment, parcel, tracking, actor=actor)
    _settle(order, shipment, actor=actor)
    return parcel


@transaction.atomic
def ship(
    *,
    shipment: Shipment,
    tracking: Tracking,
    line_ids: Collection[int] | None = None,
    location: Location | None = None,
    actor: User | None = None,
) -> Parcel:
    """One step for a warehouse system or a busy counter: pick, pack into one parcel and ship
    these lines (by default everything the shipment has not sent or packed yet).

    From a ``location`` other than the allocated one, the lines move there first: the
    allocation is released and the units are reserved, then taken, only there; if that
    location cannot cover them, nothing changes."""
    tracking = tracking.checked()
    order, shipment = _locked(shipment)
    lines = _chosen(shipment, line_ids, default=lambda line: line.status in UNSENT)
    if location is not None and location.pk != shipment.location_id:
        shipment, lines = _move(order, shipment, lines, location, actor=actor)
    _mark_picked(lines)
    unpacked = _unpacked_units(shipment)
    contents = {line.pk: unpacked[line.pk] for line in lines if unpacked.get(line.pk)}
    if not contents:
        raise InvalidRequest(
            "These lines are already packed: ship their parcels.",
            details={"parcels": [str(p.public_id) for p in _waiting_parcels(shipment)]},
        )
    parcel = _pack(shipment, contents, actor=actor)
    _send(order, shipment, parcel, tracking, actor=actor)
    _settle(order, shipment, actor=actor)
    return parcel


@transaction.atomic
def move_lines(
    *,
    shipment: Shipment,
    location: Location,
    line_ids: Collection[int] | None = None,
    actor: User | None = None,
) -> Shipment:
    """Another location takes over these lines (all unsent ones by default), e.g. a store
    that has them on its shelf: they are reserved there (or nothing changes, if it cannot
    cover them) and released where they were. Returns the shipment they joined."""
    order, shipment = _locked(shipment)
    if location.pk == shipment.location_id:
        raise InvalidRequest(f"These lines are already allocated to {location.name}.")
    lines = _chosen(shipment, line_ids, default=lambda line: line.status in UNSENT)
    target, _ = _move(order, shipment, lines, location, actor=actor)
    return target


@transaction.atomic
def report_short(
    *, shipment: Shipment, line_id: int, actor: User | None = None, note: str = ""
) -> ShipmentLine | None:
    """The location cannot find a line's units. The line moves whole to the one location
    that can cover it (as checkout would choose, never one that already reported it short),
    and this location's reservation is released. When no location can, the line is
    cancelled, its share of the money and points given back, and the customer is told.
    Returns the line where it moved, or None when it was cancelled."""
    order, shipment = _locked(shipment)
    (line,) = _chosen(shipment, [line_id], default=lambda line: False)
    _ensure_unpacked([line])
    _release(shipment, [line])
    line.status = SL.MOVED
    line.short_reported_at = timezone.now()
    line.note = note[:255]
    line.save(update_fields=["status", "short_reported_at", "note"])
    moved = _reallocate(order, line, actor=actor)
    if moved is None:
        line.status = SL.CANCELLED
        line.save(update_fields=["status"])
        _cancel_units(order, line, actor=actor)
    else:
        note_on_timeline(
            order,
            actor=actor,
            note=f"{line.order_line.sku.code} short at {shipment.location.code}: "
            f"moved to {moved.shipment.location.code}",
        )
    _settle(order, shipment, actor=actor)
    return moved


# --- Delivery -----------------------------------------------------------------------------------


@transaction.atomic
def mark_parcel_delivered(
    *, parcel: Parcel, actor: User | None = None, at: datetime | None = None
) -> Parcel:
    """The carrier delivered the parcel (told by hand or by the carrier's webhook); when the
    last one arrives the order is delivered and earns its points. Telling it twice changes
    nothing."""
    order = lock_order(parcel.shipment.order)
    shipment = lock_shipment(parcel.shipment)
    parcel = lock_parcel(parcel)
    if parcel.status == P.DELIVERED:
        return parcel
    if parcel.status != P.SHIPPED:
        raise InvalidRequest("This parcel has not shipped yet.")
    parcel.status, parcel.delivered_at = P.DELIVERED, at or timezone.now()
    parcel.save(update_fields=["status", "delivered_at"])
    _settle(order, shipment, actor=actor)
    return parcel


@transaction.atomic
def mark_delivered(*, order: Order, actor: User | None = None) -> Order:
    """Staff confirm the whole order arrived: every parcel that shipped is delivered."""
    order = lock_order(order)
    if order.status != S.SHIPPED:
        raise InvalidRequest(
            f"Order {order.number} is {order.get_status_display().lower()}: only a shipped "
            "order can be delivered.",
            details={"status": order.status},
        )
    Parcel.objects.filter(shipment__order=order, status=P.SHIPPED).update(
        status=P.DELIVERED, delivered_at=timezone.now()
    )
    Shipment.objects.filter(order=order, status=Shipment.Status.SHIPPED).update(
        status=Shipment.Status.DELIVERED
    )
    _settle_order(order, actor=actor)
    return order


def record_carrier_event(
    *, carrier: str, event_id: str, tracking_number: str, kind: str, occurred_at: datetime
) -> tuple[CarrierEvent, bool]:
    """Keep a carrier's tracking event once (a carrier retries); a ``delivered`` event
    delivers its parcel. Returns the event and whether it is new."""
    with transaction.atomic():
        known = CarrierEvent.objects.filter(carrier=carrier, event_id=event_id).first()
        if known is not None:
            return known, False
        parcel = (
            Parcel.objects.select_related("shipment__order")
            .filter(carrier__iexact=carrier, tracking_number=tracking_number)
            .first()
        )
        if parcel is None:
            raise NotFound(
                f"No parcel left with {carrier} under tracking number {tracking_number}.",
                details={"tracking_number": tracking_number},
            )
        try:
            with transaction.atomic():
                event = CarrierEvent.objects.create(
                    carrier=carrier,
                    event_id=event_id,
                    tracking_number=tracking_number,
                    kind=kind,
                    occurred_at=occurred_at,
                    parcel=parcel,
                )
        except IntegrityError:  # the same event, posted twice at once: the other one won
            return CarrierEvent.objects.get(carrier=carrier, event_id=event_id), False
        if kind == "delivered":
            mark_parcel_delivered(parcel=parcel, at=occurred_at)
    return event, True


# --- Cancelling the whole order (orders.services.fulfilment.cancel_order) -----------------------


def cancel_shipments(order: Order) -> None:
    """The order will not ship: every shipment's stock still reserved goes back, and what has
    not left is cancelled. The caller holds the order's lock."""
    for shipment in order.shipments.all():
        inventory.release_reservations(reference=shipment.reservation_reference)
    ShipmentLine.objects.filter(shipment__order=order, status__in=UNSENT).update(
        status=SL.CANCELLED
    )
    order.shipments.exclude(status__in=FINISHED).update(status=Shipment.Status.CANCELLED)


# --- Inside the steps ---------------------------------------------------------------------------


def _locked(shipment: Shipment, *, finished_ok: bool = False) -> tuple[Order, Shipment]:
    """The order and the shipment, locked in that order, once the order is a delivery still
    being shipped (and the shipment still open, unless ``finished_ok``)."""
    order = lock_order(shipment.order)
    shipment = lock_shipment(shipment)
    if order.fulfilment != Order.Fulfilment.DELIVERY:
        raise InvalidRequest(f"Order {order.number} is not a delivery.")
    if order.status not in (S.ALLOCATED, S.PARTLY_SHIPPED):
        raise (AlreadyShipped if order.status in (S.SHIPPED, S.DELIVERED) else InvalidRequest)(
            f"Order {order.number} is {order.get_status_display().lower()}: nothing of it is "
            "left to ship.",
            details={"order": order.number, "status": order.status},
        )
    if not finished_ok and shipment.status in FINISHED:
        raise (AlreadyShipped if shipment.status != Shipment.Status.CANCELLED else InvalidRequest)(
            f"This shipment from {shipment.location.code} is "
            f"{shipment.get_status_display().lower()}: nothing of it is left to ship.",
            details={"status": shipment.status},
        )
    shipment.order = order
    return order, shipment


def _chosen(
    shipment: Shipment,
    line_ids: Collection[int] | None,
    *,
    default: Callable[[ShipmentLine], bool],
) -> list[ShipmentLine]:
    """The shipment's lines named by ``line_ids`` (or those ``default`` keeps), locked; refuses
    a line that is not on the shipment, that already shipped, or that left it."""
    lines = lock_shipment_lines(shipment)
    if line_ids is None:
        return [line for line in lines.values() if default(line)]
    chosen = []
    for pk in dict.fromkeys(line_ids):
        line = lines.get(pk)
        if line is None:
            raise NotFound(f"Line {pk} is not on this shipment.", details={"line": pk})
        if line.status == SL.SHIPPED:
            raise AlreadyShipped(
                f"{line.order_line.sku.code} already shipped; its stock is not taken again.",
                details={"line": pk},
            )
        if line.status not in UNSENT:
            raise InvalidRequest(
                f"{line.order_line.sku.code} is {line.get_status_display().lower()}: "
                "nothing of it is left to ship here.",
                details={"line": pk, "status": line.status},
            )
        chosen.append(line)
    return chosen


def _mark_picked(lines: Iterable[ShipmentLine]) -> None:
    to_pick = [line for line in lines if line.status == SL.OPEN]
    for line in to_pick:
        line.status = SL.PICKED
    ShipmentLine.objects.bulk_update(to_pick, ["status"])


def _packed_units(shipment: Shipment) -> dict[int, int]:
    """Units of each of the shipment's lines already in a parcel (shipped or waiting)."""
    return dict(
        ParcelLine.objects.filter(parcel__shipment=shipment)
        .values("shipment_line")
        .annotate(units=Sum("quantity"))
        .values_list("shipment_line", "units")
    )


def _unpacked_units(shipment: Shipment) -> dict[int, int]:
    """Picked units of each picked line that no parcel holds yet."""
    packed = _packed_units(shipment)
    return {
        line.pk: line.quantity - packed.get(line.pk, 0)
        for line in shipment.lines.filter(status=SL.PICKED)
    }


def _waiting_parcels(shipment: Shipment) -> list[Parcel]:
    return list(shipment.parcels.filter(status=P.PACKED))


def _ensure_unpacked(lines: Iterable[ShipmentLine]) -> None:
    packed = ParcelLine.objects.filter(shipment_line__in=list(lines)).exists()
    if packed:
        raise InvalidRequest(
            "Part of this line is already in a parcel: ship the parcel, or report it short "
            "before packing."
        )


def _pack(shipment: Shipment, contents: dict[int, int] | None, *, actor: User | None) -> Parcel:
    lines = lock_shipment_lines(shipment)
    unpacked = _unpacked_units(shipment)
    if contents is None:
        contents = {pk: units for pk, units in unpacked.items() if units}
    if not contents:
        raise InvalidRequest("Nothing picked is waiting to be packed: pick the lines first.")
    for pk, units in contents.items():
        line = lines.get(pk)
        if line is None:
            raise NotFound(f"Line {pk} is not on this shipment.", details={"line": pk})
        if line.status == SL.SHIPPED:
            raise AlreadyShipped(f"{line.order_line.sku.code} already shipped.")
        if line.status != SL.PICKED:
            raise InvalidRequest(
                f"Pick {line.order_line.sku.code} before packing it.", details={"line": pk}
            )
        if not 0 < units <= unpacked[pk]:
            raise InvalidRequest(
                f"{unpacked[pk]} of {line.order_line.sku.code} are still to pack.",
                details={"line": pk, "to_pack": unpacked[pk], "requested": units},
            )
    parcel = Parcel.objects.create(shipment=shipment, actor=_user(actor))
    ParcelLine.objects.bulk_create(
        [
            ParcelLine(parcel=parcel, shipment_line_id=pk, quantity=units)
            for pk, units in contents.items()
        ]
    )
    return parcel


def _send(
    order: Order, shipment: Shipment, parcel: Parcel, tracking: Tracking, *, actor: User | None
) -> None:
    """The parcel leaves: its units are taken off the location's stock (exactly once), the
    first parcel of the order captures the payment, and the customer is told."""
    taken = Parcel.objects.filter(
        carrier__iexact=tracking.carrier, tracking_number=tracking.number
    ).exclude(pk=parcel.pk)
    if taken.exists():
        raise AlreadyShipped(
            f"{tracking.carrier} {tracking.number} is already on another parcel: report each "
            "parcel once, with its own tracking number.",
            details={"tracking_number": tracking.number},
        )
    first_to_leave = not Parcel.objects.filter(
        shipment__order=order, status__in=[P.SHIPPED, P.DELIVERED]
    ).exists()
    contents = list(parcel.lines.select_related("shipment_line__order_line"))
    units: dict[int, int] = defaultdict(int)
    for item in contents:
        units[item.shipment_line.order_line.sku_id] += item.quantity
    inventory.consume_reserved(
        reference=shipment.reservation_reference,
        lines=[StockLine(sku, shipment.location_id, q) for sku, q in units.items()],
        actor=_user(actor),
        reason=f"Shipped by {tracking.carrier} {tracking.number}",
    )
    parcel.status, parcel.shipped_at = P.SHIPPED, timezone.now()
    parcel.carrier, parcel.tracking_number, parcel.tracking_url = (
        tracking.carrier,
        tracking.number,
        tracking.url,
    )
    parcel.actor = _user(actor)
    parcel.save()
    _mark_sent({item.shipment_line for item in contents})
    if first_to_leave:
        money.capture(order)
    notifications.parcel_shipped(parcel, order=order)


def _mark_sent(lines: set[ShipmentLine]) -> None:
    """Lines whose every unit is in a parcel that left are shipped."""
    sent = dict(
        ParcelLine.objects.filter(
            shipment_line__in=lines, parcel__status__in=[P.SHIPPED, P.DELIVERED]
        )
        .values("shipment_line")
        .annotate(units=Sum("quantity"))
        .values_list("shipment_line", "units")
    )
    done = [line for line in lines if sent.get(line.pk, 0) >= line.quantity]
    for line in done:
        line.status = SL.SHIPPED
    ShipmentLine.objects.bulk_update(done, ["status"])


def _release(shipment: Shipment, lines: Iterable[ShipmentLine]) -> None:
    inventory.release_reserved(
        reference=shipment.reservation_reference,
        lines=[
            StockLine(line.order_line.sku_id, shipment.location_id, line.quantity) for line in lines
        ],
    )


def _move(
    order: Order,
    shipment: Shipment,
    lines: list[ShipmentLine],
    location: Location,
    *,
    actor: User | None,
) -> tuple[Shipment, list[ShipmentLine]]:
    """Lines leave their shipment for ``location`` (reserved there or refused with nothing
    changed: the caller's transaction rolls back)."""
    if not lines:
        raise InvalidRequest("Nothing of this shipment is left to send.")
    if not location.is_active:
        raise InvalidRequest(f"{location.name} is closed.")
    _ensure_unpacked(lines)
    _release(shipment, lines)
    for line in lines:
        line.status = SL.MOVED
    ShipmentLine.objects.bulk_update(lines, ["status"])
    target = _shipment_at(order, location)
    moved = _add_lines(target, [(line.order_line, line.quantity) for line in lines])
    note_on_timeline(
        order,
        actor=actor,
        note=f"{', '.join(line.order_line.sku.code for line in lines)} moved from "
        f"{shipment.location.code} to {location.code}",
    )
    _settle_shipment(shipment)
    return target, moved


def _shipment_at(order: Order, location: Location) -> Shipment:
    """The order's shipment at ``location`` that has not started packing, or a new one."""
    open_one = lock_open_shipment_at(order, location)
    if open_one is not None:
        open_one.order = order
        return open_one
    return Shipment.objects.create(order=order, location=location)


def _add_lines(shipment: Shipment, items: list[tuple[OrderLine, int]]) -> list[ShipmentLine]:
    """New lines on the shipment, their units reserved at its location (or InsufficientStock)."""
    inventory.reserve(
        lines=[StockLine(line.sku_id, shipment.location_id, q) for line, q in items],
        kind=Reservation.Kind.ORDER,
        reference=shipment.reservation_reference,
    )
    added = ShipmentLine.objects.bulk_create(
        [ShipmentLine(shipment=shipment, order_line=line, quantity=q) for line, q in items]
    )
    if shipment.status != Shipment.Status.ALLOCATED:
        shipment.status = Shipment.Status.ALLOCATED
        shipment.save(update_fields=["status", "updated_at"])
    return added


def _reallocate(order: Order, line: ShipmentLine, *, actor: User | None) -> ShipmentLine | None:
    """Move a short line whole to another location that can cover it, or None."""
    order_line = line.order_line
    tried = set(
        ShipmentLine.objects.filter(
            order_line=order_line, short_reported_at__isnull=False
        ).values_list("shipment__location_id", flat=True)
    )
    address = order.ship_to or {}
    for _ in range(REATTEMPTS):
        location_id = location_for_whole(
            {order_line.sku_id: line.quantity},
            latitude=address.get("latitude"),
            longitude=address.get("longitude"),
            exclude=tried,
        )
        if location_id is None:
            return None
        try:
            with transaction.atomic():
                target = _shipment_at(order, Location.objects.get(pk=location_id))
                (moved,) = _add_lines(target, [(order_line, line.quantity)])
                return moved
        except InsufficientStock:
            tried.add(location_id)  # taken meanwhile by another order: the next best
    return None


def _cancel_units(order: Order, line: ShipmentLine, *, actor: User | None) -> None:
    """No location can ship the line: its units are cancelled on the order line, and its share
    of what was paid (money and points) goes back."""
    order_line = lock_order_line(line.order_line_id)
    units = line.quantity
    last = order_line.cancelled_quantity + units == order_line.quantity
    refund = (
        order_line.paid - order_line.cancelled_refund
        if last
        else (order_line.paid * units / order_line.quantity).quantize(CENT, ROUND_HALF_UP)
    )
    points = _points_share(order, order_line, units)
    order_line.cancelled_quantity += units
    order_line.cancelled_refund += refund
    order_line.save(update_fields=["cancelled_quantity", "cancelled_refund"])
    money.give_back(order, refund)
    if points:
        loyalty.release_redemption(
            redemption_key=f"order:{order.number}:redeem", points=points, part=f"line:{line.pk}"
        )
    note_on_timeline(
        order,
        actor=actor,
        note=f"{units} x {order_line.sku.code} cancelled: no location can ship it",
    )
    notifications.line_cancelled(order, order_line, units=units, refund=refund, points=points)


def _points_share(order: Order, order_line: OrderLine, units: int) -> int:
    """The points redeemed on the order that paid for these units of the line."""
    if not order.points_redeemed or not order.points_discount:
        return 0
    share = order_line.discount * units / order_line.quantity / order.points_discount
    return int((order.points_redeemed * share).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- Where the shipment and the order stand -----------------------------------------------------


def _settle(order: Order, shipment: Shipment, *, actor: User | None) -> None:
    _settle_shipment(shipment)
    _settle_order(order, actor=actor)


def _settle_shipment(shipment: Shipment) -> None:
    """The shipment's status from its lines and parcels."""
    statuses = [s for s in shipment.lines.values_list("status", flat=True) if s in LIVE]
    parcels = set(shipment.parcels.values_list("status", flat=True))
    if not statuses:
        status = Shipment.Status.CANCELLED
    elif all(s == SL.SHIPPED for s in statuses):
        status = Shipment.Status.DELIVERED if parcels == {P.DELIVERED} else Shipment.Status.SHIPPED
    elif all(s != SL.OPEN for s in statuses):
        waiting = any(_unpacked_units(shipment).values())
        status = Shipment.Status.PICKED if waiting else Shipment.Status.PACKED
    else:
        status = Shipment.Status.ALLOCATED
    if status != shipment.status:
        shipment.status = status
        shipment.save(update_fields=["status", "updated_at"])


# The delivery order's path: each status it may reach from the one before.
_PATH: list[str] = [S.ALLOCATED, S.PARTLY_SHIPPED, S.SHIPPED, S.DELIVERED]


def _settle_order(order: Order, *, actor: User | None) -> None:
    """The order follows its lines and parcels: cancelled when no line is left to ship,
    partly shipped, shipped, then delivered (and its points earned) when every parcel is."""
    statuses = [
        s
        for s in ShipmentLine.objects.filter(shipment__order=order).values_list("status", flat=True)
        if s in LIVE
    ]
    if not statuses:
        transition(order, S.CANCELLED, actor=actor, note="Nothing to ship")
        _give_back_the_rest(order)
        return
    parcels = set(Parcel.objects.filter(shipment__order=order).values_list("status", flat=True))
    left = parcels - {P.PACKED}
    if order.status not in _PATH or not left:
        return  # nothing has left yet
    target = S.PARTLY_SHIPPED
    if all(s == SL.SHIPPED for s in statuses):
        target = S.DELIVERED if left == {P.DELIVERED} else S.SHIPPED
    for step in _PATH[_PATH.index(order.status) + 1 : _PATH.index(target) + 1]:
        if step == S.PARTLY_SHIPPED and target != S.PARTLY_SHIPPED:
            continue  # all of it left at once: straight to shipped
        transition(order, step, actor=actor)
        if step == S.DELIVERED:
            earn_points(order)


def _give_back_the_rest(order: Order) -> None:
    """Every line was cancelled: what rounding left of the points, and any authorisation
    still held, go back too."""
    if order.points_redeemed:
        loyalty.release_redemption(redemption_key=f"order:{order.number}:redeem")
    money.void(order)


def _user(actor: User | None) -> User | None:
    return actor if hasattr(actor, "get_username") else None
