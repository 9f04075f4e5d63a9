"""No double booking, ever, on PostgreSQL: exclusion constraints over the
occupied range [starts_at, blocked_until) of active appointments, one per
practitioner and one per patient. The booking service's locked check comes
first; these catch anything that slips past it. SQLite has no equivalent: the
service's check inside an IMMEDIATE transaction is its guarantee."""

from django.db import migrations

from clinic.db import PostgresOnlySQL
from clinic.roles import Role, grant_permissions

ACTIVE = "status IN ('booked', 'checked_in', 'completed')"


def exclusion(name, column):
    return PostgresOnlySQL(
        f"ALTER TABLE bookings_appointment ADD CONSTRAINT {name} EXCLUDE USING gist "
        f"({column} WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&) "
        f"WHERE ({ACTIVE});",
        f"ALTER TABLE bookings_appointment DROP CONSTRAINT IF EXISTS {name};",
    )


def grant(apps, schema_editor):
    appointments = [
        "bookings.view_appointment",
        "bookings.add_appointment",
        "bookings.change_appointment",
    ]
    schedules = [
        f"bookings.{action}_{model}"
        for model in ("workinghours", "scheduleexception", "timeoff")
        for action in ("view", "add", "change", "delete")
    ]
    grant_permissions(
        apps,
        {
            Role.FRONT_DESK: appointments,
            Role.PRACTITIONER: [
                *appointments,
                "bookings.view_workinghours",
                "bookings.view_timeoff",
            ],
            Role.MANAGER: appointments + schedules,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_schedules_and_appointments")]

    operations = [
        PostgresOnlySQL("CREATE EXTENSION IF NOT EXISTS btree_gist;", migrations.RunSQL.noop),
        exclusion("bookings_appointment_no_practitioner_overlap", "practitioner_id"),
        exclusion("bookings_appointment_no_patient_overlap", "patient_id"),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
