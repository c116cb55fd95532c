"""``manage.py setup_loyalty``: the loyalty programme and its tiers on a new database."""

from argparse import ArgumentTypeError
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from loyalty import services
from loyalty.models import Programme
from omni.core.errors import DomainError

TIER_FORMAT = "NAME:THRESHOLD:MULTIPLIER"


def tier(text: str) -> services.TierSpec:
    """``Silver:500:1.25``: the Silver tier, from 500 (spend or points), earning 1.25 times
    the base rate."""
    parts = text.rsplit(":", 2)
    try:
        name, threshold, multiplier = parts
        return services.TierSpec(name.strip(), Decimal(threshold), Decimal(multiplier))
    except (ValueError, InvalidOperation):
        raise ArgumentTypeError(f"write a tier as {TIER_FORMAT}, e.g. Silver:500:1.25") from None


def default_tier_text() -> str:
    return " ".join(f"{t.name}:{t.threshold}:{t.earn_multiplier}" for t in services.DEFAULT_TIERS)


class Command(BaseCommand):
    help = (
        "Set up the loyalty programme and its tiers, which a database needs before its first "
        "order when the demo is not loaded (customers join, earn and redeem under it). Safe to "
        "run again, e.g. on every deployment: a programme that exists is left as it is (change "
        "it in the admin, Loyalty > Programmes), and one without tiers gets them. The options "
        "only apply to what this run creates."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--name",
            default=services.DEFAULT_PROGRAMME_NAME,
            help=f"The programme's name (default {services.DEFAULT_PROGRAMME_NAME}).",
        )
        parser.add_argument(
            "--points-per-unit",
            type=Decimal,
            default=Decimal("1"),
            help="Points earned per unit of currency paid (default 1).",
        )
        parser.add_argument(
            "--point-value",
            type=Decimal,
            default=Decimal("0.01"),
            help="What one point is worth when redeemed, in the shop's currency (default 0.01).",
        )
        parser.add_argument(
            "--minimum-redemption",
            type=int,
            default=100,
            help="The fewest points redeemed at a time (default 100).",
        )
        parser.add_argument(
            "--pending-days",
            type=int,
            default=30,
            help="Earned points stay pending this long: the return window (default 30).",
        )
        parser.add_argument(
            "--expiry-days",
            type=int,
            default=365,
            help="Points expire this long after they become available (default 365).",
        )
        parser.add_argument(
            "--tier-basis",
            choices=Programme.TierBasis.values,
            default=Programme.TierBasis.SPEND,
            help="What tiers count over a rolling 12 months (default spend).",
        )
        parser.add_argument(
            "--tier",
            type=tier,
            action="append",
            metavar=TIER_FORMAT,
            help="A tier, lowest first; repeat for each. The first starts at 0. "
            f"Default: {default_tier_text()}.",
        )

    def handle(self, *args, **options):
        try:
            outcome = services.set_up_programme(
                name=options["name"],
                points_per_currency_unit=options["points_per_unit"],
                point_value=options["point_value"],
                minimum_redemption=options["minimum_redemption"],
                pending_days=options["pending_days"],
                expiry_days=options["expiry_days"],
                tier_basis=options["tier_basis"],
                tiers=options["tier"] or services.DEFAULT_TIERS,
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        self._report(outcome)

    def _report(self, outcome: services.ProgrammeSetUp) -> None:
        programme = outcome.programme
        if outcome.created:
            self.stdout.write(
                f'Created the programme "{programme.name}": '
                f"{programme.points_per_currency_unit} point(s) per unit of currency, "
                f"a point worth {programme.point_value}, "
                f"at least {programme.minimum_redemption} points per redemption, "
                f"pending {programme.pending_days} days, "
                f"expiring {programme.expiry_days} days after."
            )
        else:
            self.stdout.write(
                f'The programme "{programme.name}" is already set up: left as it is '
                "(change it in the admin, Loyalty > Programmes)."
            )
        for made in outcome.tiers_created:
            self.stdout.write(
                f"Created the tier {made.name} (rank {made.rank}): from {made.threshold}, "
                f"earning {made.earn_multiplier} times the base rate."
            )
        if not outcome.tiers_created:
            names = ", ".join(programme.tiers.order_by("rank").values_list("name", flat=True))
            self.stdout.write(f"Its tiers are already set up ({names}): left as they are.")
        self.stdout.write(self.style.SUCCESS("Loyalty is set up: customers can join and earn."))
