"""The outbox moves to the base layer (clinic.Notification): bookings forgets
the model; the table, its rows and its indexes stay as they are
(clinic/0013 takes them over)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0007_notification_channels"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="notification", name="bookings_notification_due"),
                migrations.RemoveIndex(
                    model_name="notification", name="bookings_notification_appt"
                ),
                migrations.DeleteModel(name="Notification"),
            ],
            database_operations=[],
        ),
    ]
