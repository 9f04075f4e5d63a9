"""Keeping UserSession in step with logins, logouts and disabled accounts."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import UserSession
from accounts.services import sessions_end
from clinic.access import client_ip


@receiver(user_logged_in)
def remember_session(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if session is None:
        return
    if session.session_key is None:
        session.save()
    UserSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={
            "user": user,
            "ip_address": client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
        },
    )


@receiver(user_logged_out)
def forget_session(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        UserSession.objects.filter(session_key=session.session_key).delete()


@receiver(post_save, sender=get_user_model())
def end_sessions_of_disabled_account(sender, instance, **kwargs):
    if not instance.is_active:
        sessions_end(user=instance)
