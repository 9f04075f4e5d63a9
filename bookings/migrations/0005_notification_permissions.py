from django.db import migrations

from clinic.roles import Role, grant_permissions


def grant(apps, schema_editor):
    grant_permissions(
        apps,
        {
            Role.FRONT_DESK: ["bookings.view_notification"],
            Role.MANAGER: ["bookings.view_notification"],
        },
    )


class Migration(migrations.Migration):
    dependencies = [("bookings", "0004_notifications")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
