"""Fixtures shared by every app's tests."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.db import connection

PROJECT_DIR = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    """A DATABASE_URL for the test database, for processes started by a test."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = quote(db["HOST"] or "", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{db['NAME']}"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters live in the cache, which outlives a test's database transaction.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def live_celery_worker(transactional_db):
    """A real `celery worker` process on the test run's broker, using the test database.

    Tasks sent from the test travel through the broker to the worker, which runs them in its
    own process and stores their results in the database; `result.get()` waits for them.
    """
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "omni",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, "DATABASE_URL": test_database_url()},
    )
    try:
        yield worker
    finally:
        worker.terminate()
        worker.wait(timeout=30)
