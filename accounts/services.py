"""Writes about logins: sessions ended on purpose, and tries counted."""

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from accounts.models import Attempt, UserSession


@transaction.atomic
def sessions_end(*, user, keep: str | None = None) -> int:
    """End every session of `user` (but `keep`, the caller's own); returns how
    many. The session rows are deleted, so an old cookie is worthless even if
    the account is later switched back on."""
    ended = UserSession.objects.filter(user=user).exclude(session_key=keep or "")
    keys = list(ended.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    ended.delete()
    return len(keys)


def attempt_record(*, kind: str, key: str, window: timedelta, now=None) -> int:
    """Count one try; returns how many of this kind and key fall in `window`
    (this one included). Call it outside the refused service's transaction,
    which has rolled back."""
    now = now or timezone.now()
    Attempt.objects.create(kind=kind, key=str(key)[:254], at=now)
    return attempts_since(kind=kind, key=key, since=now - window)


def attempts_since(*, kind: str, key: str, since) -> int:
    return Attempt.objects.filter(kind=kind, key=str(key)[:254], at__gte=since).count()


def attempts_clear(*, kind: str, key: str) -> None:
    Attempt.objects.filter(kind=kind, key=str(key)[:254]).delete()
