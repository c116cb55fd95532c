"""``manage.py compute_attribution --from 2026-03-01 --to 2026-03-31``: the attribution roll-up
of a date range, on demand (beat computes yesterday every night)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.reporting import attribution
from omni.core.errors import DomainError


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a day: write it YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "Credit the orders placed from --from to --to (both days included, TIME_ZONE) to "
        "channels, campaigns and stores by every attribution model, replacing those days' "
        "rows of the roll-up in one transaction. The look-back, half-life and position-based "
        "weights default to the ATTRIBUTION_* settings."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", required=True, help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="end", required=True, help="Last day, YYYY-MM-DD.")
        parser.add_argument(
            "--lookback-days", type=int, help="Days of touchpoints before an order."
        )
        parser.add_argument("--half-life-days", type=float, help="Half-life of the time decay.")
        parser.add_argument(
            "--position-weights",
            help="First, middle and last shares of the position-based model, e.g. 0.4,0.2,0.4.",
        )

    def handle(self, *args, **opts) -> None:
        weights = opts["position_weights"]
        try:
            run = attribution.compute_attribution(
                start=day(opts["start"]),
                end=day(opts["end"]),
                lookback_days=opts["lookback_days"],
                half_life_days=opts["half_life_days"],
                position_weights=weights.split(",") if weights else None,
            )
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"{run.start} to {run.end}: {run.orders:,} orders, {run.steps:,} journey steps, "
            f"{run.rows:,} roll-up rows written."
        )
        for part, seconds in run.seconds.items():
            self.stdout.write(f"{seconds:9.2f} s  {part}")
