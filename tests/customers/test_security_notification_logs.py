"""SMS and push backends come from the environment, and no log line holds a customer's address,
a message's words or a pick-up code (issue 9, low)."""

import json
import logging

import pytest
from django.core import checks

from customers.models import Identity, Notification
from customers.notifications import DeliveryFailed, deliver, notify
from tests.customers.factories import CustomerFactory
from tests.omni.test_settings import run_python

PHONE, EMAIL, DEVICE, CODE = "+33612345678", "camille@example.com", "ios-device-42", "482915"


class BackendThatNamesTheAddress:
    """A provider whose error repeats the recipient, as SMTP and SMS gateways do."""

    def send(self, message):
        raise ConnectionRefusedError(f"{message.recipient} refused: {message.body}")


@pytest.fixture
def camille(db):
    customer = CustomerFactory(first_name="Camille", email=EMAIL, phone=PHONE)
    Identity.objects.create(customer=customer, kind=Identity.Kind.DEVICE, value=DEVICE)
    return customer


def a_pickup_code_message(customer, channel: str) -> Notification:
    return notify(
        customer=customer,
        topic="orders.ready_for_pickup",
        channel=channel,
        kind="transactional",
        subject="Camille, your order is ready",
        body=f"Show this code at the counter: {CODE}.",
        context={"pickup_code": CODE},
        idempotency_key=f"order-ready:{channel}",
    )


def assert_nothing_personal_in(text: str) -> None:
    for value in (PHONE, EMAIL, DEVICE, CODE, "Camille"):
        assert value not in text, value


@pytest.mark.django_db
@pytest.mark.parametrize("channel", ["sms", "push", "email"])
def test_delivering_a_message_logs_no_address_body_or_code(camille, channel, caplog):
    message = a_pickup_code_message(camille, channel)

    with caplog.at_level(logging.DEBUG):
        assert deliver(notification_id=message.pk) == Notification.Status.SENT

    assert_nothing_personal_in(caplog.text)


@pytest.mark.django_db
def test_the_console_backend_logs_the_notification_id_channel_and_topic(camille, caplog):
    message = a_pickup_code_message(camille, "sms")

    with caplog.at_level(logging.INFO, logger="customers.notifications"):
        deliver(notification_id=message.pk)

    assert f"Notification {message.pk}" in caplog.text
    assert "sms" in caplog.text
    assert "orders.ready_for_pickup" in caplog.text


@pytest.mark.django_db
def test_a_failing_backend_logs_and_raises_no_address_body_or_code(camille, settings, caplog):
    settings.NOTIFICATION_BACKENDS = {
        **settings.NOTIFICATION_BACKENDS,
        "sms": f"{__name__}.BackendThatNamesTheAddress",
    }
    message = a_pickup_code_message(camille, "sms")

    with caplog.at_level(logging.DEBUG):
        with pytest.raises(DeliveryFailed) as retried:
            deliver(notification_id=message.pk, last_attempt=False)
        deliver(notification_id=message.pk, last_attempt=True)

    assert_nothing_personal_in(str(retried.value))
    assert_nothing_personal_in(caplog.text)
    assert "ConnectionRefusedError" in caplog.text
    message.refresh_from_db()
    assert message.status == Notification.Status.FAILED


PRINT_BACKENDS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps(settings.NOTIFICATION_BACKENDS))
"""


def test_sms_and_push_backends_are_read_from_the_environment(tmp_path):
    done = run_python(
        ["-c", PRINT_BACKENDS],
        {
            "DEBUG": "1",
            "NOTIFICATION_SMS_BACKEND": "gateways.sms.TwilioBackend",
            "NOTIFICATION_PUSH_BACKEND": "gateways.push.FirebaseBackend",
        },
        tmp_path,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "email": "customers.notifications.EmailBackend",
        "sms": "gateways.sms.TwilioBackend",
        "push": "gateways.push.FirebaseBackend",
    }


def test_a_malformed_backend_stops_start_up_naming_the_variable(tmp_path):
    done = run_python(
        ["-c", PRINT_BACKENDS], {"DEBUG": "1", "NOTIFICATION_SMS_BACKEND": "not a path"}, tmp_path
    )

    assert done.returncode != 0
    assert "NOTIFICATION_SMS_BACKEND" in done.stderr.splitlines()[-1]


def test_a_backend_that_cannot_be_imported_fails_the_system_check(settings):
    settings.NOTIFICATION_BACKENDS = {
        **settings.NOTIFICATION_BACKENDS,
        "push": "gateways.push.MissingBackend",
    }

    errors = checks.run_checks(tags=["notifications"])

    assert [(error.id, "NOTIFICATION_PUSH_BACKEND" in error.hint) for error in errors] == [
        ("customers.E001", True)
    ]
