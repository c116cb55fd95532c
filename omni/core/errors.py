"""Domain errors: services raise these; the API maps them to the one documented error shape."""

from typing import Any


class DomainError(Exception):
    """A business rule refused the request. ``code`` is stable and documented for clients."""

    code = "domain_error"
    http_status = 400

    def __init__(self, message: str, *, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class InvalidTransition(DomainError):
    """A state machine was asked for a move its rules do not allow."""

    code = "invalid_transition"
    http_status = 409


class InsufficientStock(DomainError):
    code = "insufficient_stock"
    http_status = 409


class Conflict(DomainError):
    """The request contradicts the current state (e.g. an idempotency key reused differently)."""

    code = "conflict"
    http_status = 409


class IdempotencyKeyReused(DomainError):
    """The key already belongs to a call with another body: its answer is not this one's.
    Raised by ``@idempotent`` (``omni.core.api.idempotency``) and by services that keep their
    own key, such as checkout."""

    code = "idempotency_key_reused"
    http_status = 422

    @classmethod
    def for_key(cls, key: str) -> "IdempotencyKeyReused":
        return cls(
            "This Idempotency-Key was already used for a different request; "
            "send a new key for a new request.",
            details={"key": key},
        )


class InvalidRequest(DomainError):
    """The request breaks a business rule before anything is changed (e.g. same-location move)."""

    code = "invalid_request"
    http_status = 400


class InvalidInput(DomainError):
    """A value a service was given cannot be used (an unparseable phone number, an unknown
    consent channel). ``details`` names the fields, like the API's own validation errors."""

    code = "validation_error"
    http_status = 400


class InvalidCredentials(DomainError):
    """Sign-in refused: unknown e-mail or wrong password (the two are not told apart)."""

    code = "invalid_credentials"
    http_status = 401


class PermissionRefused(DomainError):
    """The person asking lacks the right a rule requires (e.g. approving large adjustments)."""

    code = "permission_denied"
    http_status = 403


class InsufficientPoints(DomainError):
    code = "insufficient_points"
    http_status = 409


class InsufficientBalance(DomainError):
    """A stored-value card holds less than the payment asks for (nothing was taken)."""

    code = "insufficient_balance"
    http_status = 409


class CardBlocked(DomainError):
    """A loyalty card reported lost or stolen was presented."""

    code = "card_blocked"
    http_status = 403


class NotConfigured(DomainError):
    """Something staff must set up first (e.g. the loyalty programme) is missing."""

    code = "not_configured"
    http_status = 503


class PriceChanged(DomainError):
    """Prices moved since the cart was filled; the cart now shows the new ones."""

    code = "price_changed"
    http_status = 409


class PaymentDeclined(DomainError):
    code = "payment_declined"
    http_status = 402


class HoldLimitReached(DomainError):
    """A guest cart would hold more stock than guests may; signing in lifts the limit."""

    code = "hold_limit_reached"
    http_status = 409


class WrongPickupCode(DomainError):
    code = "wrong_pickup_code"
    http_status = 400


class PickupCodeLocked(DomainError):
    """Too many wrong pick-up codes: the hand-over waits for a manager to unlock it."""

    code = "pickup_code_locked"
    http_status = 403


class AlreadyShipped(DomainError):
    """A second report of a parcel, shipment or line that already left: its stock was taken
    once and is not taken again."""

    code = "already_shipped"
    http_status = 409


class OfferChanged(DomainError):
    """An offer or coupon the cart was priced with changed, ended or was used up before
    checkout; the cart now shows what applies (like ``PriceChanged`` for prices)."""

    code = "offer_changed"
    http_status = 409


class InvalidCoupon(DomainError):
    """A code that cannot be used here and now; ``details.reason`` says why (unknown,
    not_yours, not_started, ended, channel, where, store, used_up...)."""

    code = "invalid_coupon"
    http_status = 400


class TooManyAttempts(DomainError):
    """Too many refused attempts from one person or place in a while (codes guessed at a
    till): refused until the window passes."""

    code = "too_many_attempts"
    http_status = 429
