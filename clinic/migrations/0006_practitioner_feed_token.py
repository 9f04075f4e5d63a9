import secrets

from django.db import migrations, models

import clinic.models


def give_each_a_token(apps, schema_editor):
    Practitioner = apps.get_model("clinic", "Practitioner")
    for practitioner in Practitioner.objects.filter(feed_token__isnull=True):
        practitioner.feed_token = secrets.token_urlsafe(32)
        practitioner.save(update_fields=["feed_token"])


class Migration(migrations.Migration):
    dependencies = [("clinic", "0005_audit_and_history")]

    operations = [
        migrations.AddField(
            model_name="practitioner",
            name="feed_token",
            field=models.CharField(max_length=43, null=True),
        ),
        migrations.RunPython(give_each_a_token, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="practitioner",
            name="feed_token",
            field=models.CharField(
                default=clinic.models.new_feed_token,
                help_text="The secret part of the practitioner's calendar feed address.",
                max_length=43,
                unique=True,
                verbose_name="calendar feed key",
            ),
        ),
    ]
