"""Answers kept before issue 9 for every guest of a storefront app in one scope
("storefront:<key>:customer:-") may hold a new bearer token or guest cart token and be replayed
to another guest. Guests now have their own scope and secrets are never kept: drop them."""

from django.db import migrations


def drop_shared_guest_answers(apps, schema_editor):
    IdempotencyRecord = apps.get_model("omni", "IdempotencyRecord")
    IdempotencyRecord.objects.filter(caller__endswith=":customer:-").delete()


class Migration(migrations.Migration):
    dependencies = [("omni", "0002_storeassignment")]

    operations = [migrations.RunPython(drop_shared_guest_answers, migrations.RunPython.noop)]
