"""Adding to cached counters of many rows at once (stock quantities, points balances): one
UPDATE whatever the number of rows, inside the caller's transaction (the rows locked first)."""

from collections.abc import Mapping
from typing import Any

from django.db import connection, models
from django.db.models import Case, F, IntegerField, Value, When


def add_to_counters(
    model: type[models.Model],
    deltas: Mapping[str, Mapping[int, int]],
    *,
    also_set: Mapping[str, Any] | None = None,
) -> int:
    """Add ``deltas[column][pk]`` to each row's integer ``column`` (several columns at once),
    and set ``also_set`` (e.g. ``updated_at``) on every row changed. Returns the rows updated.

    On PostgreSQL the deltas are joined as a table (``unnest``): one pass whatever the size.
    Elsewhere (the SQLite demo) a ``CASE`` with one branch per row, which grows quadratically
    but serves the demo's few rows.
    """
    columns = sorted(name for name, per_row in deltas.items() if any(per_row.values()))
    for name in columns:
        field = model._meta.get_field(name)  # refuses a name that is not a column
        if not isinstance(field, models.IntegerField):
            raise ValueError(f"{model.__name__}.{name} is not an integer column.")
    pks = sorted({pk for name in columns for pk, delta in deltas[name].items() if delta})
    if not pks:
        return 0
    if connection.vendor == "postgresql":
        return _add_with_unnest(model, columns, pks, deltas, also_set or {})
    changes: dict[str, Any] = {
        name: F(name)
        + Case(
            *[When(pk=pk, then=Value(delta)) for pk, delta in deltas[name].items() if delta],
            default=Value(0),
            output_field=IntegerField(),
        )
        for name in columns
    }
    return model._default_manager.filter(pk__in=pks).update(**changes, **(also_set or {}))


def _add_with_unnest(
    model: type[models.Model],
    columns: list[str],
    pks: list[int],
    deltas: Mapping[str, Mapping[int, int]],
    also_set: Mapping[str, Any],
) -> int:
    quote = connection.ops.quote_name
    table, pk_column = quote(model._meta.db_table), quote(_column(model, "pk"))
    names = [quote(_column(model, name)) for name in columns]
    extra = {quote(_column(model, name)): value for name, value in also_set.items()}
    assignments = [f"{column} = target.{column} + change.d{i}" for i, column in enumerate(names)]
    assignments += [f"{column} = %s" for column in extra]
    arrays = ", ".join(["%s::bigint[]"] + ["%s::integer[]"] * len(columns))
    aliases = ", ".join(["id"] + [f"d{i}" for i in range(len(columns))])
    sql = (
        f"UPDATE {table} AS target SET {', '.join(assignments)} "
        f"FROM unnest({arrays}) AS change({aliases}) WHERE target.{pk_column} = change.id"
    )
    params: list[Any] = list(extra.values())
    params += [pks] + [[deltas[name].get(pk, 0) for pk in pks] for name in columns]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _column(model: type[models.Model], name: str) -> str:
    """The database column of a concrete field (``pk`` for the primary key)."""
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    column = getattr(field, "column", None)
    if not isinstance(column, str):
        raise ValueError(f"{model.__name__}.{name} is not a column.")
    return column
