"""Keeping UserSession in step with logins, logouts and disabled accounts."""

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from clinic.access import client_ip
from clinic.accounts.alerts import tell_managers
from clinic.accounts.models import UserSession
from clinic.accounts.rules import SecondFactor
from clinic.accounts.services import sessions_end


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


@receiver(user_logged_in)
def decide_second_factor(sender, request, user, **kwargs):
    """Whether this session needs a code, worked out once, at login."""
    from clinic.accounts.middleware import NOT_NEEDED, PENDING, SESSION_KEY, step_for

    session = getattr(request, "session", None)
    if session is not None:
        needed = step_for(user, admin=False, verified=False) != SecondFactor.NONE
        session[SESSION_KEY] = PENDING if needed else NOT_NEEDED


@receiver(user_logged_out)
def forget_session(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        UserSession.objects.filter(session_key=session.session_key).delete()


@receiver(post_save, sender=get_user_model())
def end_sessions_of_disabled_account(sender, instance, **kwargs):
    if not instance.is_active:
        sessions_end(user=instance)


@receiver(user_locked_out)
def tell_managers_of_a_lockout(sender, request, username, ip_address, **kwargs):
    tell_managers(
        subject="An account was locked after failed logins",
        body=(
            f"Logins for {username} from {ip_address} are paused after "
            f"{settings.AXES_FAILURE_LIMIT} failures in a row. If that person did not "
            f"mistype their password, someone may be guessing it.\n"
        ),
    )
