"""How fast a campaign is sent, on PostgreSQL: synthetic consenting customers made in SQL
(``generate_series``), a static segment of all of them, a campaign with personalisation, then:

* the first batch sent in this process with every query counted (planning is a fixed number
  of queries per batch, each message what one ``notify`` costs);
* the rest sent by a real Celery worker process (``--in-process`` sends it here instead),
  timed until the campaign completes: messages queued per second.

Runs only on a database without customers (``make benchmark-campaigns`` starts a throwaway
server) and deletes what it made at the end. Prints figures; asserts nothing.
"""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from campaigns import services
from campaigns.models import Campaign, CampaignRecipient, CampaignVariant, Segment
from customers.models import Consent, Customer, Notification

DOMAIN = "bench.invalid"
SEGMENT = "Benchmark: every customer"


class Command(BaseCommand):
    help = (
        "Make N consenting customers in SQL, then send them a campaign: the first batch here "
        "with its queries counted, the rest through a real Celery worker (or --in-process), "
        "timed. PostgreSQL, a database without customers; e.g. `make benchmark-campaigns "
        'ARGS="--customers 100000"`.'
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--batch-size", type=int, default=settings.CAMPAIGN_SEND_BATCH_SIZE)
        parser.add_argument(
            "--in-process", action="store_true", help="Send here, without a worker."
        )
        parser.add_argument("--timeout", type=int, default=3600, help="Seconds to wait.")

    def handle(self, *args: Any, **opts: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Benchmarks mean something on PostgreSQL only (see --help).")
        if Customer.objects.exists():
            raise CommandError(
                "This database has customers: run the benchmark on a throwaway one "
                "(make benchmark-campaigns)."
            )
        n, size = opts["customers"], opts["batch_size"]
        if n < 1 or size < 1:
            raise CommandError("At least one customer and a batch of at least one.")
        campaign = self.step(f"{n:,} customers, their consents, a segment", self.build, n)
        try:
            services.start_campaign(campaign=campaign)
            self.first_batch(campaign, size)
            if opts["in_process"]:
                started = time.perf_counter()
                services.send_campaign(campaign_id=campaign.pk, batch_size=size)
                self.sent_in = time.perf_counter() - started
                self.say(f"{self.sent_in:9.2f} s  the rest, in this process")
            else:
                self.through_worker(campaign, size, timeout=opts["timeout"])
            campaign.refresh_from_db()
            elapsed = self.sent_in or 1e-9
            self.say(
                f"{campaign.queued_count:,} messages queued for {campaign.recipient_count:,} "
                f"recipients ({campaign.get_status_display().lower()}): "
                f"{(campaign.recipient_count - self.first_reached) / elapsed:,.0f} per second "
                "after the first batch."
            )
        finally:
            self.step("cleaned up", self.clean_up, campaign)

    # --- the data -------------------------------------------------------------------------

    def build(self, n: int) -> Campaign:
        self.sql(
            "INSERT INTO customers_customer (public_id, first_name, last_name, email, phone,"
            " preferred_store_code, first_seen_channel, time_zone, password, created_at,"
            " updated_at)"
            " SELECT gen_random_uuid(), 'Bench ' || i, '', 'bench' || i || %s,"
            " '+336' || lpad(i::text, 8, '0'), '', 'web', '', '', now(), now()"
            " FROM generate_series(1, %s) AS i",
            [f"@{DOMAIN}", n],
        )
        self.sql(
            "INSERT INTO customers_consent (customer_id, channel, purpose, granted,"
            " source_channel, recorded_at, user_agent)"
            " SELECT id, 'email', 'marketing', true, 'web', now() - interval '1 day', ''"
            " FROM customers_customer WHERE email LIKE %s",
            [f"%@{DOMAIN}"],
        )
        segment = Segment.objects.create(name=SEGMENT, kind=Segment.Kind.STATIC)
        self.sql(
            "INSERT INTO campaigns_segmentmembership (segment_id, customer_id, joined_at)"
            " SELECT %s, id, now() FROM customers_customer WHERE email LIKE %s",
            [segment.pk, f"%@{DOMAIN}"],
        )
        self.sql("ANALYZE customers_customer, customers_consent, campaigns_segmentmembership")
        campaign = Campaign.objects.create(
            name="Benchmark", segment=segment, channels=["push", "email", "sms"]
        )
        CampaignVariant.objects.create(
            campaign=campaign,
            email_subject="{{ first_name }}, the benchmark",
            email_text='Hello {{ first_name }}, your store is {{ store|default:"online" }}.',
            email_html="<p>Hello {{ first_name }}</p>",
            sms_text="Hello {{ first_name }}",
            push_title="Hello",
            push_body="Hello {{ first_name }}",
        )
        return campaign

    def clean_up(self, campaign: Campaign) -> None:
        mine = f"SELECT id FROM customers_customer WHERE email LIKE '%%@{DOMAIN}'"
        CampaignRecipient.objects.filter(campaign=campaign).delete()
        for model in (Notification, Consent):
            self.sql(f"DELETE FROM {model._meta.db_table} WHERE customer_id IN ({mine})")
        self.sql(f"DELETE FROM campaigns_segmentmembership WHERE customer_id IN ({mine})")
        campaign.delete()
        Segment.objects.filter(name=SEGMENT).delete()
        self.sql(f"DELETE FROM customers_identity WHERE customer_id IN ({mine})")
        self.sql(f"DELETE FROM customers_customer WHERE id IN ({mine})")

    # --- the measures ---------------------------------------------------------------------

    def first_batch(self, campaign: Campaign, size: int) -> None:
        queries: list[str] = []

        def count(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
            queries.append(sql)
            return execute(sql, *args)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            result = services.send_next_batch(campaign_id=campaign.pk, batch_size=size)
        took = time.perf_counter() - started
        self.first_reached = result.reached
        per_message = len(queries) / max(result.queued, 1)
        self.say(
            f"{took:9.2f} s  first batch: {result.reached:,} recipients, {result.queued:,} "
            f"queued, {len(queries):,} queries ({per_message:.1f} per message, planning "
            "included)"
        )

    def through_worker(self, campaign: Campaign, size: int, *, timeout: int) -> None:
        from campaigns.tasks import send_campaign

        app = send_campaign.app  # the project's Celery app (campaigns does not import the edge)
        app.control.purge()
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "omni",
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=Path(settings.BASE_DIR),
            env={**os.environ, "CAMPAIGN_SEND_BATCH_SIZE": str(size)},
        )
        try:
            started = time.perf_counter()
            send_campaign.delay(campaign.pk)
            deadline = time.monotonic() + timeout
            while Campaign.objects.filter(pk=campaign.pk, status="running").exists():
                if time.monotonic() > deadline:
                    raise CommandError(f"The worker did not finish in {timeout} s.")
                time.sleep(0.2)  # polling the database, not waiting for a race
            self.sent_in = time.perf_counter() - started
            self.say(f"{self.sent_in:9.2f} s  the rest, through a Celery worker")
        finally:
            worker.kill()
            worker.wait(timeout=30)
            app.control.purge()  # the delivery tasks the benchmark does not wait for

    # --- helpers --------------------------------------------------------------------------

    sent_in = 0.0
    first_reached = 0

    def step(self, what: str, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = work(*args, **kwargs)
        self.say(f"{time.perf_counter() - started:9.2f} s  {what}")
        return result

    def sql(self, statement: str, params: list[Any] | None = None) -> None:
        with connection.cursor() as cursor:
            cursor.execute(statement, params or [])

    def say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()
