"""Links a message carries back to us: one-click unsubscribe, the open pixel and tracked links.

Each is a token signed with ``SECRET_KEY`` (``django.core.signing``, one salt per purpose, so a
token made for one use is refused by the others) naming public ids only, never a database id.
A forged or altered token reads as nothing: the caller answers 400 or 404 and writes nothing.

* ``unsubscribe_url(customer, channel, purpose)``: the page that withdraws that consent (GET
  shows a confirmation, POST — RFC 8058 one-click — records it). Replaying it changes nothing.
* ``open_pixel_url(notification)`` and ``tracked_link(notification, url)``: for the campaign
  renderer. Opening and clicking are recorded as touchpoints (``email_open``, ``email_click``,
  with the campaign code from the message's ``source``) and on the row (``opened_at``,
  ``clicked_at``, first time only). The target of a tracked link is signed with it, so the
  redirect cannot be pointed anywhere else. Repeats within ``TRACKING_WINDOW`` (a mail
  scanner fetching every link, a reader opening ten times) give one touchpoint.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode, urlsplit
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from customers.models import (
    Consent,
    ConsentPurpose,
    ContactChannel,
    Customer,
    Notification,
    Touchpoint,
)
from customers.selectors import profile_named_by
from customers.services import ConsentDecision, record_consents
from omni.core.channels import Channel
from omni.core.errors import InvalidInput

UNSUBSCRIBE_SALT = "customers.notifications.unsubscribe"
OPEN_SALT = "customers.notifications.open"
CLICK_SALT = "customers.notifications.click"
TRACKING_WINDOW_SECONDS = 600
CAMPAIGN_SOURCE_PREFIX = "campaign:"
INVALID_LINK = "This link is not valid."


def _absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


# --- Unsubscribe ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Unsubscription:
    """What an unsubscribe link asks: stop ``purpose`` messages on ``channel`` to ``customer``."""

    customer: Customer
    channel: str
    purpose: str


def unsubscribe_token(customer: Customer, channel: str, purpose: str) -> str:
    payload = {"c": str(customer.public_id), "ch": channel, "p": purpose}
    return signing.dumps(payload, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(customer: Customer, channel: str, purpose: str) -> str:
    token = unsubscribe_token(customer, channel, purpose)
    return _absolute(reverse("notification-unsubscribe", args=[token]))


def read_unsubscribe_token(token: str) -> Unsubscription:
    """The request a token carries; ``InvalidInput`` when it is forged, altered or names
    nobody (a customer merged since is followed to the profile they became)."""
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        public_id, channel, purpose = str(payload["c"]), str(payload["ch"]), str(payload["p"])
        UUID(public_id)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise InvalidInput(INVALID_LINK) from None
    customer = profile_named_by(public_id)
    if (
        customer is None
        or channel not in ContactChannel.values
        or purpose not in ConsentPurpose.values
    ):
        raise InvalidInput(INVALID_LINK)
    return Unsubscription(customer=customer, channel=channel, purpose=purpose)


@transaction.atomic
def unsubscribe(*, token: str, ip_address: str | None = None, user_agent: str = "") -> bool:
    """Withdraw the consent the link names, recorded with its evidence and ``web`` as the
    source; returns whether anything changed (a replayed link, or a customer who already
    said no, adds no row). ``InvalidInput`` for a bad token, and nothing is written."""
    request = read_unsubscribe_token(token)
    if request.customer.erased_at is not None:
        return False  # nothing is sent to them anyway, and no new personal data is kept
    recorded: list[Consent] = record_consents(
        customer=request.customer,
        decisions=[ConsentDecision(request.channel, request.purpose, granted=False)],
        source_channel=Channel.WEB,
        ip_address=ip_address,
        user_agent=user_agent,
        only_changes=True,
    )
    return bool(recorded)


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058 headers: mail clients show an "Unsubscribe" button that POSTs."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


# --- Opens and clicks -----------------------------------------------------------------------


def _digest(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:32]


def _require_public_id(notification: Notification | UUID) -> str:
    if isinstance(notification, UUID):
        return notification.hex
    if notification.public_id is None:
        raise InvalidInput("This message predates tracking links.")
    return notification.public_id.hex


def open_pixel_url(notification: Notification | UUID) -> str:
    """A 1x1 image URL for the e-mail's HTML: fetching it records an open. ``notification``
    may be the public id the message will be recorded with (``notify(public_id=...)``), as
    its body is written before its row exists."""
    token = signing.dumps({"n": _require_public_id(notification)}, salt=OPEN_SALT)
    return _absolute(reverse("notification-open", args=[token]))


def tracked_link(notification: Notification | UUID, url: str) -> str:
    """``url`` (http or https) through our redirect, which records a click and sends the
    reader on. The target is signed with the token: changing it gives a 404. As for
    ``open_pixel_url``, ``notification`` may be the public id the message will have."""
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise InvalidInput(
            "Only http(s) links can be tracked.", details={"url": ["Enter a full http(s) URL."]}
        )
    token = signing.dumps(
        {"n": _require_public_id(notification), "h": _digest(url)}, salt=CLICK_SALT
    )
    return _absolute(reverse("notification-click", args=[token])) + "?" + urlencode({"u": url})


def _notification(token: str, salt: str) -> tuple[Notification, dict[str, str]] | None:
    try:
        payload = signing.loads(token, salt=salt)
        public_id = UUID(str(payload["n"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    found = Notification.objects.select_related("customer").filter(public_id=public_id).first()
    return (found, payload) if found is not None else None


def campaign_code(source: str) -> str:
    """The campaign a message's ``source`` names ("campaign:<code>"), else ""."""
    if source.startswith(CAMPAIGN_SOURCE_PREFIX):
        return source[len(CAMPAIGN_SOURCE_PREFIX) :][:64]
    return ""


def _record(notification: Notification, kind: str, now: datetime, url: str = "") -> None:
    """One touchpoint per message, kind (and link) and window: the event id repeats within a
    window, and the unique (channel, event id) drops the repeats without a read."""
    window = int(now.timestamp()) // TRACKING_WINDOW_SECONDS
    which = f":{_digest(url)[:8]}" if url else ""
    Touchpoint.objects.bulk_create(
        [
            Touchpoint(
                customer=notification.customer,
                kind=kind,
                channel=Channel.WEB,
                event_id=f"{kind[6:]}:{_require_public_id(notification)}{which}:{window}"[:64],
                occurred_at=now,
                url=url[:2048],
                campaign_code=campaign_code(notification.source),
                properties={"notification": str(notification.public_id), "via": "email"},
            )
        ],
        ignore_conflicts=True,
    )


def record_open(token: str) -> bool:
    """Record that a message was opened; False (nothing written) for a bad token."""
    found = _notification(token, OPEN_SALT)
    if found is None:
        return False
    notification, _ = found
    if notification.customer.erased_at is None:
        now = timezone.now()
        _record(notification, Touchpoint.Kind.EMAIL_OPEN, now)
        Notification.objects.filter(pk=notification.pk, opened_at=None).update(opened_at=now)
    return True


def record_click(token: str, url: str) -> str | None:
    """Record a click and return where to send the reader; None (nothing written) when the
    token is bad or the target is not the one it was signed for."""
    found = _notification(token, CLICK_SALT)
    if found is None:
        return None
    notification, payload = found
    if payload.get("h") != _digest(url) or urlsplit(url).scheme not in ("http", "https"):
        return None
    if notification.customer.erased_at is None:
        now = timezone.now()
        _record(notification, Touchpoint.Kind.EMAIL_CLICK, now, url)
        # A click is also an open (images are often blocked).
        Notification.objects.filter(pk=notification.pk, clicked_at=None).update(clicked_at=now)
        Notification.objects.filter(pk=notification.pk, opened_at=None).update(opened_at=now)
    return url
