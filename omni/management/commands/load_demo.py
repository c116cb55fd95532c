from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from omni.demo import load_demo
from omni.demo.customers import DEMO_PASSWORD, DEMO_STOREFRONT_KEYS


class Command(BaseCommand):
    help = (
        "Load the demo data set (stores, a warehouse, products with images, customers, a loyalty "
        "programme, a campaign and staff accounts). Safe to run again. Refused when DEBUG is off, "
        "because the demo accounts have published passwords."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("The demo accounts have published passwords: not with DEBUG off.")
        accounts = load_demo()
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write("Open http://127.0.0.1:8000/ and log in as:")
        for account in accounts:
            self.stdout.write(
                f"  {account.username:<10} {account.password:<20} {account.role} → {account.where}"
            )
        self.stdout.write("Storefront API (docs at http://127.0.0.1:8000/api/v1/docs/):")
        for channel, key in DEMO_STOREFRONT_KEYS.items():
            self.stdout.write(f"  X-Api-Key for {channel:<8} {key}")
        self.stdout.write(
            f"  customers sign in with their e-mail and {DEMO_PASSWORD}, "
            "e.g. camille.martin@example.com"
        )
