"""Texts (SMS) beside emails: an outbox row has a channel and an address."""

from django.db import migrations, models
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr


def key_by_channel(apps, schema_editor):
    """Dedupe keys name their channel now ("email:confirmation:12"), so an
    email and a text for the same event are two rows, each sent once."""
    Notification = apps.get_model("bookings", "Notification")
    Notification.objects.exclude(dedupe_key__startswith="email:").update(
        dedupe_key=Concat(Value("email:"), F("dedupe_key"))
    )


def unkey(apps, schema_editor):
    Notification = apps.get_model("bookings", "Notification")
    Notification.objects.filter(channel="email", dedupe_key__startswith="email:").update(
        dedupe_key=Substr("dedupe_key", 7)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0006_appointment_history_state_incomplete"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="channel",
            field=models.CharField(
                choices=[("email", "Email"), ("sms", "Text (SMS)")], default="email", max_length=5
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="to_phone",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AlterField(
            model_name="notification",
            name="to_email",
            field=models.EmailField(blank=True, max_length=254),
        ),
        migrations.RunPython(key_by_channel, unkey),
    ]
