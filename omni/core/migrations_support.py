"""Helpers for hand-written migrations shared by the apps."""

from collections.abc import Callable
from typing import Any

MigrationStep = Callable[[Any, Any], None]  # RunPython's (apps, schema_editor)


def append_only_table(
    table: str, *, movable_columns: tuple[str, ...] = ()
) -> tuple[MigrationStep, MigrationStep]:
    """RunPython (forward, backward) that make the database refuse UPDATE and DELETE on a
    ledger table, on PostgreSQL (a trigger raising an error) and on SQLite (the demo).

    ``movable_columns`` may still change (e.g. the owner of a row when two customers merge);
    an UPDATE that touches anything else is refused.
    """
    function = f"{table}_refuse_change"

    def postgres(create: bool) -> list[str]:
        if not create:
            return [f"DROP TRIGGER {table}_append_only ON {table}", f"DROP FUNCTION {function}()"]
        unchanged = " - ".join(["to_jsonb(NEW)", *[f"'{c}'" for c in movable_columns]])
        before = " - ".join(["to_jsonb(OLD)", *[f"'{c}'" for c in movable_columns]])
        allow = (
            f"IF TG_OP = 'UPDATE' AND {unchanged} = {before} THEN RETURN NEW; END IF;"
            if movable_columns
            else ""
        )
        return [
            f"""CREATE FUNCTION {function}() RETURNS trigger AS $$
            BEGIN
                {allow}
                RAISE EXCEPTION '{table} is append-only (% refused)', TG_OP
                    USING ERRCODE = 'restrict_violation';
            END;
            $$ LANGUAGE plpgsql""",
            f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {function}()""",
        ]

    def sqlite(create: bool, cursor: Any) -> list[str]:
        if not create:
            return [f"DROP TRIGGER {table}_no_{op}" for op in ("update", "delete")]
        columns = [row[1] for row in cursor.execute(f"PRAGMA table_info({table})").fetchall()]
        fixed = ", ".join(c for c in columns if c not in movable_columns)
        return [
            f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE OF {fixed} ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
            f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
        ]

    def run(create: bool) -> MigrationStep:
        def operation(apps: Any, schema_editor: Any) -> None:
            connection = schema_editor.connection
            if connection.vendor == "postgresql":
                statements = postgres(create)
            elif connection.vendor == "sqlite":
                with connection.cursor() as cursor:
                    statements = sqlite(create, cursor)
            else:
                raise NotImplementedError(f"No append-only trigger for {connection.vendor}.")
            for statement in statements:
                schema_editor.execute(statement, params=None)

        return operation

    return run(True), run(False)
