from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from inventory import selectors
from inventory.integrations import MAX_DAYS, issue_integration_token
from omni.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Create a token for a POS, WMS or other integration and print it once. The integration "
        "sends it as 'Authorization: Token <token>' and acts as --user, with that user's "
        "permissions (e.g. inventory.add_stockmovement); with --location it may act only at "
        "those locations. --create-user makes that user (it cannot sign in with a password) "
        "and --grant gives it permissions, e.g. for the fulfilment API: --grant "
        "orders.view_shipment --grant orders.change_shipment. Only a hash is stored: keep the "
        "printed token in the integration's secrets. It expires after --days; revoke it sooner "
        "in the admin (Inventory > Integration tokens)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Username the integration acts as.")
        parser.add_argument(
            "--create-user",
            action="store_true",
            help="Create --user if it does not exist (no password: it acts only by token).",
        )
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
        parser.add_argument(
            "--grant",
            action="append",
            default=[],
            metavar="APP.CODENAME",
            help="A permission to give the user, e.g. orders.change_shipment; repeat for several.",
        )

    def handle(self, *args, user, create_user, name, days, location, grant, **options):
        locations = selectors.locations_by_code(location)
        unknown = sorted(set(location) - set(locations))
        if unknown:
            raise CommandError(f"Unknown location code(s): {', '.join(unknown)}.")
        permissions = _permissions(grant)
        with transaction.atomic():  # the user, its permissions and the token, or nothing
            account = _account(user, create=create_user)
            account.user_permissions.add(*permissions)
            try:
                token, raw = issue_integration_token(
                    user=account, name=name, days=days, locations=locations.values()
                )
            except DomainError as error:
                problems = "; ".join(m for messages in error.details.values() for m in messages)
                raise CommandError(f"{error.message} {problems}".strip()) from None
        where = ", ".join(sorted(locations)) or "every location"
        granted = f", granted {', '.join(grant)}" if grant else ""
        self.stderr.write(
            f"Created {token} for {account.get_username()} at {where}{granted}, expiring "
            f"{token.expires_at:%Y-%m-%d}. This is the only time the token is shown:"
        )
        self.stdout.write(raw)


def _account(username: str, *, create: bool):
    users = get_user_model()
    account = users.objects.filter(username=username).first()
    if account is not None:
        return account
    if not create:
        raise CommandError(
            f"No user {username!r}. Create one for the integration first, or add --create-user."
        )
    account = users(username=username)
    account.set_unusable_password()
    account.save()
    return account


def _permissions(names: list[str]) -> list[Permission]:
    """The permissions named ``app_label.codename``; any unknown name stops the command."""
    found, unknown = [], []
    for name in dict.fromkeys(names):
        app_label, _, codename = name.partition(".")
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is None:
            unknown.append(name)
        else:
            found.append(permission)
    if unknown:
        raise CommandError(f"Unknown permission(s): {', '.join(unknown)}.")
    return found
