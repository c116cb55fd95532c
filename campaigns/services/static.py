"""Static segments from a CSV file: one customer per row, found by e-mail, phone or loyalty
card number (any of the three in one file).

A file with any bad row (not an e-mail, phone or card; nobody found; an erased customer) is
refused whole, every problem listed by line, and nothing changes. A good file replaces the
segment's members (or adds to them), recording who joined and who left like a refresh.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from campaigns.locks import lock_segment
from campaigns.models import Segment, SegmentRefresh
from campaigns.services.refresh import apply_target, create_target
from customers.models import Customer, Identity
from customers.normalise import normalise_email, normalise_phone
from omni.core.errors import DomainError, InvalidInput, InvalidRequest

CARD = re.compile(r"^\d{16}$")
HEADERS = {"email", "e-mail", "phone", "card", "loyalty card", "customer", "identifier"}
MAX_PROBLEMS_SHOWN = 50
LOOKUP_BATCH = 2000


class MemberFileInvalid(InvalidInput):
    """The file cannot be used as it is; ``errors`` says what is wrong, line by line."""

    def __init__(self, errors: list[str]):
        shown = errors[:MAX_PROBLEMS_SHOWN]
        if len(errors) > MAX_PROBLEMS_SHOWN:
            shown.append(f"… and {len(errors) - MAX_PROBLEMS_SHOWN} more problems.")
        super().__init__(
            f"The file was not used: {len(errors)} problem(s).", details={"file": shown}
        )
        self.errors = shown


@dataclass(frozen=True)
class _Row:
    line: int
    kind: str  # email, phone or card
    value: str  # normalised


def _rows(stream: IO[bytes]) -> Iterator[tuple[int, str]]:
    raw = stream.read(settings.SEGMENT_UPLOAD_MAX_BYTES + 1)
    if len(raw) > settings.SEGMENT_UPLOAD_MAX_BYTES:
        raise MemberFileInvalid(
            [f"The file is larger than {settings.SEGMENT_UPLOAD_MAX_BYTES // 1_000_000} MB."]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MemberFileInvalid(["The file is not UTF-8 text (save it as CSV UTF-8)."]) from None
    for number, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        filled = [cell.strip() for cell in cells if cell.strip()]
        if filled:
            yield number, ",".join(cells).strip() if len(filled) > 1 else filled[0]


def parse_member_file(stream: IO[bytes]) -> list[_Row]:
    """Every row read as an e-mail, a phone or a card number; ``MemberFileInvalid`` listing
    every unreadable row. A first row naming the column (email, phone, card...) is skipped."""
    rows: list[_Row] = []
    errors: list[str] = []
    for number, cell in _rows(stream):
        if not rows and not errors and cell.lower() in HEADERS:
            continue
        if len(rows) + len(errors) >= settings.SEGMENT_UPLOAD_MAX_ROWS:
            raise MemberFileInvalid(
                [f"The file has more than {settings.SEGMENT_UPLOAD_MAX_ROWS} rows."]
            )
        try:
            rows.append(_Row(number, *_identify(cell)))
        except DomainError:
            errors.append(
                f"Line {number}: “{cell[:80]}” is not an e-mail address, a phone number or a "
                "16-digit loyalty card number."
            )
    if errors:
        raise MemberFileInvalid(errors)
    if not rows:
        raise MemberFileInvalid(["The file has no rows: one e-mail, phone or card per line."])
    return rows


def _identify(cell: str) -> tuple[str, str]:
    if "," in cell:
        raise InvalidInput("one value per line")
    if "@" in cell:
        return "email", normalise_email(cell)
    compact = re.sub(r"[\s-]", "", cell)
    if CARD.match(compact):
        return "card", compact
    return "phone", normalise_phone(cell)


def _owners(kind: str, values: list[str]) -> dict[str, tuple[int, bool]]:
    """value -> (customer id, erased) for one kind, in batches."""
    found: dict[str, tuple[int, bool]] = {}
    for first in range(0, len(values), LOOKUP_BATCH):
        batch = values[first : first + LOOKUP_BATCH]
        if kind == "card":
            # The card's loyalty account names its customer (loyalty.Card via the relation).
            rows = Customer.objects.filter(loyalty_account__cards__number__in=batch).values_list(
                "loyalty_account__cards__number", "pk", "erased_at"
            )
        else:
            rows = Customer.objects.filter(
                identities__kind=Identity.Kind.EMAIL if kind == "email" else Identity.Kind.PHONE,
                identities__value__in=batch,
            ).values_list("identities__value", "pk", "erased_at")
        found.update({value: (pk, erased is not None) for value, pk, erased in rows})
    return found


def resolve_members(rows: list[_Row]) -> list[int]:
    """The customers the rows name (each once); ``MemberFileInvalid`` naming every line that
    finds nobody or an erased customer."""
    owners: dict[str, dict[str, tuple[int, bool]]] = {
        kind: _owners(kind, sorted({row.value for row in rows if row.kind == kind}))
        for kind in ("email", "phone", "card")
    }
    errors: list[str] = []
    ids: dict[int, None] = {}
    for row in rows:
        owner = owners[row.kind].get(row.value)
        if owner is None:
            errors.append(f"Line {row.line}: no customer has the {_label(row.kind)} {row.value}.")
        elif owner[1]:
            errors.append(f"Line {row.line}: the customer with this {_label(row.kind)} was erased.")
        else:
            ids[owner[0]] = None
    if errors:
        raise MemberFileInvalid(errors)
    return list(ids)


def _label(kind: str) -> str:
    return {"email": "e-mail", "phone": "phone", "card": "loyalty card"}[kind]


@transaction.atomic
def import_static_members(
    *,
    segment: Segment,
    stream: IO[bytes],
    actor: User | None,
    replace: bool = True,
    now: datetime | None = None,
) -> SegmentRefresh:
    """Make the uploaded customers the static segment's members (``replace``), or add them
    to it; joins and leaves are recorded. Any bad row: nothing changes."""
    if segment.is_dynamic:
        raise InvalidRequest("Only a static segment takes an uploaded list; this one has rules.")
    ids = resolve_members(parse_member_file(stream))
    now = now or timezone.now()
    locked = lock_segment(segment.pk)

    def fill(cursor: CursorWrapper, table: str) -> None:
        create_target(cursor, table)
        cursor.executemany(f"INSERT INTO {table} (id) VALUES (%s)", [(pk,) for pk in ids])
        if not replace:
            members = connection.ops.quote_name(locked.memberships.model._meta.db_table)
            cursor.execute(
                f"INSERT INTO {table} (id) SELECT m.customer_id FROM {members} m "
                f"WHERE m.segment_id = %s AND NOT EXISTS "
                f"(SELECT 1 FROM {table} t WHERE t.id = m.customer_id)",
                [locked.pk],
            )

    refresh = apply_target(
        locked, fill, trigger=SegmentRefresh.Trigger.UPLOAD, actor=actor, now=now
    )
    segment.member_count, segment.refreshed_at = locked.member_count, locked.refreshed_at
    return refresh
