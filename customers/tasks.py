"""Background work for customers: delivering the outbox; each task is a thin wrapper."""

from celery import shared_task
from django.conf import settings

from customers import notifications, services

# The first attempt and its retries make NOTIFICATION_MAX_ATTEMPTS.
MAX_DELIVERY_RETRIES = settings.NOTIFICATION_MAX_ATTEMPTS - 1


def _pause(retries: int) -> int:
    """Seconds before retry number ``retries`` + 1: 30 s, 1, 2, 4, 8 min... by default."""
    return int(settings.NOTIFICATION_RETRY_BACKOFF_SECONDS * 2**retries)


@shared_task(name="customers.deliver_notification", bind=True, max_retries=MAX_DELIVERY_RETRIES)
def deliver_notification(self, notification_id: int) -> str:
    """Send one queued notification; a failing backend is retried with growing pauses
    (30 s, 1, 2, 4, 8 min), then the row is marked failed."""
    try:
        return notifications.deliver(
            notification_id=notification_id,
            last_attempt=self.request.retries >= MAX_DELIVERY_RETRIES,
        )
    except notifications.DeliveryFailed as failure:
        raise self.retry(exc=failure, countdown=_pause(self.request.retries)) from failure


@shared_task(name="customers.deliver_batch")
def deliver_batch(notification_ids: list[int]) -> dict[str, int]:
    """Send a batch of queued notifications (a large send, or rows released from waiting);
    each message that failed is retried on its own, after a pause that grows with its
    attempts. Returns how many rows ended in each status."""
    outcome = notifications.deliver_many(notification_ids)
    for notification_id, (attempts, _) in outcome.retry.items():
        deliver_notification.apply_async(
            (notification_id,), countdown=_pause(attempts - 1), retries=attempts - 1
        )
    counts: dict[str, int] = {}
    for status in outcome.statuses.values():
        counts[status] = counts.get(status, 0) + 1
    return counts


@shared_task(name="customers.release_waiting_notifications")
def release_waiting_notifications() -> int:
    return notifications.release_waiting()


@shared_task(name="customers.requeue_stranded_notifications")
def requeue_stranded_notifications() -> int:
    return notifications.requeue_stranded()


@shared_task(name="customers.send_sign_up_email", bind=True, max_retries=MAX_DELIVERY_RETRIES)
def send_sign_up_email(self, request_id: int) -> bool:
    """E-mail a sign-up link (or the "you already have an account" notice); a mail server
    that fails is tried again with growing pauses."""
    try:
        return services.send_sign_up_email(request_id=request_id)
    except OSError as failure:  # SMTP errors are OSErrors
        raise self.retry(exc=failure, countdown=30 * 2**self.request.retries) from failure


@shared_task(name="customers.purge_expired_sign_up_requests")
def purge_expired_sign_up_requests() -> int:
    return services.purge_expired_sign_up_requests()


@shared_task(name="customers.purge_expired_customer_tokens")
def purge_expired_customer_tokens() -> int:
    return services.purge_expired_customer_tokens()
