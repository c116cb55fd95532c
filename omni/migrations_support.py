"""Helpers for hand-written migrations shared by the apps."""


def append_only_table(table: str):
    """RunPython (forward, backward) that make the database refuse UPDATE and DELETE on a
    ledger table, on PostgreSQL (a trigger raising an error) and on SQLite (the demo)."""
    function = f"{table}_refuse_change"

    def statements(vendor: str, create: bool) -> list[str]:
        if vendor == "postgresql":
            if not create:
                return [
                    f"DROP TRIGGER {table}_append_only ON {table}",
                    f"DROP FUNCTION {function}()",
                ]
            return [
                f"""CREATE FUNCTION {function}() RETURNS trigger AS $$
                BEGIN
                    RAISE EXCEPTION '{table} is append-only (% refused)', TG_OP
                        USING ERRCODE = 'restrict_violation';
                END;
                $$ LANGUAGE plpgsql""",
                f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION {function}()""",
            ]
        if vendor == "sqlite":
            if not create:
                return [f"DROP TRIGGER {table}_no_{op}" for op in ("update", "delete")]
            return [
                f"""CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"""
                for op in ("UPDATE", "DELETE")
            ]
        raise NotImplementedError(f"No append-only trigger for {vendor}.")

    def run(create: bool):
        def operation(apps, schema_editor):
            for statement in statements(schema_editor.connection.vendor, create):
                schema_editor.execute(statement, params=None)

        return operation

    return run(True), run(False)
