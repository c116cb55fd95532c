from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from inventory import selectors
from inventory.integrations import MAX_DAYS, issue_integration_token
from omni.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Create a token for a POS, WMS or other integration and print it once. The integration "
        "sends it as 'Authorization: Token <token>' and acts as --user, with that user's "
        "permissions (e.g. inventory.add_stockmovement); with --location it may write stock "
        "only at those locations. Only a hash is stored: keep the printed token in the "
        "integration's secrets. It expires after --days; revoke it sooner in the admin "
        "(Inventory > Integration tokens)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Username the integration acts as.")
        parser.add_argument("--name", required=True, help='The system, e.g. "WMS Lyon".')
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Lifetime, 1 to {MAX_DAYS} days (default: INTEGRATION_TOKEN_DAYS, 90).",
        )
        parser.add_argument(
            "--location",
            action="append",
            default=[],
            metavar="CODE",
            help="A location code it may act at; repeat for several. None: every location.",
        )

    def handle(self, *args, user, name, days, location, **options):
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"No user {user!r}. Create one for the integration first.")
        locations = selectors.locations_by_code(location)
        unknown = sorted(set(location) - set(locations))
        if unknown:
            raise CommandError(f"Unknown location code(s): {', '.join(unknown)}.")
        try:
            token, raw = issue_integration_token(
                user=account, name=name, days=days, locations=locations.values()
            )
        except DomainError as error:
            problems = "; ".join(m for messages in error.details.values() for m in messages)
            raise CommandError(f"{error.message} {problems}".strip()) from None
        where = ", ".join(sorted(locations)) or "every location"
        self.stderr.write(
            f"Created {token} for {account.get_username()} at {where}, expiring "
            f"{token.expires_at:%Y-%m-%d}. This is the only time the token is shown:"
        )
        self.stdout.write(raw)
