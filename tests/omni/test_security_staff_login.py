"""Staff log-in at /clerk/ and /admin/ locks out after repeated wrong passwords (django-axes,
counted in the database per username and client address), for a cool-off or until a manager
unlocks it in the admin; the client address trusts X-Forwarded-For only from our own proxies."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client, RequestFactory

from omni.core.api.client_ip import client_ip
from tests.omni.test_clerk import CLERK_PASSWORD, clerk_at, store

pytestmark = pytest.mark.django_db

LOG_INS = ["/clerk/login/", "/admin/login/"]
WRONG = "not-the-password"


@pytest.fixture
def clerk(db):
    return clerk_at(store("PAR-RIV", "Paris Rivoli"))


def log_in(client, url: str, password: str, username: str = "clerk", **headers):
    return client.post(url, {"username": username, "password": password}, **headers)


def fail(client, url: str, times: int, **headers) -> None:
    for _ in range(times):
        log_in(client, url, WRONG, **headers)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url", LOG_INS)
def test_five_wrong_passwords_lock_the_account_out_even_with_the_right_password(client, clerk, url):
    fail(client, url, 5)

    response = log_in(client, url, CLERK_PASSWORD)

    assert response.status_code == 429
    assert not logged_in(client)
    assert client.get("/clerk/pickups/").status_code == 302


@pytest.mark.parametrize("url", LOG_INS)
def test_four_wrong_passwords_still_let_the_right_one_in(client, clerk, url):
    fail(client, url, 4)

    response = log_in(client, url, CLERK_PASSWORD)

    assert response.status_code == 302
    assert logged_in(client)


def test_the_locked_out_page_says_why_and_what_to_do(client, clerk):
    fail(client, "/clerk/login/", 4)

    response = log_in(client, "/clerk/login/", WRONG)

    assert response.status_code == 429
    assert "staff_locked_out.html" in [t.name for t in response.templates]
    page = response.content.decode()
    assert "Too many failed log-ins" in page
    assert "15 minutes" in page
    assert "ask a manager" in page


def test_the_lock_holds_across_the_clerk_and_the_admin_log_ins(client, clerk):
    fail(client, "/clerk/login/", 5)

    assert log_in(client, "/admin/login/", CLERK_PASSWORD).status_code == 429
    assert not logged_in(client)


def test_the_same_clerk_from_another_address_still_logs_in(client, clerk):
    """Keyed on username and address together: a stranger guessing elsewhere cannot lock a
    clerk out of the till."""
    fail(client, "/clerk/login/", 5, REMOTE_ADDR="198.51.100.7")

    response = log_in(client, "/clerk/login/", CLERK_PASSWORD, REMOTE_ADDR="192.0.2.10")

    assert response.status_code == 302
    assert logged_in(client)


def test_after_the_cool_off_the_right_password_works_again(client, clerk, time_machine):
    time_machine.move_to("2026-03-02 09:00:00+00:00")
    fail(client, "/clerk/login/", 5)
    time_machine.move_to("2026-03-02 09:14:00+00:00")
    assert log_in(client, "/clerk/login/", CLERK_PASSWORD).status_code == 429

    time_machine.move_to("2026-03-02 09:30:00+00:00")
    response = log_in(client, "/clerk/login/", CLERK_PASSWORD)

    assert response.status_code == 302
    assert logged_in(client)


def test_the_limit_and_cool_off_are_settings(client, clerk, settings, time_machine):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    time_machine.move_to("2026-03-02 09:00:00+00:00")
    fail(client, "/clerk/login/", 2)
    assert log_in(client, "/clerk/login/", CLERK_PASSWORD).status_code == 429

    time_machine.move_to("2026-03-02 09:02:00+00:00")

    assert log_in(client, "/clerk/login/", CLERK_PASSWORD).status_code == 302


def test_a_manager_unlocks_the_clerk_in_the_admin(client, clerk):
    fail(client, "/clerk/login/", 5)
    attempt = AccessAttempt.objects.get(username="clerk")
    manager = Client()
    manager.force_login(User.objects.create_superuser("boss", password=CLERK_PASSWORD))

    listing = manager.get("/admin/axes/accessattempt/")
    deleted = manager.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200
    assert b"clerk" in listing.content
    assert deleted.status_code == 302
    assert log_in(client, "/clerk/login/", CLERK_PASSWORD).status_code == 302


def test_the_failed_attempts_keep_no_password(client, clerk):
    fail(client, "/clerk/login/", 2)

    attempt = AccessAttempt.objects.get(username="clerk")

    assert attempt.failures_since_start == 2
    assert WRONG not in attempt.post_data


def test_a_right_password_clears_the_earlier_failures(client, clerk):
    fail(client, "/clerk/login/", 4)
    log_in(client, "/clerk/login/", CLERK_PASSWORD)
    client.logout()

    fail(client, "/clerk/login/", 4)

    assert log_in(client, "/clerk/login/", CLERK_PASSWORD).status_code == 302


# --- The client address --------------------------------------------------------------------


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_dodge_the_lock(client, clerk):
    for n in range(5):
        log_in(client, "/clerk/login/", WRONG, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    response = log_in(client, "/clerk/login/", CLERK_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99")

    assert response.status_code == 429


def test_behind_one_proxy_the_address_it_saw_is_the_key(client, clerk, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):  # the left entry is the client's own invention; the proxy adds the right
        log_in(
            client,
            "/clerk/login/",
            WRONG,
            HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 198.51.100.7",
            REMOTE_ADDR="10.0.0.1",
        )

    locked = log_in(client, "/clerk/login/", CLERK_PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7")
    elsewhere = log_in(client, "/clerk/login/", CLERK_PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.10")

    assert locked.status_code == 429
    assert elsewhere.status_code == 302
    assert AccessAttempt.objects.get().ip_address == "198.51.100.7"


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.5", "10.0.0.1"),
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "203.0.113.5", "10.0.0.1"),
        (1, "", "10.0.0.1"),
    ],
)
def test_the_client_address_trusts_only_the_configured_proxies(
    settings, count, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected
