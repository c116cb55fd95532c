"""Signed webhooks: a sender with no account (a carrier) proves that a call is theirs, and
recent, with an HMAC of the raw body under a secret shared with it.

    X-Omni-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">

The timestamp is signed with the body, and a call signed more than ``TOLERANCE`` (5 minutes)
away from now is refused, so a captured call cannot be replayed later; within the window the
receiving service keeps each event once (its own id). Several ``v1=`` values may be sent, e.g.
while the sender rotates its secret: one must match. Comparisons take constant time. Bodies are
bounded before they are read.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from rest_framework import status
from rest_framework.exceptions import APIException

if TYPE_CHECKING:
    from rest_framework.request import Request

SIGNATURE_HEADER = "X-Omni-Signature"
SCHEME = "v1"
TOLERANCE = timedelta(minutes=5)
MAX_HEADER_LENGTH = 1000  # a timestamp and a few signatures; anything longer is not ours


class SignatureRefused(APIException):
    """401 with the API's error shape. Not DRF's ``AuthenticationFailed``, which DRF turns into
    a 403 for views without an authentication class (a webhook has none)."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "authentication_failed"
    auth_header = f'Signature header="{SIGNATURE_HEADER}"'


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def signature(body: bytes, secret: str, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` (what a sender puts after ``v1=``)."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """A complete header value, for senders (and the README's example)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},{SCHEME}={signature(body, secret, timestamp)}"


def bounded_body(request: Request, max_bytes: int) -> bytes:
    """The raw body, refused (413) unread when its declared length is over ``max_bytes``."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes:
        raise PayloadTooLarge(f"The body may hold at most {max_bytes} bytes.")
    body: bytes = request.body
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"The body may hold at most {max_bytes} bytes.")
    return body


def verify_signature(
    *, body: bytes, header: str | None, secret: str, now: float | None = None
) -> None:
    """Refuse (401) a call whose header does not sign this body with this secret, or signs it
    more than ``TOLERANCE`` away from ``now``."""
    timestamp, signatures = _parsed(header)
    now = time.time() if now is None else now
    if abs(now - timestamp) > TOLERANCE.total_seconds():
        raise SignatureRefused(
            f"The signature's timestamp is more than {TOLERANCE.seconds // 60} minutes from now: "
            "sign each call when it is sent (a replayed call is refused)."
        )
    expected = signature(body, secret, timestamp)
    # Every candidate is compared, in constant time, whichever matches.
    matches = [hmac.compare_digest(expected.encode(), sent.encode()) for sent in signatures]
    if not any(matches):
        raise SignatureRefused(f"The {SIGNATURE_HEADER} does not sign this body.")


def _parsed(header: str | None) -> tuple[int, list[str]]:
    if not header or len(header) > MAX_HEADER_LENGTH:
        raise SignatureRefused(
            f"Sign the call: {SIGNATURE_HEADER}: t=<unix time>,{SCHEME}=<hex HMAC-SHA256 of "
            '"<t>.<body>">.'
        )
    timestamp = None
    signatures = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit() and timestamp is None:
            timestamp = int(value)
        elif name == SCHEME and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureRefused(
            f"{SIGNATURE_HEADER} needs a timestamp and a signature: t=<unix time>,{SCHEME}=<hex>."
        )
    return timestamp, signatures
