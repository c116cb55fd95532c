from django.core.management.base import BaseCommand, CommandError

from customers.services import issue_storefront_key
from omni.core.channels import Channel
from omni.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Create an API key for a storefront app and print it once. The app sends it in the "
        "X-Api-Key header; its channel (web, ios, android, store) is the channel of every event "
        "and sign-in it makes. Only a hash is stored: keep the printed key in the app's secrets. "
        "Revoke a key in the admin (Customers > Storefront keys)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--channel", required=True, choices=Channel.values)
        parser.add_argument("--name", required=True, help='e.g. "iOS app 4.2"')

    def handle(self, *args, channel, name, **options):
        try:
            key, raw = issue_storefront_key(name=name, channel=channel)
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stderr.write(f"Created {key}. This is the only time the key is shown:")
        self.stdout.write(raw)
