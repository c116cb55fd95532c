import time
import uuid
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from customers.api.views import EventIngestionView
from customers.events import MAX_BATCH_SIZE
from customers.models import StorefrontKey, Touchpoint
from customers.services import issue_storefront_key, revoke_storefront_key
from omni.core.api.auth import API_KEY_HEADER


class Command(BaseCommand):
    help = (
        "Measure event ingestion: send N events in batches through the real ingestion "
        "endpoint (authentication, parsing, checks, bulk insert; no network) and print events "
        "per second. Uses a temporary storefront key; the events are deleted afterwards "
        "unless --keep is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=10_000)
        parser.add_argument("--batch-size", type=int, default=MAX_BATCH_SIZE)
        parser.add_argument("--visitors", type=int, default=200, help="Distinct anonymous ids.")
        parser.add_argument("--keep", action="store_true", help="Keep the events it stored.")

    def handle(self, *args, events, batch_size, visitors, keep, **options):
        key, raw_key = issue_storefront_key(name="ingestion benchmark", channel="web")
        run = uuid.uuid4().hex[:8]
        view = EventIngestionView.as_view()
        factory = APIRequestFactory()
        start = timezone.now() - timedelta(hours=1)
        sent = stored = 0
        elapsed = 0.0
        try:
            while sent < events:
                size = min(batch_size, events - sent)
                batch = [
                    {
                        "type": "product_view",
                        "event_id": f"bench-{run}-{sent + i}",
                        "anonymous_id": f"bench-{run}-{(sent + i) % visitors}",
                        "occurred_at": (start + timedelta(milliseconds=sent + i)).isoformat(),
                        "sku_code": f"SKU-{(sent + i) % 997}",
                        "url": f"https://shop.example.com/p/{(sent + i) % 997}",
                        "utm": {"source": "benchmark", "medium": "cli"},
                        "properties": {"position": i},
                    }
                    for i in range(size)
                ]
                request = factory.post(
                    "/api/v1/events",
                    {"events": batch},
                    format="json",
                    headers={API_KEY_HEADER: raw_key},
                )
                began = time.perf_counter()
                response = view(request)
                elapsed += time.perf_counter() - began
                if response.status_code != 200:
                    self.stderr.write(f"Batch refused: {response.status_code} {response.data}")
                    break
                stored += response.data["accepted"]
                sent += size
                self.stderr.write(f"\r{sent}/{events} events", ending="")
            self.stderr.write("")
            rate = stored / elapsed if elapsed else 0.0
            self.stdout.write(
                f"{stored} events in {elapsed:.2f} s in batches of {batch_size}: "
                f"{rate:,.0f} events per second"
            )
        finally:
            with transaction.atomic():
                if not keep:
                    Touchpoint.objects.filter(event_id__startswith=f"bench-{run}-").delete()
                revoke_storefront_key(key=StorefrontKey.objects.get(pk=key.pk))
