"""Money is a Decimal amount with a currency code; never a float."""

from django.conf import settings


def default_currency() -> str:
    """The shop's currency (DEFAULT_CURRENCY); a callable so migrations don't freeze it."""
    return str(settings.DEFAULT_CURRENCY)
