"""Upgrading keeps every row: a database made by an earlier release, with
data in it, migrates to the current schema and loses nothing.

The starting point is the schema of main before issue 13 moved the outbox
to the base layer (bookings 0007, clinic 0012): the newest migration each app
had then. Rows are written through that state's historical models, the
database is migrated to the newest state, and then every table is counted and
the moved and rewritten rows are read back.

The test database is rolled back to the old state with Django's migration
executor (so every migration since must be reversible: a RunPython needs its
reverse, even if a no-op), seeded, then migrated all the way forward.
"""

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# serialized_rollback: the test starts from the database as migrations left it
# (catalog, roles, content types), and leaves no rows of its own behind.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [
    ("clinic", "0012_practitioner_online_booking"),
    ("bookings", "0007_notification_channels"),
    ("treatments", "0010_procedure_online_booking"),
    ("accounts", "0003_two_factor"),
    ("privacy", "0001_erasure_requests"),
]
WHEN = datetime.fromisoformat("2026-11-20T10:00:00+00:00")


def migrate(targets):
    """Migrate the test database to `targets`; the models of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def newest():
    """Every app's newest migration: the upgrade goes all the way."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def row_counts():
    with connection.cursor() as cursor:
        counts = {}
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
        return counts


def seed(apps):
    """A small clinic at the old schema: staff, patients (one phone number
    that cannot be read), an appointment and its outbox rows."""
    User = apps.get_model("clinic", "User")
    Practitioner = apps.get_model("clinic", "Practitioner")
    Patient = apps.get_model("clinic", "Patient")
    Procedure = apps.get_model("treatments", "Procedure")
    Appointment = apps.get_model("bookings", "Appointment")
    Notification = apps.get_model("bookings", "Notification")

    # What post_migrate had made for the outbox in a real clinic's database.
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    outbox, _ = ContentType.objects.get_or_create(app_label="bookings", model="notification")
    Permission.objects.get_or_create(
        content_type=outbox, codename="view_notification", defaults={"name": "Can view"}
    )

    desk = User.objects.create(email="desk@example.test", full_name="Fran Desk")
    nurse = User.objects.create(email="nurse@example.test", full_name="Pat Injector")
    injector = Practitioner.objects.create(user=nurse, display_name="Pat")
    typed = ["07700 900123", "+44 7700 900124", "(020) 7946 0018", "ask reception"]
    patients = [
        Patient.objects.create(
            first_name=f"Ada{n}",
            last_name="Lovelace",
            date_of_birth=date(1990, 1, 1 + n),
            phone=phone,
            email=f"ada{n}@example.test",
            search_text=f"ada{n} lovelace {''.join(ch for ch in phone if ch.isdigit())}",
        )
        for n, phone in enumerate(typed)
    ]
    flip = Procedure.objects.get(code="lip-flip")
    visit = Appointment.objects.create(
        patient=patients[0],
        practitioner=injector,
        procedure=flip,
        starts_at=WHEN + timedelta(days=10),
        ends_at=WHEN + timedelta(days=10, minutes=15),
        blocked_until=WHEN + timedelta(days=10, minutes=25),
        booked_by=desk,
        precare_stop_date=date(2026, 11, 26),
    )
    for channel, key in [("email", "email:confirmation:1"), ("sms", "sms:precare:1")]:
        Notification.objects.create(
            kind="confirmation" if channel == "email" else "precare",
            patient=patients[0],
            appointment=visit,
            channel=channel,
            dedupe_key=key,
            to_email="ada0@example.test" if channel == "email" else "",
            to_phone="+447700900123" if channel == "sms" else "",
            subject="Your lip flip",
            body_text="See you soon.",
            due_at=WHEN,
            next_attempt_at=WHEN,
        )
    return patients


def test_upgrading_from_before_issue_13_keeps_every_row():
    patients = seed(migrate(BEFORE))
    before = row_counts()

    new = migrate(newest())
    after = row_counts()

    lost = {
        table: (n, after.get(table, 0)) for table, n in before.items() if after.get(table, 0) < n
    }
    assert lost == {}, "tables that lost rows: before, after"

    # The outbox kept its table, its rows and their keys; it is clinic's now.
    Notification = new.get_model("clinic", "Notification")
    assert sorted(Notification.objects.values_list("dedupe_key", flat=True)) == [
        "email:confirmation:1",
        "sms:precare:1",
    ]
    ContentType = new.get_model("contenttypes", "ContentType")
    assert ContentType.objects.filter(app_label="clinic", model="notification").exists()
    assert not ContentType.objects.filter(app_label="bookings", model="notification").exists()
    Permission = new.get_model("auth", "Permission")
    assert Permission.objects.filter(
        content_type__app_label="clinic", codename="view_notification"
    ).exists()

    # Phone numbers are in E.164 and searchable both ways; the unreadable one
    # is kept as it was typed.
    Patient = new.get_model("clinic", "Patient")
    kept = dict(Patient.objects.filter(pk__in=[p.pk for p in patients]).values_list("pk", "phone"))
    assert [kept[p.pk] for p in patients] == [
        "+447700900123",
        "+447700900124",
        "+442079460018",
        "ask reception",
    ]
    first = Patient.objects.get(pk=patients[0].pk)
    assert "447700900123 07700900123" in first.search_text
