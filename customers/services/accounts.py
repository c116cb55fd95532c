"""Customer accounts: sign-up by e-mail link, sign-in, sign-out, password change."""

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from customers.locks import (
    lock_customer,
    lock_sign_up_link,
    lock_sign_up_request,
    lock_sign_up_requests_for,
)
from customers.models import Customer, CustomerToken, Identity, SignUpRequest
from customers.normalise import normalise_email, normalise_identity, normalise_phone
from customers.services.credentials import issue_customer_token, revoke_customer_tokens
from customers.services.profile import update_profile
from customers.services.resolution import _attach_identities, anonymous_kind, resolve_customer
from omni.core.errors import Conflict, InvalidCredentials, InvalidInput, InvalidRequest


@dataclass(frozen=True)
class SignedIn:
    customer: Customer
    token: str
    created: bool


# Wrong passwords sent with one sign-up link before the link stops working.
MAX_SIGN_UP_CONFIRM_ATTEMPTS = 5
SIGN_UP_TOKEN_SALT = "customers.sign-up"
INVALID_SIGN_UP_LINK = "This link is not valid any more (used, expired or mistyped): sign up again."


def _check_new_password(password: str) -> None:
    try:
        validate_password(password)
    except ValidationError as error:
        raise InvalidInput(
            "The password is too weak.", details={"password": error.messages}
        ) from None


@transaction.atomic
def request_sign_up(
    *,
    email: str,
    password: str,
    channel: str,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    anonymous_id: str = "",
    now: datetime | None = None,
) -> SignUpRequest:
    """Ask to open an account: e-mail the address a link that proves it is the caller's.

    Nothing is signed in and no profile changes here, and the caller learns nothing about the
    address: known or not, the same checks run (the password is hashed either way) and one
    e-mail leaves. An address without an account (new, or a store or guest profile) gets the
    link; an address with an account gets a notice to its owner instead, with no link.
    Input that is wrong whatever the address (a weak password, a bad phone) is refused.
    """
    now = now or timezone.now()
    email = normalise_email(email)
    _check_new_password(password)
    if phone:
        phone = normalise_phone(phone)
    password_hash = make_password(password)
    owner = (
        Customer.objects.filter(
            identities__kind=Identity.Kind.EMAIL, identities__value=email, erased_at=None
        )
        .only("password")
        .first()
    )
    has_account = owner is not None and owner.has_account
    request = SignUpRequest.objects.create(
        kind=SignUpRequest.Kind.ACCOUNT_EXISTS if has_account else SignUpRequest.Kind.VERIFY,
        email=email,
        password="" if has_account else password_hash,
        first_name="" if has_account else first_name[:100],
        last_name="" if has_account else last_name[:100],
        phone="" if has_account else phone,
        anonymous_id="" if has_account else anonymous_id[:128],
        channel=channel,
        expires_at=now + timedelta(hours=settings.SIGN_UP_LINK_HOURS),
    )
    transaction.on_commit(lambda: _enqueue_sign_up_email(request.pk), robust=True)
    return request


def _enqueue_sign_up_email(request_id: int) -> None:
    from customers.tasks import send_sign_up_email  # the task module imports this one

    send_sign_up_email.delay(request_id)


def sign_up_token(request: SignUpRequest) -> str:
    """The secret of a sign-up link: the request's id signed with ``SECRET_KEY``. Nothing
    stored is enough to forge it; ``confirm_sign_up`` makes it single-use."""
    return signing.dumps(str(request.public_id), salt=SIGN_UP_TOKEN_SALT)


def send_sign_up_email(*, request_id: int, now: datetime | None = None) -> bool:
    """E-mail the link (or the "you already have an account" notice) once; returns whether
    it was sent now. A failing mail server raises, and the task tries again."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            request = lock_sign_up_request(request_id)
        except SignUpRequest.DoesNotExist:  # purged before its task ran
            return False
        if request.email_sent_at or request.expires_at <= now:
            return False
        subject, body = _sign_up_email(request)
        send_mail(
            subject=subject,
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[request.email],
            fail_silently=False,
        )
        request.email_sent_at = now
        request.save(update_fields=["email_sent_at"])
    return True


def _sign_up_email(request: SignUpRequest) -> tuple[str, str]:
    if request.kind == SignUpRequest.Kind.ACCOUNT_EXISTS:
        return (
            "You already have an account",
            "Someone, maybe you, asked to open an account with this e-mail address. You "
            "already have one: sign in with it.\n\nIf it was not you, there is nothing to "
            "do: your account has not changed.",
        )
    # Never None here: omni/settings.py refuses to start without a URL holding "{token}".
    confirm_url = cast(str, settings.SIGN_UP_CONFIRM_URL)
    link = confirm_url.format(token=sign_up_token(request))
    return (
        "Confirm your e-mail address",
        f"To open your account, follow this link within {settings.SIGN_UP_LINK_HOURS} hours "
        f"and enter the password you chose:\n\n{link}\n\nIf you did not ask for an account, "
        "ignore this e-mail: nothing happens without this link.",
    )


def confirm_sign_up(*, token: str, password: str, now: datetime | None = None) -> SignedIn:
    """Open the account a sign-up link was sent for, and sign in.

    The link proves the address; the password chosen at sign-up proves that whoever follows
    it is whoever signed up, so a link that reached someone who never asked opens nothing.
    The address's store or guest profile, if any, becomes the account (``resolve_customer``).
    A link works once, until it expires, and dies after a few wrong passwords; each wrong
    password is counted even though the call is refused.
    """
    now = now or timezone.now()
    try:
        public_id = signing.loads(
            token, salt=SIGN_UP_TOKEN_SALT, max_age=timedelta(hours=settings.SIGN_UP_LINK_HOURS)
        )
    except signing.BadSignature:  # also SignatureExpired
        raise InvalidRequest(INVALID_SIGN_UP_LINK, details={"token": ["Not valid."]}) from None
    with transaction.atomic():
        request = lock_sign_up_link(public_id)
        if (
            request is None
            or request.confirmed_at is not None
            or request.expires_at <= now
            or request.failed_attempts >= MAX_SIGN_UP_CONFIRM_ATTEMPTS
        ):
            raise InvalidRequest(INVALID_SIGN_UP_LINK, details={"token": ["Not valid."]})
        right_password = check_password(password, request.password)
        if not right_password:
            request.failed_attempts += 1
            request.save(update_fields=["failed_attempts"])
    # Raised after the block so that the count above is committed.
    if not right_password:
        raise InvalidCredentials(
            "This is not the password chosen at sign-up.",
            details={"attempts_left": MAX_SIGN_UP_CONFIRM_ATTEMPTS - request.failed_attempts},
        )
    return _open_account(request_id=request.pk, now=now)


@transaction.atomic
def _open_account(*, request_id: int, now: datetime) -> SignedIn:
    email = SignUpRequest.objects.filter(pk=request_id).values_list("email", flat=True).first()
    pending = lock_sign_up_requests_for(email) if email else []
    request = next((each for each in pending if each.pk == request_id), None)
    if request is None:
        # Confirmed or voided meanwhile: another link for this address was followed first.
        raise InvalidRequest(INVALID_SIGN_UP_LINK, details={"token": ["Already used."]})
    resolution = resolve_customer(
        identities=[(Identity.Kind.EMAIL, request.email)],
        channel=request.channel,
        cause="sign-up (address confirmed)",
    )
    customer = lock_customer(resolution.customer)
    if customer.has_account:
        # Another link for this address was confirmed first; this one has nothing to open.
        raise Conflict(
            "This e-mail address already has an account: sign in.",
            details={"email": ["Already has an account."]},
        )
    if request.anonymous_id:
        kind = anonymous_kind(request.channel)
        customer = _attach_identities(
            customer,
            [(kind, normalise_identity(kind, request.anonymous_id))],
            cause=f"sign-up on {request.channel}",
            actor=None,
            merge_accounts=False,
        )
    # Only what the form filled in: a store profile's known names are not blanked.
    names = {
        name: value
        for name, value in (("first_name", request.first_name), ("last_name", request.last_name))
        if value
    }
    if names:
        customer = update_profile(customer=customer, changes=names)
    if request.phone:
        # A phone that is someone else's stays out: joining two people is a merge staff decide.
        with suppress(Conflict):
            customer = update_profile(customer=customer, changes={"phone": request.phone})
    customer.password = request.password
    customer.save(update_fields=["password", "updated_at"])
    request.confirmed_at = now
    request.customer = customer
    request.password = ""
    request.save(update_fields=["confirmed_at", "customer", "password"])
    # The address is proven and has its account: other pending links for it are void.
    SignUpRequest.objects.filter(email=request.email, confirmed_at=None).delete()
    token = issue_customer_token(customer=customer, channel=request.channel)
    return SignedIn(customer=customer, token=token, created=resolution.created)


def purge_expired_sign_up_requests(*, now: datetime | None = None) -> int:
    """Delete sign-up requests past their expiry (their names and password hash with them)."""
    now = now or timezone.now()
    return SignUpRequest.objects.filter(expires_at__lte=now).delete()[0]


@transaction.atomic
def sign_in(*, email: str, password: str, channel: str, anonymous_id: str = "") -> SignedIn:
    """A token for the account of this e-mail. An ``anonymous_id`` sent along is the visitor's
    browser or device: it joins the account, and a guest profile it belonged to merges."""
    try:
        email = normalise_email(email)
    except InvalidInput:
        email = ""
    customer = (
        Customer.objects.filter(
            identities__kind=Identity.Kind.EMAIL, identities__value=email, erased_at=None
        ).first()
        if email
        else None
    )
    if customer is None or not customer.has_account:
        make_password(password)  # as slow as a real check, so unknown e-mails do not show
        raise InvalidCredentials("Wrong e-mail or password.")
    if not check_password(password, customer.password):
        raise InvalidCredentials("Wrong e-mail or password.")
    if anonymous_id:
        customer = _attach_identities(
            customer,
            [(anonymous_kind(channel), normalise_identity(anonymous_kind(channel), anonymous_id))],
            cause=f"sign-in on {channel}",
            actor=None,
            merge_accounts=False,
        )
    token = issue_customer_token(customer=customer, channel=channel)
    return SignedIn(customer=customer, token=token, created=False)


@transaction.atomic
def sign_out(*, token: CustomerToken) -> None:
    CustomerToken.objects.filter(pk=token.pk).delete()


@transaction.atomic
def change_password(
    *,
    customer: Customer,
    current_password: str,
    new_password: str,
    keep: CustomerToken | None = None,
) -> Customer:
    """Set a new password, proven by the current one and checked by Django's validators.
    Every token of the customer is revoked except ``keep`` (the caller's own), so a device
    that knew only the old password, or held a stolen token, is signed out."""
    customer = lock_customer(customer)
    if not customer.has_account or not check_password(current_password, customer.password):
        raise InvalidInput(
            "The current password is wrong.",
            details={"current_password": ["The current password is wrong."]},
        )
    try:
        # The validators read what a customer shares with a user (names, e-mail) to refuse a
        # password made of them; Django types the argument as its user model only.
        validate_password(new_password, user=customer)  # type: ignore[arg-type]
    except ValidationError as error:
        raise InvalidInput(
            "The new password is too weak.", details={"new_password": error.messages}
        ) from None
    customer.password = make_password(new_password)
    customer.save(update_fields=["password", "updated_at"])
    revoke_customer_tokens(customer=customer, keep=keep)
    return customer
