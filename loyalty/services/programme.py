"""The programme a customer joins, its entry tier, setting them up, and joining the programme
(an account with a card)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from customers.models import Customer
from loyalty.locks import lock_account
from loyalty.models import Account, Programme, Tier
from loyalty.services.cards import issue_card
from omni.core.errors import Conflict, InvalidInput, NotConfigured

YEAR = timedelta(days=365)
NOT_SET_UP = (
    "No loyalty programme is set up yet: run `python manage.py setup_loyalty`, or add one in "
    "the admin (Loyalty > Programmes)."
)


@dataclass(frozen=True)
class TierSpec:
    """A tier to set up: reached at ``threshold`` (spend or points over 12 months)."""

    name: str
    threshold: Decimal
    earn_multiplier: Decimal


DEFAULT_PROGRAMME_NAME = "Omni Rewards"
DEFAULT_TIERS = (
    TierSpec("Member", Decimal("0"), Decimal("1.00")),
    TierSpec("Silver", Decimal("500"), Decimal("1.25")),
    TierSpec("Gold", Decimal("1500"), Decimal("1.50")),
)


@dataclass(frozen=True)
class ProgrammeSetUp:
    """What ``set_up_programme`` found and made: the programme, whether it made it, and the
    tiers it made (none when the programme already had its tiers)."""

    programme: Programme
    created: bool
    tiers_created: list[Tier] = field(default_factory=list)


def current_programme() -> Programme:
    programme = Programme.objects.order_by("pk").first()
    if programme is None:
        raise NotConfigured(NOT_SET_UP)
    return programme


def is_set_up() -> bool:
    """Whether customers can join: the current programme exists and has its entry tier."""
    current = Programme.objects.order_by("pk").values("pk")[:1]
    return Tier.objects.filter(programme__in=current).exists()


@transaction.atomic
def set_up_programme(
    *,
    name: str = DEFAULT_PROGRAMME_NAME,
    points_per_currency_unit: Decimal = Decimal("1"),
    point_value: Decimal = Decimal("0.01"),
    minimum_redemption: int = 100,
    pending_days: int = 30,
    expiry_days: int = 365,
    tier_basis: str = Programme.TierBasis.SPEND,
    tiers: Sequence[TierSpec] = DEFAULT_TIERS,
) -> ProgrammeSetUp:
    """The loyalty programme and its tiers, made once; safe to run again. A programme that
    already exists is never changed here (its values and tiers are the admin's, changed with
    their model permissions); one without tiers (made in the admin) gets ``tiers``. The values
    are checked before anything is written: bad ones raise ``InvalidInput`` naming them."""
    values = {
        "points_per_currency_unit": points_per_currency_unit,
        "point_value": point_value,
        "minimum_redemption": minimum_redemption,
        "pending_days": pending_days,
        "expiry_days": expiry_days,
        "tier_basis": tier_basis,
    }
    _check(Programme(name=name, **values), "The programme's values cannot be used")
    _check_tiers(tiers)
    programme = Programme.objects.order_by("pk").first()
    created = False
    if programme is None:  # two runs at once: the unique name lets one of them create it
        programme, created = Programme.objects.get_or_create(name=name, defaults=values)
    if programme.tiers.exists():
        return ProgrammeSetUp(programme, created)
    made = [
        Tier.objects.create(
            programme=programme,
            rank=rank,
            name=tier.name,
            threshold=tier.threshold,
            earn_multiplier=tier.earn_multiplier,
        )
        for rank, tier in enumerate(tiers)
    ]
    return ProgrammeSetUp(programme, created, made)


def _check(row: Programme | Tier, refusal: str, *, exclude: Sequence[str] = ()) -> None:
    """The model's own field checks (blank, digits, minimums), as ``InvalidInput``."""
    try:
        row.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        problems = "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
        )
        raise InvalidInput(f"{refusal}: {problems}", details=error.message_dict) from None


def _check_tiers(tiers: Sequence[TierSpec]) -> None:
    """Tiers in rank order: the first is where every member starts (threshold 0), each next
    one asks for more, and no name comes twice."""
    problem = _tier_problem(tiers)
    if problem:
        raise InvalidInput(problem, details={"tiers": [problem]})
    for rank, tier in enumerate(tiers):
        _check(
            Tier(
                rank=rank,
                name=tier.name,
                threshold=tier.threshold,
                earn_multiplier=tier.earn_multiplier,
            ),
            f"The tier {tier.name} cannot be used",
            exclude=["programme"],
        )


def _tier_problem(tiers: Sequence[TierSpec]) -> str | None:
    if not tiers:
        return "Give at least one tier: the one every member starts in."
    if tiers[0].threshold != 0:
        return "The first tier starts at 0: every member is in it from the day they join."
    names = [tier.name.strip() for tier in tiers]
    if not all(names):
        return "Every tier needs a name."
    if len(set(names)) != len(names):
        return "A tier name comes twice; each tier needs its own."
    if any(later.threshold <= earlier.threshold for earlier, later in pairwise(tiers)):
        return "Tier thresholds must increase from one tier to the next."
    if any(tier.earn_multiplier < 0 for tier in tiers):
        return "A tier's earn multiplier cannot be negative."
    return None


def entry_tier(programme: Programme) -> Tier:
    tier = programme.tiers.order_by("rank").first()
    if tier is None:
        raise NotConfigured(
            f"The programme {programme} has no tiers: run `python manage.py setup_loyalty`, "
            "or add them in the admin (Loyalty > Programmes)."
        )
    return tier


@transaction.atomic
def enrol(*, customer: Customer) -> Account:
    """The customer's account, created with a card on first use (safe to call again).
    An erased customer is not enrolled: a new card would identify them again."""
    existing = Account.objects.filter(customer=customer).first()
    if existing:
        return existing
    if customer.erased_at is not None:
        raise Conflict("An erased customer cannot join the loyalty programme.")
    programme = current_programme()
    account, created = Account.objects.get_or_create(
        customer=customer,
        defaults={
            "programme": programme,
            "tier": entry_tier(programme),
            "tier_anniversary": (timezone.now() + YEAR).date(),
        },
    )
    if created:
        issue_card(account)
    return account


def enrolled_and_locked(customer: Customer) -> Account:
    """The customer's account (enrolled on first use), locked for a points movement."""
    return lock_account(enrol(customer=customer).pk)
