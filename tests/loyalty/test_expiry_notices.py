"""Members hear about points that are about to expire: once per lot, by e-mail, on time."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Notification
from customers.services import erase_customer, record_consent
from loyalty import services, tasks
from loyalty.models import PointsLot
from loyalty.services import QuoteLine
from omni.celery import app as celery_app
from tests.loyalty.factories import customer, programme

pytestmark = pytest.mark.django_db

NEW_YEAR = datetime(2026, 1, 1, 10, tzinfo=UTC)
EXPIRES = NEW_YEAR + timedelta(days=365)  # points given at New Year live a year


@pytest.fixture(autouse=True)
def _notices_sent_here(django_capture_on_commit_callbacks):
    """Delivery tasks run in this process, after each (captured) commit of the run."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_eager_propagates = False


def run(time_machine, django_capture_on_commit_callbacks, at: datetime) -> dict[str, int]:
    time_machine.move_to(at, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        return services.send_expiry_notices()


def consenting_customer(**fields):
    """A member who agreed to e-mails from the programme (the notice is marketing)."""
    made = customer(**fields)
    record_consent(
        customer=made, channel="email", purpose="marketing", granted=True, source_channel="web"
    )
    return made


def give(member, points: int, reason: str = "welcome gift"):
    """Available points at once (a staff adjustment), expiring a year later."""
    return services.adjust_points(
        account=services.enrol(customer=member), points=points, reason=reason
    )


@pytest.fixture
def member(time_machine):
    programme()  # notices 14 days ahead
    time_machine.move_to(NEW_YEAR, tick=False)
    made = consenting_customer(first_name="Camille")
    give(made, 300)
    return made


def test_the_notice_goes_out_14_days_before_the_points_expire(
    member, time_machine, django_capture_on_commit_callbacks
):
    early = run(time_machine, django_capture_on_commit_callbacks, EXPIRES - timedelta(days=15))
    assert early == {"queued": 0, "suppressed": 0}
    assert mail.outbox == []

    due = run(time_machine, django_capture_on_commit_callbacks, EXPIRES - timedelta(days=14))

    assert due == {"queued": 1, "suppressed": 0}
    notice = Notification.objects.get()
    assert (notice.topic, notice.kind, notice.status) == (
        "loyalty.points_expiring",
        "marketing",
        "sent",
    )
    [email] = mail.outbox
    assert email.to == [member.email]
    assert email.subject == "300 of your points expire on 1 January 2027"
    assert "Hello Camille" in email.body
    assert "  - 300 points on 1 January 2027" in email.body
    assert notice.context["expiring"] == [{"date": "2027-01-01", "points": 300}]
    assert PointsLot.objects.get().expiry_notice_sent_at == EXPIRES - timedelta(days=14)


def test_a_lot_is_never_noticed_twice(member, time_machine, django_capture_on_commit_callbacks):
    run(time_machine, django_capture_on_commit_callbacks, EXPIRES - timedelta(days=14))

    next_day = run(time_machine, django_capture_on_commit_callbacks, EXPIRES - timedelta(days=13))
    same_day = run(time_machine, django_capture_on_commit_callbacks, EXPIRES - timedelta(days=13))

    assert next_day == same_day == {"queued": 0, "suppressed": 0}
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_one_e_mail_per_account_lists_every_date_and_later_lots_get_their_own_notice(
    member, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NEW_YEAR + timedelta(days=5), tick=False)
    give(member, 40, reason="apology")
    time_machine.move_to(NEW_YEAR + timedelta(days=30), tick=False)
    give(member, 25, reason="survey")

    run(time_machine, django_capture_on_commit_callbacks, EXPIRES - timedelta(days=7))
    run(time_machine, django_capture_on_commit_callbacks, EXPIRES + timedelta(days=20))

    first, second = mail.outbox
    assert first.subject == "340 of your points expire on 1 January 2027"
    assert "  - 300 points on 1 January 2027\n  - 40 points on 6 January 2027" in first.body
    assert second.subject == "25 of your points expire on 31 January 2027"


def test_points_already_spent_or_expired_are_not_noticed(
    member, time_machine, django_capture_on_commit_callbacks
):
    services.redeem(
        customer=member, points=300, reference="till:1", source="clerk", idempotency_key="r1"
    )

    result = run(time_machine, django_capture_on_commit_callbacks, EXPIRES - timedelta(days=1))

    assert result == {"queued": 0, "suppressed": 0}
    assert run(time_machine, django_capture_on_commit_callbacks, EXPIRES + timedelta(days=1)) == {
        "queued": 0,
        "suppressed": 0,
    }


def test_pending_points_are_not_noticed_until_they_become_available(
    time_machine, django_capture_on_commit_callbacks
):
    programme(pending_days=30, expiry_days=7)  # pending 30 days, then a week to use them
    time_machine.move_to(NEW_YEAR, tick=False)
    member = consenting_customer()
    services.earn_for_order(
        customer=member,
        reference="W-1001",
        lines=[QuoteLine(Decimal("120"))],
        channel="web",
        idempotency_key="W-1001:earn",
    )

    # Day 25: they expire within 14 days, but they are still pending.
    pending = run(time_machine, django_capture_on_commit_callbacks, NEW_YEAR + timedelta(days=25))
    time_machine.move_to(NEW_YEAR + timedelta(days=31), tick=False)
    services.mature_points()
    matured = run(time_machine, django_capture_on_commit_callbacks, NEW_YEAR + timedelta(days=31))

    assert pending == {"queued": 0, "suppressed": 0}
    assert matured == {"queued": 1, "suppressed": 0}
    assert mail.outbox[0].subject == "120 of your points expire on 7 February 2026"


def test_an_erased_member_is_not_sent_the_notice_and_the_suppression_is_recorded_once(
    member, time_machine, django_capture_on_commit_callbacks
):
    erase_customer(customer=member, requested_via="admin")

    first = run(time_machine, django_capture_on_commit_callbacks, EXPIRES - timedelta(days=14))
    again = run(time_machine, django_capture_on_commit_callbacks, EXPIRES - timedelta(days=13))

    assert first == {"queued": 0, "suppressed": 1}
    assert again == {"queued": 0, "suppressed": 0}
    notice = Notification.objects.get()
    assert (notice.status, notice.suppression_reason) == ("suppressed", "erased")
    assert mail.outbox == []


def test_a_member_without_an_e_mail_address_is_recorded_as_suppressed(
    time_machine, django_capture_on_commit_callbacks
):
    programme()
    time_machine.move_to(NEW_YEAR, tick=False)
    give(consenting_customer(email="", phone="+33612345678"), 300)

    result = run(time_machine, django_capture_on_commit_callbacks, EXPIRES - timedelta(days=3))

    assert result == {"queued": 0, "suppressed": 1}
    assert Notification.objects.get().suppression_reason == "no_address"


def test_a_programme_with_no_notice_period_sends_no_notices(
    time_machine, django_capture_on_commit_callbacks
):
    programme(expiry_notice_days=0)
    time_machine.move_to(NEW_YEAR, tick=False)
    give(consenting_customer(), 300)

    result = run(time_machine, django_capture_on_commit_callbacks, EXPIRES - timedelta(hours=1))

    assert result == {"queued": 0, "suppressed": 0}


def test_the_number_of_queries_does_not_grow_with_the_number_of_lots(
    time_machine, django_capture_on_commit_callbacks
):
    programme()

    def queries_for_a_run(lots: int, year: int) -> int:
        start = NEW_YEAR.replace(year=year)
        time_machine.move_to(start, tick=False)
        member = consenting_customer()
        for day in range(lots):
            time_machine.move_to(start + timedelta(days=day), tick=False)
            give(member, 10 + day)
        time_machine.move_to(start + timedelta(days=365 - 14 + lots), tick=False)
        with CaptureQueriesContext(connection) as queries:
            services.send_expiry_notices()
        return len(queries)

    assert queries_for_a_run(1, 2030) == queries_for_a_run(6, 2040)


def test_the_daily_beat_task_sends_the_notices(
    member, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(EXPIRES - timedelta(days=14), tick=False)

    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.send_expiry_notices.apply().get()

    assert result == {"queued": 1, "suppressed": 0}
    assert len(mail.outbox) == 1
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "loyalty.send_expiry_notices" in scheduled


def test_a_member_who_did_not_consent_to_e_mails_gets_no_notice(
    time_machine, django_capture_on_commit_callbacks
):
    programme()
    time_machine.move_to(NEW_YEAR, tick=False)
    give(customer(), 300)

    result = run(time_machine, django_capture_on_commit_callbacks, EXPIRES - timedelta(days=3))

    assert result == {"queued": 0, "suppressed": 1}
    assert Notification.objects.get().suppression_reason == "no_consent"
