"""A signed treatment record never changes, on PostgreSQL too: triggers refuse
UPDATE/DELETE of signed records, any change to the injection lines of a signed
record, and any change to an addendum. Plus who may do what."""

from django.db import migrations

from clinic.db import PostgresOnlySQL, append_only_trigger
from clinic.roles import Role, grant_permissions

LINES_FINAL = """
CREATE OR REPLACE FUNCTION treatments_injectionline_final() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND EXISTS (
        SELECT 1 FROM treatments_treatmentrecord WHERE id = OLD.record_id AND status = 'signed'
    ) OR TG_OP <> 'DELETE' AND EXISTS (
        SELECT 1 FROM treatments_treatmentrecord WHERE id = NEW.record_id AND status = 'signed'
    ) THEN
        RAISE EXCEPTION '% on treatments_injectionline refused: the record is final', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER treatments_injectionline_final BEFORE INSERT OR UPDATE OR DELETE
    ON treatments_injectionline FOR EACH ROW EXECUTE FUNCTION treatments_injectionline_final();
"""
LINES_FINAL_REVERSE = """
DROP TRIGGER IF EXISTS treatments_injectionline_final ON treatments_injectionline;
DROP FUNCTION IF EXISTS treatments_injectionline_final();
"""


def grant(apps, schema_editor):
    lines = [f"treatments.{a}_injectionline" for a in ("view", "add", "change", "delete")]
    grant_permissions(
        apps,
        {
            Role.PRACTITIONER: [
                "treatments.view_treatmentrecord",
                "treatments.add_treatmentrecord",
                "treatments.change_treatmentrecord",
                *lines,
                "treatments.view_addendum",
                "treatments.add_addendum",
            ],
            Role.MANAGER: [
                "treatments.view_treatmentrecord",
                "treatments.change_treatmentrecord",
                "treatments.view_injectionline",
                "treatments.view_addendum",
                "treatments.add_addendum",
                "treatments.recall_lot",
                "clinic.view_auditevent",
            ],
        },
    )


class Migration(migrations.Migration):
    dependencies = [("treatments", "0005_treatment_records"), ("clinic", "0005_audit_and_history")]

    operations = [
        append_only_trigger("treatments_treatmentrecord", when="OLD.status = 'signed'"),
        PostgresOnlySQL(LINES_FINAL, LINES_FINAL_REVERSE),
        append_only_trigger("treatments_addendum"),
        append_only_trigger("clinic_auditevent"),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
