"""The points ledger is append-only: the database itself refuses UPDATE and DELETE on it."""

from django.db import migrations

from omni.core.migrations_support import append_only_table

# Merging two customers moves their points history to one account: only that may change.
forward, backward = append_only_table("loyalty_pointsentry", movable_columns=("account_id",))


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
