"""Materialising a segment's members, set-based in SQL.

A refresh puts the ids of the customers who belong now (the compiled rules of a dynamic
segment, the uploaded list of a static one) in a temporary table, then moves the difference in
four statements whatever the number of customers: the leavers are recorded and deleted, the
joiners recorded and inserted. It holds the segment's row lock throughout, so two refreshes of
one segment run one after the other. Erased customers are never members.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import QuerySet
from django.utils import timezone

from campaigns.locks import lock_segment
from campaigns.models import Segment, SegmentChange, SegmentMembership, SegmentRefresh
from campaigns.rules import compile_rules
from customers.models import Customer
from omni.core.errors import DomainError

log = logging.getLogger(__name__)

TARGET = "campaigns_segment_target"
# Joins of a million customers against a million members: room to hash them in memory.
REFRESH_WORK_MEM = "128MB"

FillTarget = Callable[[CursorWrapper, str], None]


def eligible_customers(rules: Any, *, now: datetime) -> QuerySet[Customer]:
    """The customers the rules select now, erased ones never: one query."""
    return Customer.objects.filter(erased_at=None).filter(compile_rules(rules, now=now))


def target_of(segment: Segment, now: datetime) -> QuerySet[Customer]:
    """Who belongs to the segment now: its rules, or (static) its uploaded members still
    not erased."""
    if segment.is_dynamic:
        return eligible_customers(segment.rules, now=now)
    return Customer.objects.filter(erased_at=None, segment_memberships__segment=segment)


@transaction.atomic
def refresh_segment(
    *,
    segment: Segment,
    trigger: str = SegmentRefresh.Trigger.MANUAL,
    actor: User | None = None,
    now: datetime | None = None,
) -> SegmentRefresh:
    """Recompute the members of one segment and record who joined and who left. Refuses
    (``RuleError``) rules that no longer hold (e.g. naming a category deleted since), and
    changes nothing then."""
    now = now or timezone.now()
    locked = lock_segment(segment.pk)
    people = target_of(locked, now).values("pk").order_by()
    sql, params = people.query.sql_with_params()

    def fill(cursor: CursorWrapper, table: str) -> None:
        if connection.vendor == "postgresql":
            # CREATE TABLE AS may scan in parallel workers; INSERT ... SELECT may not.
            cursor.execute(f"CREATE TEMPORARY TABLE {table} (id) ON COMMIT DROP AS {sql}", params)
            # Indexed, so that matching the members against it never degrades into a scan of
            # the whole table per member (the members' statistics may be stale mid-refresh).
            cursor.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (id)")
        else:
            create_target(cursor, table)
            cursor.execute(f"INSERT INTO {table} (id) {sql}", params)

    refresh = apply_target(locked, fill, trigger=trigger, actor=actor, now=now)
    segment.member_count, segment.refreshed_at = locked.member_count, locked.refreshed_at
    return refresh


def apply_target(
    segment: Segment,
    fill: FillTarget,
    *,
    trigger: str,
    actor: User | None,
    now: datetime,
) -> SegmentRefresh:
    """Make the segment's members exactly the ids ``fill`` puts in the target table (which it
    creates, see ``create_target``), recording the joins and leaves. The caller holds the
    segment's lock, in a transaction."""
    started = time.perf_counter()
    refresh = SegmentRefresh.objects.create(
        segment=segment, trigger=trigger, actor=actor, started_at=now
    )
    quote = connection.ops.quote_name
    members = quote(SegmentMembership._meta.db_table)
    changes = quote(SegmentChange._meta.db_table)
    target = quote(TARGET)
    moment = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET LOCAL work_mem = '{REFRESH_WORK_MEM}'")
        fill(cursor, target)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {target}")  # the planner's row count for the joins below
        change_columns = "segment_id, customer_id, kind, changed_at, refresh_id"
        gone = (
            f"FROM {members} m WHERE m.segment_id = %s "
            f"AND NOT EXISTS (SELECT 1 FROM {target} t WHERE t.id = m.customer_id)"
        )
        cursor.execute(
            f"INSERT INTO {changes} ({change_columns}) "
            f"SELECT m.segment_id, m.customer_id, %s, %s, %s {gone}",
            [SegmentChange.Kind.LEFT, moment, refresh.pk, segment.pk],
        )
        left = cursor.rowcount
        cursor.execute(
            f"DELETE FROM {members} WHERE segment_id = %s AND NOT EXISTS "
            f"(SELECT 1 FROM {target} t WHERE t.id = {members}.customer_id)",
            [segment.pk],
        )
        new = (
            f"FROM {target} t WHERE NOT EXISTS (SELECT 1 FROM {members} m "
            f"WHERE m.segment_id = %s AND m.customer_id = t.id)"
        )
        cursor.execute(
            f"INSERT INTO {changes} ({change_columns}) SELECT %s, t.id, %s, %s, %s {new}",
            [segment.pk, SegmentChange.Kind.JOINED, moment, refresh.pk, segment.pk],
        )
        joined = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {members} (segment_id, customer_id, joined_at) SELECT %s, t.id, %s {new}",
            [segment.pk, moment, segment.pk],
        )
        cursor.execute(f"SELECT COUNT(*) FROM {target}")
        (count,) = cursor.fetchone()
        cursor.execute(f"DROP TABLE {target}")
    refresh.joined, refresh.left, refresh.members = joined, left, count
    refresh.milliseconds = round((time.perf_counter() - started) * 1000)
    refresh.save(update_fields=["joined", "left", "members", "milliseconds"])
    Segment.objects.filter(pk=segment.pk).update(member_count=count, refreshed_at=now)
    segment.member_count, segment.refreshed_at = count, now
    return refresh


def create_target(cursor: CursorWrapper, target: str) -> None:
    """An empty temporary table of target ids, for a ``fill`` that inserts them."""
    if connection.vendor == "postgresql":
        cursor.execute(f"CREATE TEMPORARY TABLE {target} (id bigint PRIMARY KEY) ON COMMIT DROP")
    else:
        cursor.execute(f"DROP TABLE IF EXISTS {target}")
        cursor.execute(f"CREATE TEMPORARY TABLE {target} (id integer PRIMARY KEY)")


def refresh_scheduled_segments(*, now: datetime | None = None) -> dict[str, int]:
    """Refresh every segment marked for automatic refresh, each in its own transaction: one
    whose rules no longer hold is logged and skipped, the others go on. A dynamic segment
    without rules yet is a draft, left alone."""
    done = failed = 0
    due = Segment.objects.filter(auto_refresh=True).exclude(kind=Segment.Kind.DYNAMIC, rules={})
    for segment in due.order_by("pk"):
        try:
            refresh_segment(segment=segment, trigger=SegmentRefresh.Trigger.SCHEDULE, now=now)
        except Segment.DoesNotExist:
            continue  # deleted since the list was read
        except DomainError as refusal:
            failed += 1
            log.warning("Segment %s not refreshed: %s", segment.pk, refusal.message)
        else:
            done += 1
    return {"refreshed": done, "failed": failed}
