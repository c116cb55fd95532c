"""The stock ledger is append-only: the database itself refuses UPDATE and DELETE on it."""

from django.db import migrations

from omni.core.migrations_support import append_only_table

forward, backward = append_only_table("inventory_stockmovement")


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
