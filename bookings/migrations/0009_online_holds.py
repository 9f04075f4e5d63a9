"""Holds: a time kept for a patient booking online (issue 16). A hold is an
appointment row with status 'held' and `held_until`, so the exclusion
constraints of 0002 now cover holds too: a held time blocks others on
PostgreSQL exactly as a booking does. A constraint cannot read the clock, so a
lapsed hold still counts there until it is deleted: the booking service
deletes lapsed holds of the practitioner it has locked before it writes, and
`manage.py release_expired_holds` sweeps the rest.

A hold for someone not yet a patient has no patient (NULL never equals NULL
in the per-patient constraint)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from clinic.db import PostgresOnlySQL

BEFORE = "status IN ('booked', 'checked_in', 'completed')"
AFTER = "status IN ('booked', 'checked_in', 'completed', 'held')"


def exclusion(name, column, where):
    return (
        f"ALTER TABLE bookings_appointment DROP CONSTRAINT IF EXISTS {name}; "
        f"ALTER TABLE bookings_appointment ADD CONSTRAINT {name} EXCLUDE USING gist "
        f"({column} WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&) "
        f"WHERE ({where});"
    )


def recreate(name, column):
    return PostgresOnlySQL(exclusion(name, column, AFTER), exclusion(name, column, BEFORE))


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0008_notification_moves_to_clinic"),
        ("clinic", "0013_notification_from_bookings"),
        ("treatments", "0010_procedure_online_booking"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="held_until",
            field=models.DateTimeField(
                blank=True,
                help_text="When a hold lapses by itself.",
                null=True,
                verbose_name="held until",
            ),
        ),
        migrations.AddField(
            model_name="historicalappointment",
            name="held_until",
            field=models.DateTimeField(
                blank=True,
                help_text="When a hold lapses by itself.",
                null=True,
                verbose_name="held until",
            ),
        ),
        migrations.AlterField(
            model_name="appointment",
            name="patient",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="appointments",
                to="clinic.patient",
            ),
        ),
        migrations.AlterField(
            model_name="appointment",
            name="status",
            field=models.CharField(
                choices=[
                    ("booked", "Booked"),
                    ("checked_in", "Checked in"),
                    ("completed", "Completed"),
                    ("cancelled", "Cancelled"),
                    ("no_show", "No-show"),
                    ("held", "Held for an online booking"),
                ],
                default="booked",
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="historicalappointment",
            name="status",
            field=models.CharField(
                choices=[
                    ("booked", "Booked"),
                    ("checked_in", "Checked in"),
                    ("completed", "Completed"),
                    ("cancelled", "Cancelled"),
                    ("no_show", "No-show"),
                    ("held", "Held for an online booking"),
                ],
                default="booked",
                max_length=12,
            ),
        ),
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(
                condition=models.Q(("status", "held")),
                fields=["held_until"],
                name="bookings_appt_held_until",
            ),
        ),
        migrations.AddConstraint(
            model_name="appointment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("held_until__isnull", False), ("status", "held")),
                    models.Q(
                        models.Q(("status", "held"), _negated=True), ("patient__isnull", False)
                    ),
                    _connector="OR",
                ),
                name="bookings_appointment_hold_or_patient",
            ),
        ),
        recreate("bookings_appointment_no_practitioner_overlap", "practitioner_id"),
        recreate("bookings_appointment_no_patient_overlap", "patient_id"),
    ]
