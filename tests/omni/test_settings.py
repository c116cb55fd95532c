"""Settings come from the environment, and bad settings stop start-up with one clear line."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_DIR

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "shop.example.com,api.example.com",
    "DATABASE_URL": "postgres://omni:s3cret@db.example.com:5433/omni_prod",
    "CELERY_BROKER_URL": "redis://cache.example.com:6379/0",
    "CACHE_URL": "redis://cache.example.com:6379/1",
    "PAYMENT_PROVIDER": "acme_payments.omni.Provider",
    "SIGN_UP_CONFIRM_URL": "https://shop.example.com/account/confirm?token={token}",
    "PUBLIC_BASE_URL": "https://omni.example.com",
    "TIME_ZONE": "Europe/Paris",
}

PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "debug": s.DEBUG, "secret_key": s.SECRET_KEY, "allowed_hosts": s.ALLOWED_HOSTS,
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""),
    "port": db.get("PORT", ""), "user": db.get("USER", ""), "broker": s.CELERY_BROKER_URL,
    "time_zone": s.TIME_ZONE, "celery_time_zone": s.CELERY_TIMEZONE,
    "ssl_redirect": getattr(s, "SECURE_SSL_REDIRECT", False),
}))
"""


def run_python(args: list[str], env: dict, tmp_path) -> subprocess.CompletedProcess:
    """Run Python in a fresh process whose environment holds only what the test gives it."""
    clean_env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "omni.settings",
        "OMNI_VAR_DIR": str(tmp_path),
        **env,
    }
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT_DIR, env=clean_env, capture_output=True, text=True
    )


def read_settings(env: dict, tmp_path) -> dict:
    done = run_python(["-c", PRINT_SETTINGS], env, tmp_path)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_with_debug_on_omni_runs_the_demo_on_sqlite_under_var_and_the_filesystem_broker(
    tmp_path,
):
    found = read_settings({"DEBUG": "1"}, tmp_path)

    assert found["debug"] is True
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["name"] == str(tmp_path / "omni.sqlite3")
    assert found["broker"] == "filesystem://"
    assert found["time_zone"] == "UTC"


def test_production_variables_are_read_from_the_environment(tmp_path):
    found = read_settings(PRODUCTION_ENV, tmp_path)

    assert found["debug"] is False
    assert found["secret_key"] == PRODUCTION_ENV["SECRET_KEY"]
    assert found["allowed_hosts"] == ["shop.example.com", "api.example.com"]
    assert found["engine"] == "django.db.backends.postgresql"
    assert (found["host"], found["port"], found["user"], found["name"]) == (
        "db.example.com",
        5433,
        "omni",
        "omni_prod",
    )
    assert found["broker"] == "redis://cache.example.com:6379/0"
    assert found["time_zone"] == found["celery_time_zone"] == "Europe/Paris"
    assert found["ssl_redirect"] is True


def test_deploy_checks_pass_with_production_settings(tmp_path):
    done = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV, tmp_path
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DEBUG": "1", "DATABASE_URL": "not a url at all"}, "DATABASE_URL"),
        ({"DEBUG": "1", "DATABASE_URL": "mongodb://db.example.com/omni"}, "DATABASE_URL"),
        ({"DEBUG": "1", "DATABASE_URL": "postgres://db.example.com"}, "DATABASE_URL"),
        ({"DEBUG": "0", "ALLOWED_HOSTS": "shop.example.com"}, "SECRET_KEY"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DEBUG": "1", "API_RATE_LIMITS": "sign_in.email=lots"}, "API_RATE_LIMITS"),
        # Production-safe defaults: nothing set is production, which needs real values.
        ({}, "SECRET_KEY"),
        ({**PRODUCTION_ENV, "SECRET_KEY": "short-key"}, "SECRET_KEY"),
        (
            {**PRODUCTION_ENV, "SECRET_KEY": "insecure-local-demo-key-never-used-with-debug-off"},
            "SECRET_KEY",
        ),
        ({**PRODUCTION_ENV, "SECRET_KEY": "a" * 60}, "SECRET_KEY"),
        ({**PRODUCTION_ENV, "CACHE_URL": ""}, "CACHE_URL"),
        ({**PRODUCTION_ENV, "PAYMENT_PROVIDER": ""}, "PAYMENT_PROVIDER"),
        (
            {**PRODUCTION_ENV, "PAYMENT_PROVIDER": "orders.payments.DemoProvider"},
            "PAYMENT_PROVIDER",
        ),
        ({**PRODUCTION_ENV, "SIGN_UP_CONFIRM_URL": ""}, "SIGN_UP_CONFIRM_URL"),
        ({**PRODUCTION_ENV, "PUBLIC_BASE_URL": ""}, "PUBLIC_BASE_URL"),
        ({**PRODUCTION_ENV, "PUBLIC_BASE_URL": "omni.example.com"}, "PUBLIC_BASE_URL"),
        ({"DEBUG": "1", "MARKETING_QUIET_HOURS": "9pm-8am"}, "MARKETING_QUIET_HOURS"),
        ({"DEBUG": "1", "MARKETING_QUIET_HOURS": "21:00-24:00"}, "MARKETING_QUIET_HOURS"),
        ({"DEBUG": "1", "CARRIER_WEBHOOK_SECRETS": "colissimo"}, "CARRIER_WEBHOOK_SECRETS"),
        ({"DEBUG": "1", "CARRIER_WEBHOOK_SECRETS": "colissimo=short"}, "CARRIER_WEBHOOK_SECRETS"),
        ({"DEBUG": "1", "CARRIER_WEBHOOK_SECRETS": '{"dhl": 12}'}, "CARRIER_WEBHOOK_SECRETS"),
        ({"DEBUG": "1", "CARRIER_WEBHOOK_SECRETS": "{not json"}, "CARRIER_WEBHOOK_SECRETS"),
    ],
)
def test_bad_configuration_stops_start_up_with_one_line_naming_the_variable(
    env, variable, tmp_path
):
    done = run_python(["manage.py", "check"], env, tmp_path)

    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"Configuration error: {variable}:")
    assert "Traceback" not in done.stderr


CARRIER_SECRETS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps(settings.CARRIER_WEBHOOK_SECRETS))
"""


@pytest.mark.parametrize(
    "value",
    [
        "Colissimo=whsec-colissimo-0123456789, dhl=whsec-dhl-0123456789abc",
        '{"Colissimo": "whsec-colissimo-0123456789", "dhl": "whsec-dhl-0123456789abc"}',
    ],
)
def test_carrier_webhook_secrets_are_read_as_pairs_or_json_keyed_by_lower_case_carrier(
    value, tmp_path
):
    done = run_python(
        ["-c", CARRIER_SECRETS], {"DEBUG": "1", "CARRIER_WEBHOOK_SECRETS": value}, tmp_path
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "colissimo": "whsec-colissimo-0123456789",
        "dhl": "whsec-dhl-0123456789abc",
    }


def test_carrier_webhooks_are_optional_even_in_production(tmp_path):
    done = run_python(["-c", CARRIER_SECRETS], PRODUCTION_ENV, tmp_path)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {}
