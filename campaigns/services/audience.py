"""Audience files for advertising platforms (customer-match lists): a segment's members as
SHA-256 hashes of their normalised e-mail (trimmed, lower-case) and phone (E.164, with the
"+"), one customer per row, to target them or to leave them out.

Only what the customer agreed to leaves: the e-mail hash needs their current consent to
(e-mail, advertising), the phone hash to (SMS, advertising); a member with neither is left
out. Exporting takes ``campaigns.export_audience`` and every export is recorded
(``AudienceExport``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import BooleanField, Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns.models import AudienceExport, Segment
from customers.models import Consent, ConsentPurpose, ContactChannel, Customer
from customers.normalise import normalise_phone
from omni.core.errors import DomainError, InvalidInput, PermissionRefused

EXPORT_AUDIENCE = "campaigns.export_audience"
HEADER = "email_sha256,phone_sha256\r\n"
# Read per member (the consent flags are annotations of ``audience``).
ROW = ("email", "email_ok", "phone", "phone_ok")
# Which consent lets which identifier leave (the channel the identifier reaches them on).
EMAIL_CONSENT = (ContactChannel.EMAIL, ConsentPurpose.ADVERTISING)
PHONE_CONSENT = (ContactChannel.SMS, ConsentPurpose.ADVERTISING)


@dataclass(frozen=True)
class AudienceFile:
    record: AudienceExport
    lines: Iterator[str]  # the CSV, header first, read from the database as it is written

    @property
    def filename(self) -> str:
        slug = "".join(c if c.isalnum() else "-" for c in self.record.segment.name.lower())
        return f"audience-{slug.strip('-')}-{self.record.use}-{self.record.exported_at:%Y%m%d}.csv"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalised_email(email: str) -> str:
    return email.strip().lower()


def e164(phone: str) -> str | None:
    try:
        return normalise_phone(phone) if phone.strip() else None
    except DomainError:
        return None


def _granted(channel: str, purpose: str) -> Coalesce:
    latest = (
        Consent.objects.filter(customer=OuterRef("pk"), channel=channel, purpose=purpose)
        .order_by("-recorded_at", "-id")
        .values("granted")[:1]
    )
    return Coalesce(Subquery(latest), Value(False), output_field=BooleanField())


def audience(segment: Segment) -> QuerySet[Customer]:
    """The segment's members (as of its last refresh), each with whether their e-mail and
    their phone may leave, only those with at least one."""
    return (
        Customer.objects.filter(erased_at=None, segment_memberships__segment=segment)
        .annotate(email_ok=_granted(*EMAIL_CONSENT), phone_ok=_granted(*PHONE_CONSENT))
        .filter(Q(email_ok=True, email__gt="") | Q(phone_ok=True, phone__gt=""))
        .order_by("pk")
    )


def _lines(people: QuerySet[Customer]) -> Iterator[str]:
    yield HEADER
    for email, email_ok, phone, phone_ok in people.values_list(*ROW).iterator(chunk_size=5000):
        email_hash = sha256(normalised_email(email)) if email_ok and email.strip() else ""
        number = e164(phone) if phone_ok else None
        phone_hash = sha256(number) if number else ""
        if email_hash or phone_hash:
            yield f"{email_hash},{phone_hash}\r\n"


@transaction.atomic
def export_audience(
    *, segment: Segment, use: str, actor: User, now: datetime | None = None
) -> AudienceFile:
    """Record the export and return its file, to target (``use="target"``) or exclude
    (``"exclusion"``) the members on an advertising platform."""
    if not actor.has_perm(EXPORT_AUDIENCE):
        raise PermissionRefused("Exporting an audience needs the 'export audience' permission.")
    if use not in AudienceExport.Use.values:
        raise InvalidInput(f"Unknown use {use!r}: target or exclusion.")
    people = audience(segment)
    counts = people.aggregate(
        rows=Count("pk"),
        emails=Count("pk", filter=Q(email_ok=True, email__gt="")),
        phones=Count("pk", filter=Q(phone_ok=True, phone__gt="")),
    )
    members = segment.memberships.filter(customer__erased_at=None).count()
    record = AudienceExport.objects.create(
        segment=segment,
        use=use,
        actor=actor,
        exported_at=now or timezone.now(),
        row_count=counts["rows"],
        email_count=counts["emails"],
        phone_count=counts["phones"],
        left_out=members - counts["rows"],
    )
    return AudienceFile(record=record, lines=_lines(people))
