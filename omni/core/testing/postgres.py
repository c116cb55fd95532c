"""pytest plugin: run the suite on a throwaway PostgreSQL server unless DATABASE_URL is set.

Registered as a pytest11 entry point in pyproject.toml, so it runs before pytest-django reads
the settings. The server (see ``omni.core.testing.throwaway``) is stopped and deleted when pytest
ends, whether the tests passed or not.
"""

import os
import shutil
import tempfile
from typing import Any

import pytest

from omni.core.testing.throwaway import start_postgres

_throwaway: dict[str, Any] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    # Uploads, the SQLite file and the Celery broker folder of a test run never touch var/.
    # Worker processes started by tests inherit this environment and so share the broker.
    scratch = tempfile.mkdtemp(prefix="omni-test-var-")
    _throwaway["scratch"] = scratch
    os.environ["OMNI_VAR_DIR"] = scratch
    os.environ.setdefault("CELERY_BROKER_URL", "filesystem://")
    # The suite runs with the demo's defaults (its key, payment provider and local cache);
    # tests of production settings start processes with an environment of their own.
    os.environ.setdefault("DEBUG", "1")
    # A test run at night must behave as one by day: tests of quiet hours set them themselves.
    os.environ.setdefault("MARKETING_QUIET_HOURS", "off")
    if os.environ.get("DATABASE_URL"):
        return
    _throwaway["server"], os.environ["DATABASE_URL"] = start_postgres()


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(
            f"The test suite runs on PostgreSQL; DATABASE_URL points at {engine}. "
            "Unset DATABASE_URL to get a throwaway server."
        )


def pytest_report_header(config: pytest.Config) -> str:
    source = "throwaway server" if "server" in _throwaway else "DATABASE_URL"
    return f"database: {server_version()} ({source})"


def pytest_unconfigure(config: pytest.Config) -> None:
    server = _throwaway.pop("server", None)
    if server is not None:
        server.cleanup()
    shutil.rmtree(_throwaway.pop("scratch"), ignore_errors=True)


def server_version() -> str:
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    with psycopg.connect(
        dbname=db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
    ) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else 'unknown'}"
