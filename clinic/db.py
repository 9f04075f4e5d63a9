"""Database helpers shared by the apps.

Append-only records (medical history versions, signed consents, signed
treatment records, audit events) are protected twice: the app refuses to
update or delete them (`AppendOnlyModel`, `AppendOnlyQuerySet`), and on
PostgreSQL a trigger refuses it too, so a stray `UPDATE` in a shell or a
migration cannot rewrite clinical evidence either. SQLite has no trigger of
ours: the app-level refusal is its guarantee.
"""

from django.db import migrations, models


class RecordIsFinal(Exception):
    """Raised when code tries to change or delete a record that is final."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise RecordIsFinal(f"{self.model.__name__} records are append-only: add a new one.")

    def delete(self):
        raise RecordIsFinal(f"{self.model.__name__} records are append-only and never deleted.")


class AppendOnlyModel(models.Model):
    """Rows are written once. Corrections are new rows that point to the old."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RecordIsFinal(f"{type(self).__name__} {self.pk} is final and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RecordIsFinal(f"{type(self).__name__} {self.pk} is final and cannot be deleted.")


def _trigger_sql(table, *, when=None):
    """PL/pgSQL that raises on UPDATE or DELETE of `table` rows.

    An UPDATE that changes nothing is let through: it is not a change, and
    Django's test framework issues such UPDATEs when it reloads data.
    `when` narrows both triggers to rows matching a condition on OLD (e.g.
    only signed treatment records), written in SQL.
    """
    name = f"{table}_append_only"
    extra = f" AND ({when})" if when else ""
    delete_when = f"WHEN ({when})" if when else ""
    forward = f"""
        CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION '% on {table} refused: the record is final', TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
        END;
        $$ LANGUAGE plpgsql;
        CREATE TRIGGER {name}_update BEFORE UPDATE ON {table}
            FOR EACH ROW WHEN ((OLD.*) IS DISTINCT FROM (NEW.*){extra})
            EXECUTE FUNCTION {name}();
        CREATE TRIGGER {name}_delete BEFORE DELETE ON {table}
            FOR EACH ROW {delete_when} EXECUTE FUNCTION {name}();
    """
    backward = (
        f"DROP TRIGGER IF EXISTS {name}_update ON {table}; "
        f"DROP TRIGGER IF EXISTS {name}_delete ON {table}; "
        f"DROP FUNCTION IF EXISTS {name}();"
    )
    return forward, backward


class PostgresOnlySQL(migrations.RunSQL):
    """RunSQL that does nothing on other databases (SQLite gets the app-level guard)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def append_only_trigger(table, *, when=None):
    forward, backward = _trigger_sql(table, when=when)
    return PostgresOnlySQL(forward, backward)
