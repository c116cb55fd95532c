"""Shipments and their lines get public ids (URLs and the API never show database ids):
added empty, filled one by one, then made unique and required."""

import uuid

from django.db import migrations, models


def fill_public_ids(apps, schema_editor):
    for name in ("Shipment", "ShipmentLine"):
        model = apps.get_model("orders", name)
        for row in model.objects.filter(public_id__isnull=True).only("pk").iterator():
            model.objects.filter(pk=row.pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_order_checkout_fingerprint"),
    ]

    operations = [
        migrations.AddField(
            model_name="shipment",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="shipmentline",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="shipment",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="shipmentline",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
