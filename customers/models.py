"""One profile per person: identities that find it, consents, touchpoints, service conversations,
and the records of merges and erasures. Also the credentials storefronts and customers use."""

import uuid
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from omni.core.channels import Channel

# Re-exported: services, selectors and the demo hash keys and tokens with it.
from omni.core.credentials import hash_secret as hash_secret


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/Paris).")


class Customer(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True, db_index=True, help_text="Contact e-mail, lower-case.")
    phone = models.CharField(max_length=20, blank=True, db_index=True, help_text="E.164 format.")
    birthday = models.DateField(null=True, blank=True)
    preferred_store_code = models.CharField(
        max_length=32, blank=True, help_text="Code of the customer's usual store, e.g. PAR-RIV."
    )
    first_seen_channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    time_zone = models.CharField(
        max_length=64, blank=True, validators=[validate_time_zone], help_text="e.g. Europe/Paris"
    )
    password = models.CharField(
        max_length=128, blank=True, editable=False, help_text="Hash; empty for guests."
    )
    erased_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Personal data erased on request."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            # Viewing one profile is not taking the whole list home: exporting is its own right.
            ("export_customers", "Can export customers' data from the back-office"),
        ]

    def __str__(self) -> str:
        if self.erased_at:
            return f"Erased customer {self.public_id}"
        return self.full_name or self.email or self.phone or str(self.public_id)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def has_account(self) -> bool:
        """Signed up with a password (guests and store-only customers have none)."""
        return bool(self.password) and not self.password.startswith("!")


class Identity(models.Model):
    """A way a customer is recognised; each (kind, value) belongs to exactly one customer."""

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Phone"
        LOYALTY_CARD = "loyalty_card", "Loyalty card"
        DEVICE = "device", "App or device id"
        ANONYMOUS = "anonymous", "Web anonymous id"
        EXTERNAL = "external", "External system id"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(
        max_length=255, help_text="Normalised (lower-case e-mail, E.164 phone)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="identity_kind_value_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"


class ContactChannel(models.TextChoices):
    """Where a message can reach a customer (not where they shop: see ``omni.core.channels``)."""

    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    PUSH = "push", "Push notification"
    PHONE = "phone", "Phone call"
    POST = "post", "Post"
    IN_APP = "in_app", "In-app message"


class ConsentPurpose(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    PERSONALISATION = "personalisation", "Personalisation"
    ANALYTICS = "analytics", "Analytics"
    # Hashed e-mails and phones uploaded to advertising platforms as audiences.
    ADVERTISING = "advertising", "Advertising audiences"


class Consent(models.Model):
    """One decision of the customer, appended to the history; the latest row per
    (channel, purpose) is the current state, and no row means no consent."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(max_length=16, choices=ContactChannel.choices)
    purpose = models.CharField(max_length=16, choices=ConsentPurpose.choices)
    granted = models.BooleanField()
    source_channel = models.CharField(
        max_length=16, choices=Channel.choices, help_text="Where the customer said it."
    )
    recorded_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member who recorded it, when given in person or by phone.",
    )

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [
            # The latest row per (customer, channel, purpose) is one index probe.
            models.Index(
                fields=["customer", "channel", "purpose", "-recorded_at", "-id"],
                name="consent_latest_idx",
            ),
        ]

    def __str__(self) -> str:
        verb = "granted" if self.granted else "withdrew"
        return f"{verb} {self.get_channel_display()} {self.get_purpose_display()}"


class Touchpoint(models.Model):
    """Something a customer (or a not yet known visitor) did, in any channel.

    Products, stores and campaigns are referred to by their public codes so that this table
    depends on no other app and can be partitioned by time on its own.
    """

    class Kind(models.TextChoices):
        PAGE_VIEW = "page_view", "Page view"
        PRODUCT_VIEW = "product_view", "Product view"
        SEARCH = "search", "Search"
        ADD_TO_CART = "add_to_cart", "Add to cart"
        AD_CLICK = "ad_click", "Ad click"
        EMAIL_OPEN = "email_open", "E-mail opened"
        EMAIL_CLICK = "email_click", "E-mail link clicked"
        QR_SCAN = "qr_scan", "QR code scanned"
        STORE_VISIT = "store_visit", "Store visit"
        SUPPORT_CONTACT = "support_contact", "Support contact"
        PURCHASE = "purchase", "Purchase"
        # Written only by ``services.answer_survey`` (never ingested from a storefront): the
        # satisfaction report trusts its properties {scale, score, comment, order_number...}.
        SURVEY_ANSWER = "survey_answer", "Survey answer"

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="touchpoints"
    )
    anonymous_id = models.CharField(
        max_length=128, blank=True, help_text="Web anonymous id or app device id, as sent."
    )
    event_id = models.CharField(
        max_length=64, blank=True, help_text="Sender's id for the event; a resend is ignored."
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    url = models.CharField(max_length=2048, blank=True)
    sku_code = models.CharField(max_length=64, blank=True)
    product_code = models.CharField(max_length=64, blank=True)
    store_code = models.CharField(max_length=32, blank=True)
    campaign_code = models.CharField(max_length=64, blank=True)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    utm_term = models.CharField(max_length=100, blank=True)
    utm_content = models.CharField(max_length=100, blank=True)
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="touchpoint_customer_idx"),
            models.Index(fields=["occurred_at"], name="touchpoint_occurred_idx"),
            # Only the events still waiting for their visitor to be recognised.
            models.Index(
                fields=["anonymous_id"],
                condition=models.Q(customer__isnull=True),
                name="touchpoint_unlinked_idx",
            ),
            # The satisfaction report reads a date range of survey answers only.
            models.Index(
                fields=["occurred_at"],
                condition=models.Q(kind="survey_answer"),
                name="touchpoint_survey_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "event_id"],
                condition=~models.Q(event_id=""),
                name="touchpoint_event_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.get_channel_display()} at {self.occurred_at}"


class MessageChannel(models.TextChoices):
    """Where a service message came from or went to. ``app`` is the customer's own account
    (website or app, through the API); ``note`` is staff writing for staff, on no channel."""

    EMAIL = "email", "E-mail"
    CHAT = "chat", "Chat"
    SOCIAL = "social", "Social media"
    PHONE = "phone", "Phone"
    STORE = "store", "In store"
    APP = "app", "Website or app"
    NOTE = "note", "Internal"


class Conversation(models.Model):
    """One customer question, from its first message to its answer, whatever the channels its
    messages took: any agent (admin) or clerk (store) can read it and pick it up.

    Status: open (the customer waits for us), waiting (we answered, the customer's turn),
    solved. An inbound message reopens it; a reply puts it in waiting; see
    ``customers.services.conversations`` for every change."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WAITING = "waiting", "Waiting for the customer"
        SOLVED = "solved", "Solved"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="conversations")
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The agent or clerk who looks after it; none until someone takes it.",
    )
    channel = models.CharField(
        max_length=16, choices=MessageChannel.choices, help_text="Where it started."
    )
    thread_id = models.CharField(
        max_length=255,
        blank=True,
        help_text="The integrating tool's id for the thread (e-mail thread, chat session).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    csat_rating = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name="CSAT rating", help_text="1 (bad) to 5 (great)."
    )
    csat_comment = models.TextField(blank=True, verbose_name="CSAT comment")
    csat_at = models.DateTimeField(null=True, blank=True, verbose_name="rated at")

    class Meta:
        ordering = ["-updated_at", "-id"]
        permissions = [
            ("reply_conversation", "Can reply to customers in service conversations"),
        ]
        indexes = [
            models.Index(fields=["customer", "-updated_at"], name="conversation_customer_idx"),
            models.Index(fields=["status", "-updated_at"], name="conversation_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "thread_id"],
                condition=~models.Q(thread_id=""),
                name="conversation_thread_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(csat_rating__isnull=True)
                | models.Q(csat_rating__gte=1, csat_rating__lte=5),
                name="conversation_csat_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.SOLVED


class ConversationMessage(models.Model):
    """One message of a conversation: from the customer (inbound), to them (outbound, with
    its outbox row, or waiting for the integrating tool to deliver it on chat or social), or
    an internal note staff write for staff (never shown to the customer)."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", "From the customer"
        OUTBOUND = "outbound", "To the customer"
        NOTE = "note", "Internal note"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    direction = models.CharField(max_length=16, choices=Direction.choices)
    channel = models.CharField(max_length=16, choices=MessageChannel.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member who wrote it; none for the customer's own messages.",
    )
    body = models.TextField()
    external_id = models.CharField(
        max_length=255,
        blank=True,
        help_text="The integrating tool's id for the message; a redelivery is ignored.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    notification = models.ForeignKey(
        "Notification",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The outbox row that carries a reply.",
    )
    delivered_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Chat or social reply: when the integrating tool said it delivered it.",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="conv_message_idx"),
            # Only the replies the integrating tool still has to deliver.
            models.Index(
                fields=["created_at"],
                condition=models.Q(
                    direction="outbound", channel__in=["chat", "social"], delivered_at=None
                ),
                name="conv_message_to_deliver_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~models.Q(external_id=""),
                name="conv_message_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} on {self.get_channel_display()}"


class CustomerExport(models.Model):
    """Who downloaded which customers' data from the back-office, when, and how they chose
    them: the audit trail of staff exports (written by ``services.export_customers`` only)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        # The record outlives nothing it names: deactivate staff accounts rather than delete.
        on_delete=models.PROTECT,
        related_name="+",
    )
    exported_at = models.DateTimeField()
    row_count = models.PositiveIntegerField(help_text="How many customers the file held.")
    query = models.CharField(
        max_length=1000,
        blank=True,
        help_text="How the customers were chosen: the admin's search and filters, and whether "
        "every matching customer or only the ticked rows.",
    )
    customer_public_ids = models.JSONField(
        default=list, help_text="Public ids of the exported customers."
    )

    class Meta:
        ordering = ["-exported_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.row_count} customers exported by {self.actor} at {self.exported_at}"


class CustomerMerge(models.Model):
    """Two profiles found to be one person: the survivor kept, the other's rows moved to it."""

    survivor = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges")
    merged_public_id = models.UUIDField(unique=True, help_text="Public id of the merged profile.")
    cause = models.CharField(max_length=200, help_text="What found the two to be one person.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member who merged them, if a person did.",
    )
    moved = models.JSONField(default=dict, help_text="Rows moved, per model.")
    merged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-merged_at"]

    def __str__(self) -> str:
        return f"{self.merged_public_id} into {self.survivor_id}"


class ErasureRecord(models.Model):
    """Proof that a customer's personal data was erased, and what had to be kept."""

    customer = models.OneToOneField(
        Customer, on_delete=models.SET_NULL, null=True, related_name="erasure"
    )
    customer_public_id = models.UUIDField(unique=True)
    requested_via = models.CharField(max_length=40, help_text="e.g. api:web, admin")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    erased = models.JSONField(default=dict, help_text="Rows anonymised or deleted, per model.")
    kept = models.JSONField(
        default=dict, help_text="Rows kept because the law requires, per model."
    )
    erased_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"Erasure of {self.customer_public_id}"


class StorefrontKey(models.Model):
    """The API key a storefront app (web, iOS, Android, store) sends as ``X-Api-Key``.
    Only its hash is stored; the key itself is shown once, when it is created."""

    name = models.CharField(max_length=100)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_display()}, {self.prefix}…)"


class SignUpRequest(models.Model):
    """A sign-up waiting for proof that the e-mail address is the caller's.

    Sign-up never signs in: it records this request and e-mails a single-use, expiring link
    (``verify``), or, when the address already has an account, tells its owner so
    (``account_exists``, no link). Only following the link with the password chosen at
    sign-up opens the account, joining a store or guest profile the address already has.
    Rows are deleted once expired (a daily task), so the names and hash do not linger.
    """

    class Kind(models.TextChoices):
        VERIFY = "verify", "Verification link sent"
        ACCOUNT_EXISTS = "account_exists", "Owner told an account exists"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    email = models.EmailField(db_index=True, help_text="Normalised, lower-case.")
    password = models.CharField(max_length=128, blank=True, help_text="Hash, set at sign-up.")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    anonymous_id = models.CharField(max_length=128, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    email_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Wrong passwords sent with the link; too many and it is dead."
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sign_up_requests",
        help_text="The account the confirmed link opened.",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["expires_at"], name="sign_up_expiry_idx")]

    def __str__(self) -> str:
        return f"Sign-up {self.public_id} ({self.get_kind_display()})"


class CustomerToken(models.Model):
    """A signed-in customer's bearer token. Only the hash is kept.

    It works until the customer signs out (here or everywhere), changes their password, is
    merged into another profile or erased, or staff revoke it; each of these deletes the row,
    so a revoked token is indistinguishable from one never issued. It also expires: after
    ``CUSTOMER_TOKEN_IDLE_DAYS`` without use, and ``CUSTOMER_TOKEN_MAX_DAYS`` after sign-in
    however much it is used. Expired rows are purged daily.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tokens")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(
        default=timezone.now, help_text="Recorded at most every few minutes."
    )

    def __str__(self) -> str:
        return f"Token of {self.customer_id} on {self.channel}"

    @property
    def expires_at(self) -> datetime:
        """The earlier of the idle limit (moved by each use) and the absolute cap."""
        return min(
            self.last_used_at + timedelta(days=settings.CUSTOMER_TOKEN_IDLE_DAYS),
            self.created_at + timedelta(days=settings.CUSTOMER_TOKEN_MAX_DAYS),
        )

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


class Notification(models.Model):
    """One message to a customer in the outbox: queued (or waiting), then sent, failed or
    suppressed.

    Every app writes here through ``customers.notifications.notify``; a row is never deleted,
    so the outbox is also the record of what was sent and of what was held back and why.
    """

    class Channel(models.TextChoices):
        EMAIL = ContactChannel.EMAIL.value, ContactChannel.EMAIL.label
        SMS = ContactChannel.SMS.value, ContactChannel.SMS.label
        PUSH = ContactChannel.PUSH.value, ContactChannel.PUSH.label

    class Kind(models.TextChoices):
        TRANSACTIONAL = "transactional", "Transactional (service message)"
        MARKETING = "marketing", "Marketing"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        WAITING = "waiting", "Waiting (quiet hours or scheduled)"
        SENT = "sent", "Sent"
        SUPPRESSED = "suppressed", "Suppressed"
        FAILED = "failed", "Failed"

    class SuppressionReason(models.TextChoices):
        """Why a message did not go (suppressed), or does not go yet (waiting)."""

        NO_CONSENT = "no_consent", "No consent for this channel and purpose"
        ERASED = "erased", "Customer's data erased"
        NO_ADDRESS = "no_address", "No address for this channel"
        CAPPED = "capped", "Over a frequency cap"
        SUPPRESSED = "suppressed", "Address on the suppression list"
        QUIET_HOURS = "quiet_hours", "Quiet hours in the customer's time zone (waits)"
        SCHEDULED = "scheduled", "Scheduled for later (waits)"
        WITHDRAWN = "withdrawn", "Withdrawn before it left (e.g. its campaign was cancelled)"

    # Null only on rows written before tracking links existed; every new row has one.
    public_id = models.UUIDField(
        default=uuid.uuid4, null=True, unique=True, editable=False, help_text="Used in links."
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    purpose = models.CharField(
        max_length=16,
        choices=ConsentPurpose.choices,
        blank=True,
        help_text="The consent a marketing message needs; empty for transactional messages.",
    )
    topic = models.CharField(
        max_length=64, help_text="What the message is about, e.g. loyalty.points_expiring."
    )
    source = models.CharField(
        max_length=100,
        blank=True,
        db_index=True,
        help_text="What produced the message, e.g. campaign:<uuid>.",
    )
    recipient = models.CharField(
        max_length=255, blank=True, help_text="The address it was sent to (e-mail, phone, device)."
    )
    subject = models.CharField(max_length=255, blank=True, help_text="For push: the title.")
    body = models.TextField()
    html_body = models.TextField(blank=True, help_text="E-mail only: the HTML alternative.")
    context = models.JSONField(default=dict, blank=True, help_text="Data the message was made of.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    suppression_reason = models.CharField(
        max_length=16, choices=SuppressionReason.choices, blank=True, verbose_name="reason"
    )
    respect = models.CharField(
        max_length=200,
        blank=True,
        help_text="Which of the customer's protections applied to this message.",
    )
    send_after = models.DateTimeField(
        null=True, blank=True, help_text="A waiting message is released at this time."
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    provider_id = models.CharField(
        max_length=255, blank=True, help_text="The provider's id for the sent message."
    )
    idempotency_key = models.CharField(
        max_length=200, unique=True, help_text="The same notice is never queued twice."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True, help_text="First open seen.")
    clicked_at = models.DateTimeField(null=True, blank=True, help_text="First click seen.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="notification_customer_idx"),
            models.Index(fields=["topic", "-created_at"], name="notification_topic_idx"),
            # Only the few rows still waiting for delivery (to find lost ones).
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="queued"),
                name="notification_queued_idx",
            ),
            # Only the rows waiting for their time (quiet hours, scheduled), by that time.
            models.Index(
                fields=["send_after"],
                condition=models.Q(status="waiting"),
                name="notification_waiting_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="suppressed") | ~models.Q(suppression_reason=""),
                name="notification_suppressed_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="marketing") | ~models.Q(purpose=""),
                name="notification_marketing_has_purpose",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="waiting") | models.Q(send_after__isnull=False),
                name="notification_waiting_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} by {self.get_channel_display()} ({self.get_status_display()})"


class FrequencyCap(models.Model):
    """At most ``max_messages`` marketing messages per ``period_days`` to one customer, on one
    channel or (channel blank) on all together. Every cap holds at once; staff set them in the
    admin. Transactional messages are not counted and never capped."""

    channel = models.CharField(
        max_length=16,
        choices=Notification.Channel.choices,
        blank=True,
        help_text="Leave blank to count every channel together.",
    )
    max_messages = models.PositiveSmallIntegerField()
    period_days = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["channel", "period_days"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_messages__gte=1), name="frequency_cap_max_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(period_days__gte=1), name="frequency_cap_period_positive"
            ),
        ]

    def __str__(self) -> str:
        where = self.get_channel_display() if self.channel else "all channels"
        return f"{self.max_messages} per {self.period_days} days on {where}"


class SuppressedAddress(models.Model):
    """An address no marketing message goes to, whoever it belongs to: an e-mail (lower-case)
    or a phone number (E.164). Staff add them; a hard bounce from a provider adds one too."""

    class Reason(models.TextChoices):
        STAFF = "staff", "Added by staff"
        HARD_BOUNCE = "hard_bounce", "Hard bounce"
        COMPLAINT = "complaint", "Spam complaint"

    address = models.CharField(max_length=255, unique=True, help_text="Normalised address.")
    reason = models.CharField(max_length=16, choices=Reason.choices, default=Reason.STAFF)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "suppressed addresses"

    def __str__(self) -> str:
        return self.address
