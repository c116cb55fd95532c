"""Reading settings from the environment, with one clear error per bad variable.

Everything configurable is read here or in ``omni/settings.py``; nothing else reads ``os.environ``.
"""

import json
import os
import re
from pathlib import Path
from typing import Any, overload
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
# PostgreSQL is the database of record; SQLite serves the one-command demo only.
SUPPORTED_DATABASE_SCHEMES = {"postgres", "postgresql", "pgsql", "sqlite"}
DOTTED_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


class ConfigurationError(ImproperlyConfigured):
    """A variable of the environment is missing or malformed; the message names it."""

    def __init__(self, variable: str, problem: str):
        self.variable = variable
        super().__init__(f"{variable}: {problem}")


@overload
def env_str(name: str) -> str | None: ...
@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None) -> str | None: ...


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigurationError(name, f"expected one of 1/0, true/false, yes/no, on/off; got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = env_str(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(name, f"expected a whole number; got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


RATE = re.compile(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)")


def rate_limits_from_env(name: str) -> dict[str, str]:
    """``scope.kind=rate`` pairs separated by commas, e.g. ``sign_in.email=5/hour``."""
    limits = {}
    for item in env_list(name, []):
        target, _, rate = item.partition("=")
        if target.count(".") != 1 or not RATE.fullmatch(rate.strip()):
            raise ConfigurationError(
                name, f"expected scope.kind=number/period (e.g. sign_in.email=5/hour); got {item!r}"
            )
        limits[target.strip()] = rate.strip()
    return limits


SECRET_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")


def secrets_from_env(name: str, *, min_length: int = 16) -> dict[str, str]:
    """Secrets by name (e.g. per carrier), as ``name=secret`` pairs separated by commas or as a
    JSON object (for secrets holding commas). Names are lower-cased; every secret must have
    ``min_length`` characters or more. Errors never repeat a secret."""
    raw = env_str(name)
    if raw is None:
        return {}
    if raw.strip().startswith("{"):
        try:
            pairs = json.loads(raw)
        except ValueError:
            raise ConfigurationError(name, "is not a valid JSON object") from None
        if not isinstance(pairs, dict) or not all(isinstance(v, str) for v in pairs.values()):
            raise ConfigurationError(name, 'expected a JSON object of strings, {"name": "secret"}')
        items = [(str(key), value) for key, value in pairs.items()]
    else:
        items = []
        for item in env_list(name, []):
            key, equals, value = item.partition("=")
            if not equals:
                raise ConfigurationError(
                    name, f"expected name=secret pairs separated by commas; got {key.strip()!r}"
                )
            items.append((key, value))
    secrets = {}
    for key, value in items:
        key, value = key.strip().lower(), value.strip()
        if not SECRET_NAME.fullmatch(key):
            raise ConfigurationError(name, f"{key!r} is not a name (a-z, 0-9, - and _)")
        if len(value) < min_length:
            raise ConfigurationError(
                name, f"the secret of {key} is too short: use {min_length}+ random characters"
            )
        secrets[key] = value
    return secrets


def env_class_path(name: str, default: str) -> str:
    """A class named by its dotted path (``package.module.Class``). Whether it imports is
    checked once the apps are loaded (a system check), not here."""
    value = env_str(name, default)
    if not DOTTED_PATH.fullmatch(value):
        raise ConfigurationError(
            name, f"expected a dotted path like package.module.Class; got {value!r}"
        )
    return value


def database_from_env(default_sqlite_path: Path) -> dict[str, Any]:
    """``DATABASE_URL`` as a Django database dict; an SQLite file when it is not set."""
    url = env_str("DATABASE_URL")
    if url is None:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": default_sqlite_path,
            # The demo runs web, worker and beat on one file: write-ahead logging lets readers
            # go on while one writes, and IMMEDIATE makes writers queue instead of failing.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    scheme = urlsplit(url).scheme
    if scheme not in SUPPORTED_DATABASE_SCHEMES:
        raise ConfigurationError(
            "DATABASE_URL",
            f"unsupported scheme {scheme!r}; use postgres://user:password@host:port/name",
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
    except ValueError as error:
        raise ConfigurationError("DATABASE_URL", f"cannot be read ({error})") from None
    if not config.get("NAME"):
        raise ConfigurationError("DATABASE_URL", "names no database (the path after the host)")
    config["CONN_HEALTH_CHECKS"] = True
    return dict(config)


def celery_filesystem_options(folder: Path) -> dict[str, Any]:
    """Transport options for kombu's filesystem broker: one folder shared by all processes."""
    queue, processed, control = folder / "queue", folder / "processed", folder / "control"
    for path in (queue, processed, control):
        path.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(processed),
        "control_folder": str(control),  # kombu's default is "control" in the working directory
        "store_processed": False,
    }
