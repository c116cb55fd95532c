"""What the benchmark commands share: an empty copy of the apps' tables in a schema of their
own (searched first, so the ORM and raw SQL write there and the real data is untouched), and
timed steps with progress output."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection

# Every app whose tables a benchmark fills or reads.
APPS = ("customers", "inventory", "loyalty", "orders", "campaigns")
CHUNK = 1_000_000  # rows per INSERT ... SELECT generate_series, so progress can be shown


class BenchmarkCommand(BaseCommand):
    """A benchmark on synthetic data: subclasses name their ``schema``."""

    schema: str

    @contextmanager
    def own_schema(self, *, keep: bool) -> Iterator[None]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_schema(), current_setting('search_path')")
            home, search_path = cursor.fetchone()
            cursor.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
            cursor.execute(f"CREATE SCHEMA {self.schema}")
            for table in self.tables():
                cursor.execute(
                    f'CREATE TABLE {self.schema}."{table}" (LIKE "{home}"."{table}" INCLUDING ALL)'
                )
            cursor.execute(f"SET search_path TO {self.schema}, {search_path}")
        self.say(f"Schema {self.schema}: {len(self.tables())} empty tables, searched first.")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('search_path', %s, false)", [search_path])
                if not keep:
                    cursor.execute(f"DROP SCHEMA {self.schema} CASCADE")
            self.say("Schema dropped." if not keep else f"Schema {self.schema} kept.")

    def tables(self) -> list[str]:
        return sorted(
            {
                model._meta.db_table
                for label in APPS
                for model in apps.get_app_config(label).get_models(include_auto_created=True)
                if model._meta.managed and not model._meta.proxy
            }
        )

    def sql(self, statement: str, params: list[Any] | None = None) -> None:
        with connection.cursor() as cursor:
            cursor.execute(statement, params or [])  # always a list: %% means %

    def step(self, what: str, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = work(*args, **kwargs)
        self.say(f"{time.perf_counter() - started:9.2f} s  {what}")
        return result

    def chunked(self, what: str, total: int, work: Callable[..., Any], **kwargs: Any) -> None:
        started = time.perf_counter()
        for first in range(1, total + 1, CHUNK):
            last = min(first + CHUNK - 1, total)
            work(first, last, **kwargs)
            self.say(f"  {what}: {last:,}/{total:,}", ending="\r" if last < total else "\n")
        self.say(f"{time.perf_counter() - started:9.2f} s  {total:,} {what}")

    def say(self, text: str, ending: str = "\n") -> None:
        self.stdout.write(text, ending=ending)
        self.stdout.flush()
