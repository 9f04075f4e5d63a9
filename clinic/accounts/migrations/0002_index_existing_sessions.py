from django.db import migrations


def index_existing_sessions(apps, schema_editor):
    """Sessions opened before UserSession existed: index them too, so ending a
    user's sessions (or disabling the account) reaches every one."""
    from django.contrib.sessions.backends.db import SessionStore

    Session = apps.get_model("sessions", "Session")
    UserSession = apps.get_model("accounts", "UserSession")
    User = apps.get_model("clinic", "User")
    users = set(User.objects.values_list("pk", flat=True))
    store = SessionStore()
    for session in Session.objects.all().iterator():
        user_id = store.decode(session.session_data).get("_auth_user_id")
        if user_id is not None and str(user_id).isdigit() and int(user_id) in users:
            UserSession.objects.get_or_create(
                session_key=session.session_key, defaults={"user_id": int(user_id)}
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_sessions_and_attempts"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(index_existing_sessions, migrations.RunPython.noop)]
