"""Service conversations: a customer's question and every message about it, from any channel,
that any agent or clerk can pick up; replies leave through the transactional outbox on the
channel the customer used; a solved conversation may ask for a satisfaction rating (CSAT).

Status changes live here, in ``_TRANSITIONS``: an inbound message (re)opens, a reply waits
for the customer, solving closes. A message with the integrating tool's id that is already
recorded (a redelivery) changes nothing and returns the first one."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from customers.locks import lock_conversation, lock_conversation_message
from customers.models import (
    Conversation,
    ConversationMessage,
    Customer,
    MessageChannel,
    Notification,
    Touchpoint,
)
from omni.core.channels import Channel
from omni.core.errors import Conflict, InvalidInput, InvalidRequest, InvalidTransition, NotFound

Status = Conversation.Status
Direction = ConversationMessage.Direction

# Which status each change may start from.
_TRANSITIONS: dict[str, set[str]] = {
    Status.OPEN: {Status.WAITING, Status.SOLVED},
    Status.WAITING: {Status.OPEN, Status.SOLVED},
    Status.SOLVED: {Status.OPEN, Status.WAITING},
}

# Channels a reply goes to as the integrating tool's to deliver (it fetches them).
TOOL_CHANNELS = frozenset({MessageChannel.CHAT, MessageChannel.SOCIAL})
CSAT_TOKEN_SALT = "customers.conversation.csat"
MAX_SUBJECT = 200


@dataclass(frozen=True)
class Received:
    """An inbound message and whether this call recorded it (False: a redelivery)."""

    message: ConversationMessage
    created: bool

    @property
    def conversation(self) -> Conversation:
        return self.message.conversation


def _move(conversation: Conversation, to: str, *, now: datetime) -> None:
    if conversation.status == to:
        return
    if to not in _TRANSITIONS[conversation.status]:
        raise InvalidTransition(
            f"A {conversation.get_status_display().lower()} conversation cannot become {to}.",
            details={"status": conversation.status, "to": to},
        )
    conversation.status = to
    conversation.solved_at = now if to == Status.SOLVED else None


def _check_body(body: str, *, channel: str) -> str:
    errors = {}
    if channel not in MessageChannel.values:
        errors["channel"] = [f"Expected one of {', '.join(MessageChannel.values)}."]
    if not body.strip():
        errors["body"] = ["Write the message."]
    if errors:
        raise InvalidInput("The message is incomplete.", details=errors)
    return body.strip()


def _subject_from(subject: str, body: str) -> str:
    """The subject given, or the first line of the message."""
    text = subject.strip() or body.strip().splitlines()[0]
    return text[:MAX_SUBJECT]


# --- Messages from the customer -------------------------------------------------------------


def receive_message(
    *,
    customer: Customer,
    channel: str,
    body: str,
    external_id: str = "",
    conversation_id: str = "",
    thread_id: str = "",
    subject: str = "",
) -> Received:
    """Record a message from ``customer``: in the conversation named by ``conversation_id``
    (its public id) or by the tool's ``thread_id`` on this channel, or else in a new one. A
    conversation of another customer is refused (``Conflict``) and nothing is recorded. The
    conversation is (re)opened. ``external_id`` already recorded on this channel: the first
    message comes back, ``created`` False."""
    body = _check_body(body, channel=channel)
    if external_id:
        first = _message_by_external_id(channel, external_id)
        if first is not None:
            return Received(first, created=False)
    # Twice at most: when the first try lost a race (below), the second finds the winner's row.
    for last_try in (False, True):
        try:
            with transaction.atomic():
                conversation = _conversation_for_inbound(
                    customer=customer,
                    channel=channel,
                    conversation_id=conversation_id,
                    thread_id=thread_id,
                    subject=_subject_from(subject, body),
                )
                _move(conversation, Status.OPEN, now=timezone.now())
                conversation.save()
                message = ConversationMessage.objects.create(
                    conversation=conversation,
                    direction=Direction.INBOUND,
                    channel=channel,
                    body=body,
                    external_id=external_id,
                )
            return Received(message, created=True)
        except IntegrityError:
            # The same message delivered twice at once: the first commit holds it.
            first = _message_by_external_id(channel, external_id) if external_id else None
            if first is not None:
                return Received(first, created=False)
            # Or two first messages of one new thread at once: the other opened its
            # conversation; this one joins it on the second try.
            if last_try or not thread_id:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _message_by_external_id(channel: str, external_id: str) -> ConversationMessage | None:
    return (
        ConversationMessage.objects.select_related("conversation__customer")
        .filter(channel=channel, external_id=external_id)
        .first()
    )


def _conversation_for_inbound(
    *, customer: Customer, channel: str, conversation_id: str, thread_id: str, subject: str
) -> Conversation:
    """The conversation an inbound message belongs to, locked; a new one if none is named."""
    if conversation_id:
        found = Conversation.objects.filter(public_id=conversation_id).first()
        if found is None:
            raise NotFound(
                "No conversation with this id.", details={"conversation": str(conversation_id)}
            )
    elif thread_id:
        found = Conversation.objects.filter(channel=channel, thread_id=thread_id).first()
    else:
        found = None
    if found is None:
        return Conversation.objects.create(
            customer=customer, subject=subject, channel=channel, thread_id=thread_id
        )
    if found.customer_id != customer.pk:
        raise Conflict(
            "This conversation belongs to another customer: the message was not recorded. "
            "Send it without a conversation to open a new one for this customer.",
            details={"conversation": str(found.public_id)},
        )
    return lock_conversation(found)


@transaction.atomic
def write_to_own_conversation(
    *, customer: Customer, body: str, conversation: Conversation | None = None, subject: str = ""
) -> ConversationMessage:
    """A signed-in customer writes from their account (website or app): to one of their own
    conversations (another's is refused as unknown), or a new one."""
    if conversation is not None and conversation.customer_id != customer.pk:
        raise NotFound("No such conversation.")
    received = receive_message(
        customer=customer,
        channel=MessageChannel.APP,
        body=body,
        conversation_id=str(conversation.public_id) if conversation else "",
        subject=subject,
    )
    return received.message


# --- Staff: notes, replies, owner, solving --------------------------------------------------


@transaction.atomic
def open_conversation(
    *, customer: Customer, author: User | None, subject: str, note: str, channel: str
) -> Conversation:
    """Staff open a conversation with an internal note (what the customer asked in store or on
    the phone); it is open until someone answers or solves it."""
    note = _check_body(note, channel=channel)
    if not subject.strip():
        raise InvalidInput("Say what it is about.", details={"subject": ["Required."]})
    conversation = Conversation.objects.create(
        customer=customer, subject=subject.strip()[:MAX_SUBJECT], channel=channel, owner=author
    )
    ConversationMessage.objects.create(
        conversation=conversation,
        direction=Direction.NOTE,
        channel=channel,
        author=author,
        body=note,
    )
    return conversation


@transaction.atomic
def add_note(
    *, conversation: Conversation, author: User | None, body: str, channel: str = "note"
) -> ConversationMessage:
    """An internal note (never shown to the customer); the status does not change."""
    body = _check_body(body, channel=channel)
    conversation = lock_conversation(conversation)
    conversation.save(update_fields=["updated_at"])
    return ConversationMessage.objects.create(
        conversation=conversation,
        direction=Direction.NOTE,
        channel=channel,
        author=author,
        body=body,
    )


@transaction.atomic
def add_service_note(
    *,
    customer: Customer,
    author: User | None,
    topic: str,
    text: str,
    via: str = MessageChannel.NOTE,
) -> ConversationMessage:
    """A record of a service interaction (a call, a visit, a complaint) for whoever serves the
    customer next: a conversation of its own, already solved, holding the note."""
    errors = {}
    if via not in MessageChannel.values:
        errors["via"] = [f"Expected one of {', '.join(MessageChannel.values)}."]
    if not topic.strip():
        errors["topic"] = ["Say what it was about."]
    if not text.strip():
        errors["text"] = ["Write the note."]
    if errors:
        raise InvalidInput("The note is incomplete.", details=errors)
    now = timezone.now()
    conversation = Conversation.objects.create(
        customer=customer,
        subject=topic.strip()[:MAX_SUBJECT],
        channel=via,
        status=Status.SOLVED,
        solved_at=now,
        owner=author,
    )
    return ConversationMessage.objects.create(
        conversation=conversation,
        direction=Direction.NOTE,
        channel=via,
        author=author,
        body=text.strip(),
    )


def reply_channel(conversation: Conversation) -> str:
    """Where a reply goes: the channel of the customer's latest message (or, if they wrote
    none, the one the conversation started on). Phone, store and internal conversations are
    answered in writing by e-mail."""
    latest = (
        conversation.messages.filter(direction=Direction.INBOUND)
        .order_by("-created_at", "-id")
        .values_list("channel", flat=True)
        .first()
    )
    channel = latest or conversation.channel
    if channel in (MessageChannel.PHONE, MessageChannel.STORE, MessageChannel.NOTE):
        return MessageChannel.EMAIL
    return channel


@transaction.atomic
def reply_to_conversation(
    *, conversation: Conversation, author: User, body: str
) -> ConversationMessage:
    """Answer the customer on the channel they used: e-mail (and the account's messages, as a
    push to the app) through the transactional outbox, which needs no consent; chat and social
    are recorded for the integrating tool to deliver (``replies_to_deliver``). The
    conversation then waits for the customer, and is the author's if nobody had it."""
    conversation = lock_conversation(conversation)
    channel = reply_channel(conversation)
    body = _check_body(body, channel=channel)
    customer = conversation.customer
    if customer.erased_at is not None:
        raise InvalidRequest("This customer's data was erased: there is no one to reply to.")
    if channel == MessageChannel.EMAIL and not customer.email:
        raise InvalidRequest(
            "The customer has no e-mail address to answer: call them, or add it to the profile.",
            details={"channel": channel},
        )
    message = ConversationMessage.objects.create(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        channel=channel,
        author=author,
        body=body,
    )
    if channel not in TOOL_CHANNELS:
        message.notification = _send_reply(conversation, message)
        message.save(update_fields=["notification"])
    _move(conversation, Status.WAITING, now=timezone.now())
    if conversation.owner_id is None:
        conversation.owner = author
    conversation.save()
    return message


def _send_reply(conversation: Conversation, message: ConversationMessage) -> Notification:
    from customers.notifications import notify  # the outbox imports this package

    outbox_channel = (
        Notification.Channel.PUSH
        if message.channel == MessageChannel.APP
        else Notification.Channel.EMAIL
    )
    return notify(
        customer=conversation.customer,
        topic="customers.conversation_reply",
        channel=outbox_channel,
        kind=Notification.Kind.TRANSACTIONAL,
        subject=f"Re: {conversation.subject}"[:255],
        body=message.body,
        context={"conversation": str(conversation.public_id)},
        idempotency_key=f"conversation-reply:{message.public_id}",
    )


@transaction.atomic
def mark_reply_delivered(
    *, message: ConversationMessage, external_id: str = ""
) -> ConversationMessage:
    """The integrating tool delivered a chat or social reply (its id for it, if any). Saying
    so again changes nothing."""
    if message.direction != Direction.OUTBOUND or message.channel not in TOOL_CHANNELS:
        raise InvalidRequest(
            "Only chat and social replies are delivered by the integrating tool.",
            details={"message": str(message.public_id)},
        )
    locked = lock_conversation_message(message)
    if locked.delivered_at is None:
        locked.delivered_at = timezone.now()
        locked.external_id = external_id[:255]
        try:
            with transaction.atomic():
                locked.save(update_fields=["delivered_at", "external_id"])
        except IntegrityError:
            raise Conflict(
                "The tool's id for this reply is already another message's on this channel: "
                "nothing was changed.",
                details={"external_id": locked.external_id},
            ) from None
    return locked


@transaction.atomic
def assign_conversation(*, conversation: Conversation, owner: User | None) -> Conversation:
    """Give the conversation to ``owner`` ("take it"), or to nobody."""
    conversation = lock_conversation(conversation)
    conversation.owner = owner
    conversation.save(update_fields=["owner", "updated_at"])
    return conversation


@transaction.atomic
def solve_conversation(
    *, conversation: Conversation, actor: User | None, ask_rating: bool = True
) -> Conversation:
    """Close the question. With ``ask_rating``, the customer gets an e-mail (transactional)
    with a signed link to rate the answer from 1 to 5 (``rate_conversation``)."""
    conversation = lock_conversation(conversation)
    if conversation.status == Status.SOLVED:
        return conversation
    _move(conversation, Status.SOLVED, now=timezone.now())
    if conversation.owner_id is None and actor is not None:
        conversation.owner = actor
    conversation.save()
    customer = conversation.customer
    if ask_rating and customer.email and customer.erased_at is None:
        from customers.notifications import notify  # the outbox imports this package

        url = csat_url(conversation)
        notify(
            customer=customer,
            topic="customers.conversation_csat",
            channel=Notification.Channel.EMAIL,
            kind=Notification.Kind.TRANSACTIONAL,
            subject=f"How did we do? {conversation.subject}"[:255],
            body=(
                "Your question is answered. How satisfied are you with our help, from 1 (not at "
                f"all) to 5 (very)? One click tells us: {url}"
            ),
            context={"conversation": str(conversation.public_id), "rating_url": url},
            idempotency_key=f"conversation-csat:{conversation.public_id}:{conversation.solved_at}",
        )
    return conversation


# --- Satisfaction (CSAT) --------------------------------------------------------------------


def csat_token(conversation: Conversation) -> str:
    return signing.dumps(str(conversation.public_id), salt=CSAT_TOKEN_SALT)


def csat_url(conversation: Conversation) -> str:
    """The rating page's address, as the e-mail carries it (``customers.views.rate``)."""
    path = reverse("conversation-rate", kwargs={"token": csat_token(conversation)})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def conversation_for_csat_token(token: str) -> Conversation:
    """The conversation a rating link names; a forged or expired link is ``NotFound``."""
    try:
        public_id = signing.loads(
            token, salt=CSAT_TOKEN_SALT, max_age=settings.CONVERSATION_CSAT_DAYS * 86400
        )
    except signing.BadSignature:
        raise NotFound("This rating link is not valid (or too old).") from None
    conversation = Conversation.objects.filter(public_id=public_id).first()
    if conversation is None:
        raise NotFound("This rating link is not valid (or too old).")
    return conversation


@transaction.atomic
def rate_conversation(
    *, conversation: Conversation, rating: int, comment: str = ""
) -> Conversation:
    """The customer's satisfaction (1 to 5, with a comment) on a solved conversation, kept on
    it and as a ``support_contact`` touchpoint (``properties.csat``). Rating again changes
    the rating (the latest counts); a conversation not solved cannot be rated."""
    if not 1 <= rating <= 5:
        raise InvalidInput("Rate from 1 to 5.", details={"rating": ["Between 1 and 5."]})
    conversation = lock_conversation(conversation)
    if conversation.status != Status.SOLVED:
        raise InvalidTransition("Only a solved conversation can be rated.")
    now = timezone.now()
    conversation.csat_rating = rating
    conversation.csat_comment = comment.strip()[:2000]
    conversation.csat_at = now
    conversation.save(update_fields=["csat_rating", "csat_comment", "csat_at"])
    Touchpoint.objects.create(
        customer=conversation.customer,
        kind=Touchpoint.Kind.SUPPORT_CONTACT,
        channel=Channel.WEB,
        occurred_at=now,
        properties={
            "conversation": str(conversation.public_id),
            "csat": rating,
            "conversation_channel": conversation.channel,
        },
    )
    return conversation
