"""The four roles of a clinic, as Django groups with permissions.

Groups are created by a data migration (clinic/migrations/0002_roles.py); each
app that adds models grants their permissions to roles in a data migration of
its own with `grant_permissions`. Views check permissions, not group names, so
a manager can widen or narrow a role in the admin without a code change.
"""

from enum import StrEnum


class Role(StrEnum):
    # Order matters: a user with several roles lands on the first one's page.
    PRACTITIONER = "Practitioner"
    FRONT_DESK = "Front desk"
    MANAGER = "Manager"
    PATIENT = "Patient"


def grant_permissions(apps, grants):
    """Give each role the listed permissions ("app_label.codename").

    For use inside data migrations: permissions of apps migrated in the same
    run do not exist until post_migrate, so they are created here first, from
    the migration's own state (`apps`), not from today's models: a model that
    has since moved to another app (the outbox, clinic/0013) still gets its
    permissions under the label it had then, and the move carries them over.
    """
    from django.contrib.auth.management import _get_all_permissions

    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    labels = {perm.split(".")[0] for perms in grants.values() for perm in perms}
    for label in labels:
        for model in apps.get_app_config(label).get_models():
            content_type, _ = ContentType.objects.get_or_create(
                app_label=label, model=model._meta.model_name
            )
            for codename, name in _get_all_permissions(model._meta):
                Permission.objects.get_or_create(
                    content_type=content_type, codename=codename, defaults={"name": name}
                )

    for role, perms in grants.items():
        group, _ = Group.objects.get_or_create(name=str(role))
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
