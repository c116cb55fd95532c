"""Fixtures shared by every app's tests, and the lanes that sort the slow tests out.

Three kinds of test are slow, and each gets its marker here from what it uses, so that a new
one cannot forget its lane (``make test-fast`` leaves all three out; ``make test`` runs all):

* ``worker``: uses ``live_celery_worker``, a real Celery worker process;
* ``browser``: uses ``live_server`` (the clerk dashboard driven by headless Chromium);
* ``concurrency``: commits for real (``django_db(transaction=True)`` or ``transactional_db``),
  which every race between threads or processes on PostgreSQL needs, since each thread has its
  own connection and sees only committed rows. Race tests also carry the mark explicitly.
"""

import os
import subprocess
import sys
import time
from collections.abc import Callable
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


def commits_for_real(item: pytest.Item) -> bool:
    """Whether the test runs outside the per-test transaction (pytest-django's
    ``transaction=True``, ``reset_sequences=True`` or the ``transactional_db`` fixture)."""
    if {"transactional_db", "django_db_reset_sequences"} & set(item.fixturenames):
        return True
    marker = item.get_closest_marker("django_db")
    if marker is None:
        return False
    transaction = marker.kwargs.get("transaction", marker.args[0] if marker.args else False)
    return bool(transaction or marker.kwargs.get("reset_sequences"))


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(config, items):
    only_under = os.environ.get("MUTATION_TESTS", "").split()
    if only_under:
        # `make mutation TESTS=...`: mutmut takes its tests from pyproject.toml only.
        outside = [item for item in items if not item.nodeid.startswith(tuple(only_under))]
        config.hook.pytest_deselected(items=outside)
        items[:] = [item for item in items if item not in outside]
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "live_celery_worker" in fixtures:
            item.add_marker(pytest.mark.worker)
        elif "live_server" in fixtures:
            item.add_marker(pytest.mark.browser)
        elif commits_for_real(item) and not item.get_closest_marker("concurrency"):
            item.add_marker(pytest.mark.concurrency)


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
    Messages left in the broker by earlier tests (tasks queued after a commit with no worker
    to run them) are purged first, so the worker runs only this test's tasks. Its e-mail goes
    to its own memory (Django's locmem backend), not to the test's output.
    """
    from omni.celery import app

    app.control.purge()
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
        env={
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        },
    )
    try:
        yield worker
    finally:
        # The test has its answers. A warm shutdown waits out the broker's polls (about 4 s
        # with the filesystem transport), so the worker is stopped at once; a task it was still
        # running is rolled back by PostgreSQL when its connection drops.
        worker.kill()
        worker.wait(timeout=30)


def wait_for_worker(condition: Callable[[], bool], *, what: str, timeout: float = 60) -> None:
    """Wait until ``condition()`` (a database read) holds: for work the worker does on its own,
    e.g. a task queued after a commit, whose result the test has no handle on."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"the worker never {what}"
        time.sleep(0.1)  # a polling interval, not a wait for a race: only the deadline counts
