from django.db import migrations

from clinic.roles import Role, grant_permissions


def create_roles(apps, schema_editor):
    grant_permissions(
        apps,
        {
            Role.FRONT_DESK: [],
            Role.PRACTITIONER: [],
            Role.MANAGER: [
                "clinic.view_user",
                "clinic.add_user",
                "clinic.change_user",
                "clinic.view_practitioner",
                "clinic.add_practitioner",
                "clinic.change_practitioner",
            ],
            Role.PATIENT: [],
        },
    )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[str(r) for r in Role]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_users"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
