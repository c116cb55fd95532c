"""``manage.py compute_clv``: the run with its progress, the flags for horizon, discount rate
and holdout, and a refusal as a clear command error with nothing written."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from campaigns.models import ClvFit, CustomerValue

pytestmark = pytest.mark.django_db


def test_the_command_fits_writes_and_tells_how_it_went(base, settings):
    settings.CLV_MIN_REPEAT_CUSTOMERS = 50
    out = io.StringIO()

    call_command(
        "compute_clv", "--horizon", "180", "--discount-rate", "0.08", "--holdout", "60", stdout=out
    )

    printed = out.getvalue()
    fit = ClvFit.objects.get()
    assert (fit.horizon_days, fit.annual_discount_rate, fit.holdout_days) == (
        180,
        Decimal("0.0800"),
        60,
    )
    assert "400 buyers" in printed
    assert "BG/NBD r=" in printed
    assert "Gamma-Gamma p=" in printed
    assert "Calibration report over the last 60 days" in printed
    assert "Wrote 400 of 400 customer values." in printed
    assert "Customer values written for 400 buyers" in printed
    assert CustomerValue.objects.count() == 400


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--horizon", "0"], "The CLV horizon must be between 1 and 3660 days, not 0."),
        (["--discount-rate", "ten"], "--discount-rate must be a number such as 0.10"),
        (["--discount-rate", "1.5"], "The yearly discount rate must be at least 0 and below 1"),
        (["--holdout", "-7"], "The holdout period must be 0"),
        ([], "Too little history to fit the CLV models: 0 customers bought again"),
    ],
)
def test_a_refusal_is_a_command_error_and_writes_nothing(db, arguments, message):
    with pytest.raises(CommandError) as refused:
        call_command("compute_clv", *arguments, stdout=io.StringIO())

    assert message in str(refused.value)
    assert not ClvFit.objects.exists()
