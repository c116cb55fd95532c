"""Respect for the customer, decided in one place: whether a message may go now, must wait, or
must not go at all, for a whole batch of messages in a fixed number of queries.

The rules, in the order they are applied:

1. nothing goes to an erased customer (``erased``) or to a channel without an address
   (``no_address``) — every message, transactional or marketing; a message given a time
   (``not_before``) waits for it (``waiting``/``scheduled``);
2. **marketing only** (transactional messages — the customer's own order, pick-up code,
   points — are exempt from all of these, and their row says so in ``respect``):

   * the customer's current consent for the channel and purpose (``no_consent``);
   * the global suppression list of addresses (``suppressed``);
   * the frequency caps staff set (``FrequencyCap``: per channel, or all channels together,
     per period), counted over the customer's marketing rows that are sent, queued or waiting
     within the period, whatever campaign or app they came from (``capped``);
   * quiet hours (``MARKETING_QUIET_HOURS``) in the customer's time zone: the message waits
     until they end (``waiting``/``quiet_hours``); it is not dropped.

``judge`` runs when a message is recorded (``notify``) and again, under lock, when it is
delivered, so a rule that changed meanwhile (consent withdrawn, a cap lowered, an address
suppressed, a message released from waiting) holds at the moment the message leaves.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import F
from django.db.models.functions import Coalesce

from customers.models import (
    Consent,
    Customer,
    FrequencyCap,
    Identity,
    Notification,
    SuppressedAddress,
)
from customers.normalise import normalise_email, normalise_phone
from omni.core.errors import InvalidInput

Kind = Notification.Kind
Status = Notification.Status
Reason = Notification.SuppressionReason

MARKETING_RESPECT = "marketing: consent, suppression list, frequency caps and quiet hours apply"
TRANSACTIONAL_RESPECT = (
    "transactional: exempt from marketing consent, frequency caps, quiet hours and the "
    "suppression list (never sent to an erased customer or without an address)"
)
# Rows that count against a cap: what was sent, and what will be.
COUNTED_STATUSES = (Status.SENT, Status.QUEUED, Status.WAITING)


def respect_note(kind: str) -> str:
    return MARKETING_RESPECT if kind == Kind.MARKETING else TRANSACTIONAL_RESPECT


@dataclass(frozen=True)
class Candidate:
    """A message to judge: a row being recorded (``pk`` None) or one about to leave."""

    customer: Customer
    channel: str
    kind: str
    purpose: str
    pk: int | None = None
    not_before: datetime | None = None


@dataclass(frozen=True)
class Verdict:
    """``queued`` with the address to send to, ``waiting`` until ``send_after``, or
    ``suppressed``; ``reason`` says why it is not going now."""

    status: str
    reason: str = ""
    address: str = ""
    send_after: datetime | None = None


# --- Time zones and quiet hours -------------------------------------------------------------

# The edge registers how a store code gives a time zone (stores live in ``inventory``, which
# this app may not import): codes -> {code: time zone name}.
StoreTimeZones = Callable[[set[str]], dict[str, str]]
_store_time_zones: list[StoreTimeZones] = []


def register_store_time_zones(lookup: StoreTimeZones) -> None:
    """Tell the outbox how to find a store's time zone (one call for many codes)."""
    _store_time_zones[:] = [lookup]


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def time_zones(customers: Iterable[Customer]) -> dict[int, ZoneInfo]:
    """Each customer's time zone: their own, else their preferred store's, else
    ``settings.TIME_ZONE``. At most one query (the stores), whatever the number."""
    customers = list(customers)
    default = ZoneInfo(settings.TIME_ZONE)
    codes = {c.preferred_store_code for c in customers if not c.time_zone}
    codes.discard("")
    stores: dict[str, str] = {}
    if codes and _store_time_zones:
        stores = _store_time_zones[0](codes)
    return {
        customer.pk: _zone(customer.time_zone)
        or _zone(stores.get(customer.preferred_store_code, ""))
        or default
        for customer in customers
    }


def quiet_hours() -> tuple[time, time] | None:
    """(start, end) of ``MARKETING_QUIET_HOURS``, or None when they are off."""
    value = settings.MARKETING_QUIET_HOURS
    if value == "off":
        return None
    start, end = value.split("-")
    if start == end:
        return None
    return time.fromisoformat(start), time.fromisoformat(end)


def _wall_time(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``at`` on ``day`` on the clocks of ``zone``, in UTC. Built from the local date, not by
    adding hours, so a night on which the clocks change ends at the right hour; a time the
    clocks skip (spring forward) is read as just after the gap."""
    return datetime.combine(day, at).replace(tzinfo=zone).astimezone(UTC)


def quiet_until(now: datetime, zone: ZoneInfo) -> datetime | None:
    """When the quiet hours that hold at ``now`` in ``zone`` end, or None if they do not."""
    hours = quiet_hours()
    if hours is None:
        return None
    start, end = hours
    local = now.astimezone(zone)
    at = local.time()
    if start < end:  # within one day, e.g. 12:00-14:00
        quiet, end_day = start <= at < end, local.date()
    else:  # over midnight, e.g. 21:00-08:00
        quiet = at >= start or at < end
        end_day = local.date() + timedelta(days=1) if at >= start else local.date()
    return _wall_time(end_day, end, zone) if quiet else None


# --- The suppression list -------------------------------------------------------------------


def suppression_address(value: str) -> str:
    """The form an address takes on the suppression list: an e-mail lower-cased, a phone in
    E.164. ``InvalidInput`` if it is neither."""
    if "@" in (value or ""):
        return normalise_email(value, field="address")
    return normalise_phone(value, field="address")


def suppress_address(*, address: str, reason: str, note: str = "") -> SuppressedAddress:
    """Put an address on the suppression list (once; a second call keeps the first row)."""
    if reason not in SuppressedAddress.Reason.values:
        raise InvalidInput(
            "Unknown suppression reason.",
            details={"reason": [f"Expected one of {', '.join(SuppressedAddress.Reason.values)}."]},
        )
    entry, _ = SuppressedAddress.objects.get_or_create(
        address=suppression_address(address), defaults={"reason": reason, "note": note[:200]}
    )
    return entry


def _listed_form(address: str) -> str:
    # Customers' e-mails and phones are stored normalised; only the case may differ.
    return address.lower() if "@" in address else address


# --- Reading what the rules need, for the whole batch ---------------------------------------


def _devices(customer_ids: set[int]) -> dict[int, str]:
    """The app install each customer used last (push goes there)."""
    if not customer_ids:
        return {}
    latest: dict[int, str] = {}
    for customer_id, value in (
        Identity.objects.filter(customer_id__in=customer_ids, kind=Identity.Kind.DEVICE)
        .order_by("customer_id", "-created_at", "-pk")
        .values_list("customer_id", "value")
    ):
        latest.setdefault(customer_id, value)
    return latest


def _consents(candidates: Sequence[Candidate]) -> dict[tuple[int, str, str], bool]:
    """The latest decision per (customer, channel, purpose) asked about; no row, no key."""
    if not candidates:
        return {}
    latest: dict[tuple[int, str, str], bool] = {}
    for customer_id, channel, purpose, granted in (
        Consent.objects.filter(
            customer_id__in={c.customer.pk for c in candidates},
            channel__in={c.channel for c in candidates},
            purpose__in={c.purpose for c in candidates},
        )
        .order_by("-recorded_at", "-id")
        .values_list("customer_id", "channel", "purpose", "granted")
    ):
        latest.setdefault((customer_id, channel, purpose), granted)
    return latest


@dataclass(frozen=True)
class _Counted:
    pk: int
    channel: str
    status: str
    at: datetime


def _recent_marketing(
    customer_ids: set[int], caps: Sequence[FrequencyCap], now: datetime
) -> defaultdict[int, list[_Counted]]:
    """The customers' marketing rows that can count against a cap: sent, queued or waiting,
    timed (sent, due, else recorded) within the longest period of ``now``. One query."""
    rows: defaultdict[int, list[_Counted]] = defaultdict(list)
    if not customer_ids or not caps:
        return rows
    window = timedelta(days=max(cap.period_days for cap in caps))
    for pk, customer_id, channel, status, at in (
        Notification.objects.filter(
            customer_id__in=customer_ids, kind=Kind.MARKETING, status__in=COUNTED_STATUSES
        )
        .annotate(at=Coalesce(F("sent_at"), F("send_after"), F("created_at")))
        .filter(at__gte=now - window, at__lte=now + window)
        .values_list("pk", "customer_id", "channel", "status", "at")
    ):
        rows[customer_id].append(_Counted(pk, channel, status, at))
    return rows


def _over_a_cap(
    candidate: Candidate,
    caps: Sequence[FrequencyCap],
    recent: list[_Counted],
    held_back: set[int],
    now: datetime,
) -> bool:
    """Whether one more message to this customer on this channel breaks a cap. A row being
    re-checked counts what was sent, and what is pending ahead of it (a lower id), so of two
    messages over a cap the older one goes."""
    for cap in caps:
        if cap.channel and cap.channel != candidate.channel:
            continue
        period = timedelta(days=cap.period_days)
        count = sum(
            1
            for row in recent
            if row.pk != candidate.pk
            and row.pk not in held_back
            and (not cap.channel or row.channel == cap.channel)
            and abs(row.at - now) <= period
            and (candidate.pk is None or row.status == Status.SENT or row.pk < candidate.pk)
        )
        if count >= cap.max_messages:
            return True
    return False


# --- Judging --------------------------------------------------------------------------------


def _address(candidate: Candidate, devices: dict[int, str]) -> str:
    return _address_of(candidate.customer, candidate.channel, devices)


def _address_of(customer: Customer, channel: str, devices: dict[int, str]) -> str:
    if channel == Notification.Channel.EMAIL:
        return customer.email
    if channel == Notification.Channel.SMS:
        return customer.phone
    return devices.get(customer.pk, "")


def address_for(customer: Customer, channel: str) -> str:
    """Where ``channel`` reaches the customer (push: the app install they used last), or ""
    when it cannot: for one customer, e.g. a preview; ``judge`` reads a batch's at once."""
    devices = _devices({customer.pk}) if channel == Notification.Channel.PUSH else {}
    return _address_of(customer, channel, devices)


def judge(candidates: Sequence[Candidate], *, now: datetime) -> list[Verdict]:
    """The verdict for each candidate, in order. A fixed number of queries for the whole batch
    (devices, consents, suppression list, caps, counted rows, stores' time zones), none per
    message. Candidates judged earlier in the batch and held back do not count against the
    caps of later ones."""
    live = [c for c in candidates if c.customer.erased_at is None]
    devices = _devices({c.customer.pk for c in live if c.channel == Notification.Channel.PUSH})
    addresses = {id(c): _address(c, devices) for c in live}
    marketing = [c for c in live if c.kind == Kind.MARKETING and addresses[id(c)]]
    consents = _consents(marketing)
    listed = (
        set(
            SuppressedAddress.objects.filter(
                address__in={_listed_form(addresses[id(c)]) for c in marketing}
            ).values_list("address", flat=True)
        )
        if marketing
        else set()
    )
    caps = list(FrequencyCap.objects.all()) if marketing else []
    recent = _recent_marketing({c.customer.pk for c in marketing}, caps, now)
    zones = time_zones({c.customer.pk: c.customer for c in marketing}.values())

    verdicts: list[Verdict] = []
    held_back: set[int] = set()
    for position, candidate in enumerate(candidates, start=1):
        verdict = _judge_one(
            candidate,
            address=addresses.get(id(candidate), ""),
            consents=consents,
            listed=listed,
            caps=caps,
            recent=recent[candidate.customer.pk],
            held_back=held_back,
            zones=zones,
            now=now,
        )
        if candidate.pk is not None and verdict.status == Status.SUPPRESSED:
            held_back.add(candidate.pk)
        elif (
            candidate.pk is None
            and candidate.kind == Kind.MARKETING
            and verdict.status in COUNTED_STATUSES
        ):
            # A message recorded in the same batch counts for the next ones (it has no id
            # yet: a negative one stands in).
            recent[candidate.customer.pk].append(
                _Counted(-position, candidate.channel, verdict.status, verdict.send_after or now)
            )
        verdicts.append(verdict)
    return verdicts


def _judge_one(
    candidate: Candidate,
    *,
    address: str,
    consents: dict[tuple[int, str, str], bool],
    listed: set[str],
    caps: Sequence[FrequencyCap],
    recent: list[_Counted],
    held_back: set[int],
    zones: dict[int, ZoneInfo],
    now: datetime,
) -> Verdict:
    customer = candidate.customer
    if customer.erased_at is not None:
        return Verdict(Status.SUPPRESSED, Reason.ERASED)
    if not address:
        return Verdict(Status.SUPPRESSED, Reason.NO_ADDRESS)
    marketing = candidate.kind == Kind.MARKETING
    if marketing and not consents.get((customer.pk, candidate.channel, candidate.purpose), False):
        return Verdict(Status.SUPPRESSED, Reason.NO_CONSENT)
    if marketing and _listed_form(address) in listed:
        return Verdict(Status.SUPPRESSED, Reason.SUPPRESSED)
    if candidate.not_before is not None and candidate.not_before > now:
        # Caps and quiet hours are judged when its time comes, not now.
        return Verdict(Status.WAITING, Reason.SCHEDULED, send_after=candidate.not_before)
    if not marketing:
        return Verdict(Status.QUEUED, address=address)
    if _over_a_cap(candidate, caps, recent, held_back, now):
        return Verdict(Status.SUPPRESSED, Reason.CAPPED)
    until = quiet_until(now, zones[customer.pk])
    if until is not None:
        return Verdict(Status.WAITING, Reason.QUIET_HOURS, send_after=until)
    return Verdict(Status.QUEUED, address=address)
