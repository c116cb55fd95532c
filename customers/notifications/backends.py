"""Channel backends: what hands a message to the outside world (a mail server, an SMS gateway,
a push service), chosen per channel in ``settings.NOTIFICATION_BACKENDS``.

A backend is a class with ``send(message: OutgoingMessage) -> str | None``: it sends or
raises, and may return the provider's id for the message (kept on the row as
``provider_id``). Whatever it raises is a failed attempt, retried with growing pauses, except
``AddressRejected`` (a hard bounce: the address does not exist), which fails the message at
once and puts the address on the suppression list.
"""

import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol
from uuid import UUID

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.utils.module_loading import import_string

logger = logging.getLogger("customers.notifications")


class DeliveryFailed(Exception):
    """A backend could not send the message; the task retries it later."""


class AddressRejected(Exception):
    """Raised by a backend when the provider says the address cannot receive anything (a hard
    bounce): the message fails without retries and the address is suppressed."""


@dataclass(frozen=True)
class OutgoingMessage:
    """What a backend gets: everything needed to send, nothing to look up.

    Push: ``subject`` is the title and ``context["link"]`` the deep link. ``headers`` are the
    e-mail headers to add (``List-Unsubscribe`` on marketing e-mail); ``unsubscribe_url`` is
    there for channels that show it in the text (an SMS's "STOP" link).
    """

    notification_id: int
    channel: str
    recipient: str
    topic: str
    subject: str
    body: str
    context: dict[str, Any] = field(default_factory=dict)
    html_body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    unsubscribe_url: str = ""
    public_id: UUID | None = None


class NotificationBackend(Protocol):
    def send(self, message: OutgoingMessage) -> str | None:
        """Send the message or raise; may return the provider's id for it."""


class EmailBackend:
    """E-mail through Django's mail backend (``EMAIL_BACKEND``: SMTP, console, a provider's
    backend such as django-anymail's, or the tests' in-memory ``mail.outbox``), with the HTML
    alternative and the headers. Returns the provider's message id where the mail backend
    reports one (anymail's ``anymail_status``), else the ``Message-ID`` it was sent with."""

    def send(self, message: OutgoingMessage) -> str | None:
        message_id = make_msgid(domain=settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">"))
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            headers={"Message-ID": message_id, **message.headers},
        )
        if message.html_body:
            email.attach_alternative(message.html_body, "text/html")
        email.send(fail_silently=False)
        status = getattr(email, "anymail_status", None)
        return getattr(status, "message_id", None) or message_id


class ConsoleBackend:
    """Sends nothing and logs that a message was due, by id: SMS and push in the demo. A
    provider (an SMS gateway, FCM/APNs) plugs in as another class with ``send``."""

    def send(self, message: OutgoingMessage) -> str | None:
        logger.info(
            "Notification %s (%s, %s) not sent: no %s provider is configured.",
            message.notification_id,
            message.channel,
            message.topic,
            message.channel,
        )
        return None


class MemoryBackend:
    """Keeps every message in ``MemoryBackend.sent`` (this process's memory) and returns a
    provider id, like ``mail.outbox`` for e-mail: for tests of SMS and push."""

    sent: ClassVar[list[OutgoingMessage]] = []

    def send(self, message: OutgoingMessage) -> str | None:
        type(self).sent.append(message)
        return f"memory-{len(type(self).sent)}"


def backend_for(channel: str) -> NotificationBackend:
    backend: NotificationBackend = import_string(settings.NOTIFICATION_BACKENDS[channel])()
    return backend
