"""Fit the customer lifetime value models and rewrite every buyer's value now (beat does it
nightly: campaigns.compute_customer_values)."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.reporting import clv
from omni.core.errors import DomainError


def rate(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CommandError(
            f"--discount-rate must be a number such as 0.10, not {text!r}."
        ) from None


class Command(BaseCommand):
    help = (
        "Fit the BG/NBD (repeat purchases) and Gamma-Gamma (spend) models by maximum likelihood "
        "on every purchase to date, then write each buyer's historical and predicted value "
        "(CustomerValue) and the fit with its calibration report (ClvFit), replacing the last "
        "run. Refused, with nothing changed, when there is too little history or a fit fails. "
        "Defaults come from CLV_HORIZON_DAYS, CLV_DISCOUNT_PERCENT and CLV_HOLDOUT_DAYS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--horizon", type=int, help="Days the predicted CLV covers (default CLV_HORIZON_DAYS)."
        )
        parser.add_argument(
            "--discount-rate",
            type=rate,
            help="Yearly discount rate, e.g. 0.10 for 10 %% (default CLV_DISCOUNT_PERCENT / 100).",
        )
        parser.add_argument(
            "--holdout",
            type=int,
            help="Days held out for the calibration report, 0 for none (default CLV_HOLDOUT_DAYS).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            fit = clv.compute_customer_values(
                horizon_days=options["horizon"],
                annual_discount_rate=options["discount_rate"],
                holdout_days=options["holdout"],
                progress=lambda message: self.stdout.write(message),
            )
        except DomainError as refused:
            raise CommandError(refused.message) from refused
        self.stdout.write(
            self.style.SUCCESS(
                f"Customer values written for {fit.customers} buyers in {fit.seconds:.1f} s "
                f"(horizon {fit.horizon_days} days, discount {fit.annual_discount_rate})."
            )
        )
