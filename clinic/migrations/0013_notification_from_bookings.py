"""The outbox joins the base layer: clinic.Notification takes over the table
`bookings_notification` as it is (no row is copied or lost), then:

- `kind` loses its fixed list (each layer registers the kinds it writes) and
  gains room for longer names;
- `not_after`: the moment a message becomes pointless, set by its writer. For
  waiting messages about a visit, it is the visit's start, as the sender
  worked out before;
- the content type moves with the model, so the roles keep their permission
  to read the outbox (now `clinic.view_notification`)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

# The kinds that were pointless once their visit had started.
BEFORE_THE_VISIT = ["precare", "day_before", "confirmation", "consent", "moved"]


def take_over(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    moved = ContentType.objects.filter(app_label="bookings", model="notification")
    if not ContentType.objects.filter(app_label="clinic", model="notification").exists():
        moved.update(app_label="clinic")
    Notification = apps.get_model("clinic", "Notification")
    Appointment = apps.get_model("bookings", "Appointment")
    waiting = Notification.objects.filter(
        status__in=["pending", "sending"], kind__in=BEFORE_THE_VISIT, appointment__isnull=False
    )
    waiting.update(
        not_after=models.Subquery(
            Appointment.objects.filter(pk=models.OuterRef("appointment_id")).values("starts_at")[:1]
        )
    )


def give_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="clinic", model="notification").update(
        app_label="bookings"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0008_notification_moves_to_clinic"),
        ("clinic", "0012_practitioner_online_booking"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("confirmation", "Booking confirmation"),
                                    ("precare", "Pre-care starts"),
                                    ("consent", "Consent to sign"),
                                    ("day_before", "Day-before reminder"),
                                    ("aftercare", "Aftercare instructions"),
                                    ("recall", "Time to rebook"),
                                    ("moved", "Appointment moved"),
                                    ("cancelled", "Appointment cancelled"),
                                    ("invitation", "Portal invitation"),
                                ],
                                max_length=16,
                            ),
                        ),
                        (
                            "channel",
                            models.CharField(
                                choices=[("email", "Email"), ("sms", "Text (SMS)")],
                                default="email",
                                max_length=5,
                            ),
                        ),
                        ("dedupe_key", models.CharField(max_length=120, unique=True)),
                        ("to_email", models.EmailField(blank=True, max_length=254)),
                        ("to_phone", models.CharField(blank=True, max_length=20)),
                        ("subject", models.CharField(max_length=200)),
                        ("body_text", models.TextField()),
                        ("body_html", models.TextField(blank=True)),
                        ("attachment_name", models.CharField(blank=True, max_length=80)),
                        ("attachment", models.TextField(blank=True)),
                        ("due_at", models.DateTimeField()),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Waiting"),
                                    ("sending", "Sending"),
                                    ("sent", "Sent"),
                                    ("failed", "Failed"),
                                    ("cancelled", "Not needed any more"),
                                ],
                                default="pending",
                                max_length=10,
                            ),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("next_attempt_at", models.DateTimeField()),
                        ("last_error", models.TextField(blank=True)),
                        ("claimed_at", models.DateTimeField(blank=True, null=True)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "appointment",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="notifications",
                                to="bookings.appointment",
                            ),
                        ),
                        (
                            "patient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="notifications",
                                to="clinic.patient",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "bookings_notification",
                        "ordering": ["due_at", "pk"],
                        "indexes": [
                            models.Index(
                                fields=["status", "next_attempt_at"],
                                name="bookings_notification_due",
                            ),
                            models.Index(
                                fields=["appointment", "status"],
                                name="bookings_notification_appt",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(max_length=32),
        ),
        migrations.AddField(
            model_name="notification",
            name="not_after",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(take_over, give_back),
    ]
