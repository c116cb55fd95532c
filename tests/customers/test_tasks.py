"""Customers' background tasks, run by a real Celery worker process."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers import services, tasks
from customers.models import CustomerToken, Notification, SignUpRequest
from omni.core.channels import Channel
from tests.conftest import wait_for_worker
from tests.customers.factories import CustomerFactory, customer_token

Status = Notification.Status


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def sign_up_request(email: str, *, expires_in: timedelta) -> SignUpRequest:
    return SignUpRequest.objects.create(
        kind=SignUpRequest.Kind.VERIFY,
        email=email,
        channel=Channel.WEB,
        expires_at=timezone.now() + expires_in,
    )


def test_a_worker_e_mails_the_sign_up_link_once_the_request_is_committed(live_celery_worker):
    request = services.request_sign_up(
        email="new@example.com", password="a-long-customer-password-1", channel=Channel.WEB
    )  # autocommit: its task leaves for the broker now

    wait_for_worker(
        lambda: SignUpRequest.objects.filter(pk=request.pk, email_sent_at__isnull=False).exists(),
        what="e-mailed the sign-up link",
    )

    # A second task for the same request (the broker delivered it twice) sends nothing.
    assert tasks.send_sign_up_email.delay(request.pk).get(timeout=60) is False


def test_a_worker_purges_expired_sign_up_requests(live_celery_worker):
    sign_up_request("old@example.com", expires_in=-timedelta(minutes=1))
    sign_up_request("new@example.com", expires_in=timedelta(hours=1))

    purged = tasks.purge_expired_sign_up_requests.delay().get(timeout=60)

    assert purged == 1
    assert list(SignUpRequest.objects.values_list("email", flat=True)) == ["new@example.com"]


def test_a_worker_purges_customer_tokens_unused_for_too_long(live_celery_worker, settings):
    customer = CustomerFactory()
    customer_token(customer)
    customer_token(customer)
    idle = CustomerToken.objects.order_by("pk").first()
    CustomerToken.objects.filter(pk=idle.pk).update(
        last_used_at=timezone.now() - timedelta(days=settings.CUSTOMER_TOKEN_IDLE_DAYS + 1)
    )

    purged = tasks.purge_expired_customer_tokens.delay().get(timeout=60)

    assert purged == 1
    assert CustomerToken.objects.filter(pk=idle.pk).exists() is False
    assert CustomerToken.objects.count() == 1


def test_a_worker_queues_a_stranded_message_again_and_delivers_it(live_celery_worker):
    customer = CustomerFactory()
    # Written without its task (as when the broker was down at commit), half an hour ago.
    stranded = Notification.objects.create(
        customer=customer,
        channel="email",
        kind="transactional",
        topic="orders.ready_for_pickup",
        body="Ready.",
        idempotency_key="order-ready:stranded",
    )
    Notification.objects.filter(pk=stranded.pk).update(
        created_at=timezone.now() - timedelta(minutes=30)
    )

    requeued = tasks.requeue_stranded_notifications.delay().get(timeout=60)

    assert requeued == 1
    wait_for_worker(
        lambda: Notification.objects.filter(pk=stranded.pk, status=Status.SENT).exists(),
        what="delivered the requeued message",
    )
    stranded.refresh_from_db()
    assert (stranded.attempts, stranded.recipient) == (1, customer.email)
