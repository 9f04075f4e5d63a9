from django.db import migrations

from clinic.db import PostgresOnlySQL, append_only_trigger
from clinic.roles import Role, grant_permissions


def grant(apps, schema_editor):
    grant_permissions(
        apps,
        {
            Role.FRONT_DESK: ["clinic.view_patient", "clinic.add_patient", "clinic.change_patient"],
            Role.PRACTITIONER: [
                "clinic.view_patient",
                "clinic.add_patient",
                "clinic.change_patient",
                "clinic.view_medicalhistory",
                "clinic.add_medicalhistory",
                "clinic.view_clinical_details",
            ],
            Role.MANAGER: ["clinic.view_patient", "clinic.change_patient"],
        },
    )


class Migration(migrations.Migration):
    dependencies = [("clinic", "0003_patients_and_histories")]

    operations = [
        # Substring search on one column, as an index scan (PostgreSQL only;
        # pg_trgm is a trusted extension, so the database owner can add it).
        PostgresOnlySQL(
            "CREATE EXTENSION IF NOT EXISTS pg_trgm;"
            "CREATE INDEX clinic_patient_search_trgm ON clinic_patient "
            "USING gin (search_text gin_trgm_ops);",
            "DROP INDEX IF EXISTS clinic_patient_search_trgm;",
        ),
        append_only_trigger("clinic_medicalhistory"),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
