"""Cycle counts: what was counted becomes the truth, typed in by a clerk or read from a
``sku,counted`` CSV file (every bad row named by its number, nothing recorded if any is bad)."""

import csv
import io
import re
from collections.abc import Iterator
from typing import IO

from django.contrib.auth.models import User
from django.db import transaction

from inventory.locks import lock_levels
from inventory.models import CycleCount, CycleCountLine, Location, Sku, StockMovement
from inventory.services.levels import (
    add_to_levels,
    ensure_levels,
    require_active_skus,
)
from omni.core.errors import InvalidInput, InvalidRequest

REQUIRED_COLUMNS = ("sku", "counted")
MAX_FILE_BYTES = 10 * 1024 * 1024
WHOLE_NUMBER = re.compile(r"[+-]?\d+")


@transaction.atomic
def record_cycle_count(
    *,
    location: Location,
    counts: dict[Sku, int],
    actor: User | None = None,
    source: str = "clerk",
    note: str = "",
) -> CycleCount:
    """What was counted becomes the truth: each difference is a cycle-count ledger row."""
    if not counts:
        raise InvalidRequest("A count needs at least one line.")
    if any(counted < 0 for counted in counts.values()):
        raise InvalidRequest("A counted quantity cannot be negative.")
    require_active_skus(counts)
    ids = ensure_levels((sku.pk, location.pk) for sku in counts)
    levels = lock_levels(ids.values())
    count = CycleCount.objects.create(location=location, counted_by=actor, source=source, note=note)
    lines = [
        CycleCountLine(
            count=count,
            sku=sku,
            counted=counted,
            expected=levels[ids[(sku.pk, location.pk)]].on_hand,
        )
        for sku, counted in counts.items()
    ]
    CycleCountLine.objects.bulk_create(lines)
    corrections = [
        StockMovement(
            level_id=ids[(line.sku.pk, location.pk)],
            kind=StockMovement.Kind.CYCLE_COUNT,
            quantity=line.difference,
            reference=f"count:{count.public_id}",
            actor=actor,
            source=source,
        )
        for line in lines
        if line.difference
    ]
    StockMovement.objects.bulk_create(corrections)
    add_to_levels("on_hand", {m.level_id: m.quantity for m in corrections})
    return count


class CountFileInvalid(InvalidInput):
    """The file cannot be recorded as it is; ``errors`` says what is wrong, row by row."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        problems = "problem" if len(errors) == 1 else "problems"
        super().__init__(
            f"The count file has {len(errors)} {problems}; nothing was recorded.",
            details={"errors": errors},
        )


def parse_count_csv(stream: IO[bytes]) -> dict[Sku, int]:
    """The counted quantity of each SKU in a CSV file with a ``sku,counted`` header row.

    Rows are numbered as a spreadsheet shows them (the header is row 1). Unknown SKU codes,
    counts that are not whole numbers or are negative, and SKUs counted twice are all reported
    at once in ``CountFileInvalid``; extra columns and blank rows are ignored. Commas,
    semicolons or tabs may separate the columns.
    """
    raw = stream.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise CountFileInvalid([f"The file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB."])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CountFileInvalid(["The file is not UTF-8 text; save it as “CSV UTF-8”."]) from None

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows = enumerate(reader, start=1)
    columns = _header(rows)
    errors: list[tuple[int, str]] = []
    counted: dict[str, int] = {}
    row_of: dict[str, int] = {}
    for number, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        code, quantity = (_cell(row, columns[name]) for name in REQUIRED_COLUMNS)
        problem = _row_problem(code, quantity, row_of)
        if problem:
            errors.append((number, problem))
            continue
        counted[code] = int(quantity)
        row_of[code] = number

    skus = {sku.code: sku for sku in Sku.objects.filter(code__in=counted)}
    errors += [
        (row_of[code], f"unknown SKU code “{code}”.") for code in counted if code not in skus
    ]
    if not counted and not errors:
        raise CountFileInvalid(["The file has no counted rows below its header."])
    if errors:
        raise CountFileInvalid([f"Row {number}: {problem}" for number, problem in sorted(errors)])
    return {skus[code]: quantity for code, quantity in counted.items()}


def record_count_file(
    *, location: Location, stream: IO[bytes], actor: User | None = None, note: str = ""
) -> CycleCount:
    """Record a counted CSV file at a location; any bad row means nothing is recorded."""
    counts = parse_count_csv(stream)
    return record_cycle_count(
        location=location, counts=counts, actor=actor, source="csv", note=note
    )


def _delimiter(text: str) -> str:
    # Spreadsheets in many European locales save "CSV" with semicolons.
    first_line = text.lstrip().split("\n", 1)[0]
    return max(",;\t", key=first_line.count)


def _header(rows: Iterator[tuple[int, list[str]]]) -> dict[str, int]:
    """Column positions from the header, the first non-blank row; refuses a file without one."""
    for number, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        names = [cell.strip().lower() for cell in row]
        missing = [name for name in REQUIRED_COLUMNS if name not in names]
        if missing:
            raise CountFileInvalid(
                [
                    f"Row {number}: the header row must name the columns “sku” and “counted” "
                    f"(missing: {', '.join(missing)})."
                ]
            )
        return {name: names.index(name) for name in REQUIRED_COLUMNS}
    raise CountFileInvalid(["The file is empty; it needs a “sku,counted” header row."])


def _cell(row: list[str], index: int) -> str:
    return row[index].strip() if index < len(row) else ""


def _row_problem(code: str, quantity: str, row_of: dict[str, int]) -> str | None:
    if not code:
        return "no SKU code."
    if not WHOLE_NUMBER.fullmatch(quantity):
        return f"the count “{quantity}” for {code} is not a whole number."
    if int(quantity) < 0:
        return f"the count {int(quantity)} for {code} is negative."
    if code in row_of:
        return f"SKU {code} was already counted on row {row_of[code]}."
    return None
