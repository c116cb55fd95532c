from django.core.management.base import BaseCommand, CommandError

from inventory.ledger_check import drifts_between, level_id_ranges
from inventory.models import StockLevel


class Command(BaseCommand):
    help = (
        "Check every stock level against its ledger: on hand must equal the sum of its stock "
        "movements, and reserved the sum of its active reservations. Prints each level that "
        "drifts and exits with status 1 if any does. Works in chunks and reports progress."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--chunk", type=int, default=20_000, help="Levels checked per query (default 20000)."
        )

    def handle(self, *args, chunk: int, **options):
        total = StockLevel.objects.count()
        self.stdout.write(f"Checking {total} stock levels against the ledger...")
        checked = 0
        drifted = 0
        for first, last, size in level_id_ranges(chunk):
            for drift in drifts_between(first, last):
                drifted += 1
                self.stdout.write(
                    self.style.ERROR(
                        f"DRIFT {drift.sku} at {drift.location}: on hand {drift.on_hand}, "
                        f"ledger {drift.ledger}; reserved {drift.reserved}, "
                        f"active reservations {drift.active_reservations}"
                    )
                )
            checked += size
            self.stdout.write(f"  {checked}/{total} levels checked", ending="\r")
        self.stdout.write("")
        if drifted:
            raise CommandError(f"{drifted} of {total} stock levels drift from their ledger.")
        self.stdout.write(self.style.SUCCESS(f"All {total} stock levels agree with the ledger."))
