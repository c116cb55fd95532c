"""DRF's tokens (``rest_framework.authtoken``, no longer installed) were stored in plain text.
Each one still in its table becomes an integration token holding only its hash, for the same
user, valid ``INTEGRATION_TOKEN_DAYS`` from now and at every location, so integrations keep
working unchanged; then the plain-text rows are deleted. The emptied ``authtoken_token``
table is left in place (DRF owns it); drop it by hand if you like. A new database has no such
table and nothing happens."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

from omni.core.credentials import hash_secret

LEGACY_TABLE = "authtoken_token"


def hash_legacy_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if LEGACY_TABLE not in connection.introspection.table_names():
        return
    IntegrationToken = apps.get_model("inventory", "IntegrationToken")
    table = schema_editor.quote_name(LEGACY_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {schema_editor.quote_name('key')}, user_id FROM {table}")
        rows = cursor.fetchall()
    expires_at = timezone.now() + timedelta(days=settings.INTEGRATION_TOKEN_DAYS)
    IntegrationToken.objects.bulk_create(
        [
            IntegrationToken(
                name="Former DRF token",
                user_id=user_id,
                prefix=key[:8],
                key_hash=hash_secret(key),
                expires_at=expires_at,
            )
            for key, user_id in rows
        ],
        ignore_conflicts=True,  # run twice (restored table): the hash is already there
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0003_integration_token"),
    ]

    operations = [
        migrations.RunPython(hash_legacy_drf_tokens, migrations.RunPython.noop),
    ]
