"""The shape every condition type has, the registry of types, and the small value checks they
share. A type is one small class: its field name, allowed operators, how it checks a value,
and how it compiles to a ``Q`` over ``customers.Customer`` (one SQL expression, never a loop
over customers)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.db.models import Model, Q

if TYPE_CHECKING:
    from campaigns.models import Segment

MAX_LIST_LENGTH = 500
MAX_DAYS = 3660  # ten years: a longer window is a mistake, not a segment
MAX_CODE_LENGTH = 120


class Invalid(Exception):
    """A condition's operator, value or parameter cannot be used; the tree adds the path."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class ValidationContext:
    """What checking one rule tree needs besides the rules: the segment being saved (for
    membership cycles) and caches so each lookup runs once per tree."""

    segment: Segment | None = None
    cache: dict[str, Any] = field(default_factory=dict)


@dataclass
class CompileContext:
    """The moment the rules are evaluated at (windows end now) and the segments being
    compiled, to stop a membership cycle that slipped past validation."""

    now: datetime
    segments_in_progress: tuple[int, ...] = ()
    cache: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Param:
    """A named extra key of a condition beside field/operator/value (e.g. ``days``)."""

    help: str
    required: bool = False


class Condition:
    """One type of condition. Subclasses set the class attributes and implement ``clean`` and
    ``compile``; ``register`` adds them to ``CONDITIONS`` under ``field``."""

    field: ClassVar[str]
    label: ClassVar[str]
    group: ClassVar[str]
    # operator -> what the value must be for it, shown in the admin's help
    operators: ClassVar[dict[str, str]]
    params: ClassVar[dict[str, Param]] = {}
    example: ClassVar[dict[str, Any]]

    def clean(
        self, operator: str, value: Any, params: dict[str, Any], context: ValidationContext
    ) -> tuple[Any, dict[str, Any]]:
        """The value and parameters as the compiler wants them; ``Invalid`` if unusable."""
        raise NotImplementedError

    def compile(
        self, operator: str, value: Any, params: dict[str, Any], context: CompileContext
    ) -> Q:
        raise NotImplementedError


CONDITIONS: dict[str, Condition] = {}

C = TypeVar("C", bound=type[Condition])


def register(condition_class: C) -> C:
    CONDITIONS[condition_class.field] = condition_class()
    return condition_class


# --- Value checks shared by the types -------------------------------------------------------


def whole_number(
    value: Any, *, what: str = "a whole number", minimum: int = 0, maximum: int | None = None
) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"the value must be {what}, not {value!r}.")
    if maximum is not None and not minimum <= value <= maximum:
        raise Invalid(f"the value must be between {minimum} and {maximum}, not {value}.")
    if value < minimum:
        raise Invalid(f"the value must be at least {minimum}, not {value}.")
    return value


def amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Invalid(f"the value must be an amount such as 150 or 99.90, not {value!r}.")
    try:
        parsed = Decimal(str(value))
    except InvalidOperation:
        raise Invalid(f"the value must be an amount such as 150 or 99.90, not {value!r}.") from None
    if not parsed.is_finite() or parsed < 0 or parsed > Decimal("1e12"):
        raise Invalid(f"the amount {value!r} is out of range.")
    return parsed


def number_range(value: Any, single: Callable[[Any], Any]) -> tuple[Any, Any]:
    """``[low, high]`` for ``between``, each checked by ``single``, low <= high."""
    if not isinstance(value, list) or len(value) != 2:
        raise Invalid(f"'between' needs a list of two values [low, high], not {value!r}.")
    low, high = single(value[0]), single(value[1])
    if low > high:
        raise Invalid(f"'between' needs the lower value first, not {value!r}.")
    return low, high


def days(value: Any) -> int:
    return whole_number(value, what="a number of days", minimum=1, maximum=MAX_DAYS)


def string_list(value: Any, *, what: str, lower: bool = False) -> list[str]:
    """A non-empty list of distinct non-empty strings (a single string is taken as one)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise Invalid(f"the value must be a non-empty list of {what}, not {value!r}.")
    if len(items) > MAX_LIST_LENGTH:
        raise Invalid(f"at most {MAX_LIST_LENGTH} {what} in one condition, not {len(items)}.")
    cleaned: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item.strip() or len(item) > MAX_CODE_LENGTH:
            raise Invalid(f"{item!r} is not one of {what}.")
        text = item.strip().lower() if lower else item.strip()
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


def choices(value: Any, allowed: Iterable[str], *, what: str) -> list[str]:
    allowed = list(allowed)
    items = string_list(value, what=what)
    unknown = [item for item in items if item not in allowed]
    if unknown:
        raise Invalid(f"unknown {what}: {', '.join(unknown)} (expected {', '.join(allowed)}).")
    return items


def existing(
    value: Any,
    *,
    what: str,
    model: type[Model],
    column: str,
    context: ValidationContext,
) -> list[str]:
    """Codes or names that must exist as ``model.column`` (one query per condition, none
    when the tree asked the same already)."""
    items = string_list(value, what=what)
    key = f"existing:{model._meta.label}.{column}:{sorted(items)}"
    if key not in context.cache:
        context.cache[key] = set(
            model._default_manager.filter(**{f"{column}__in": items}).values_list(column, flat=True)
        )
    found = context.cache[key]
    missing = [item for item in items if item not in found]
    if missing:
        raise Invalid(f"unknown {what}: {', '.join(missing)}.")
    return items


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"the value must be true or false, not {value!r}.")
    return value


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def iso_date(value: Any) -> date:
    if not isinstance(value, str) or not ISO_DATE.match(value):
        raise Invalid(f"the value must be a date written YYYY-MM-DD, not {value!r}.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{value!r} is not a real date.") from None


def compare(name: str, operator: str, value: Any) -> Q:
    """``Q`` comparing the column or annotation ``name`` with the cleaned ``value``."""
    if operator == "between":
        return Q(**{f"{name}__range": value})
    if operator in ("in", "not_in"):
        inside = Q(**{f"{name}__in": value})
        return inside if operator == "in" else ~inside
    lookup = "exact" if operator == "eq" else operator
    return Q(**{f"{name}__{lookup}": value})


def holds(operator: str, value: Any, measure: Any) -> bool:
    """Whether a comparison holds for ``measure`` (decides how zero is counted)."""
    if operator == "between":
        low, high = value
        return bool(low <= measure <= high)
    table: dict[str, Callable[[Any, Any], bool]] = {
        "eq": lambda a, b: a == b,
        "gte": lambda a, b: a >= b,
        "lte": lambda a, b: a <= b,
        "gt": lambda a, b: a > b,
        "lt": lambda a, b: a < b,
    }
    return table[operator](measure, value)


def numeric_value(operator: str, value: Any, single: Callable[[Any], Any]) -> Any:
    return number_range(value, single) if operator == "between" else single(value)
