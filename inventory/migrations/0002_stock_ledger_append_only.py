"""The stock ledger is append-only: the database itself refuses UPDATE and DELETE on it."""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE FUNCTION inventory_refuse_ledger_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'inventory_stockmovement is append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER inventory_stockmovement_append_only
    BEFORE UPDATE OR DELETE ON inventory_stockmovement
    FOR EACH ROW EXECUTE FUNCTION inventory_refuse_ledger_change();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER inventory_stockmovement_append_only ON inventory_stockmovement;
DROP FUNCTION inventory_refuse_ledger_change();
"""
SQLITE_FORWARD = [
    f"""CREATE TRIGGER inventory_stockmovement_no_{op.lower()}
        BEFORE {op} ON inventory_stockmovement
        BEGIN SELECT RAISE(ABORT, 'inventory_stockmovement is append-only'); END;"""
    for op in ("UPDATE", "DELETE")
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER inventory_stockmovement_no_{op}" for op in ("update", "delete")
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": [POSTGRES_FORWARD], "sqlite": SQLITE_FORWARD}[vendor]
    for statement in statements:
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": [POSTGRES_BACKWARD], "sqlite": SQLITE_BACKWARD}[vendor]
    for statement in statements:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
