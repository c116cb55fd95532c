"""Background work for customers: delivering the outbox; each task is a thin wrapper."""

from celery import shared_task

from customers import notifications, services

MAX_DELIVERY_RETRIES = 5


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
        raise self.retry(exc=failure, countdown=30 * 2**self.request.retries) from failure


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
