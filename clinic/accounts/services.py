"""Writes about logins: sessions ended on purpose, tries counted, and
two-factor login (django-otp: TOTP apps and static recovery codes)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.models import Attempt, TwoFactorPolicy, TwoFactorRequirement, UserSession
from clinic.roles import Role


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


# Two-factor login

RECOVERY_CODE_COUNT = 10
CODE_WRONG = (
    "That code is not right. Type the 6 digits your authenticator app shows now (they change "
    "every 30 seconds)."
)
CODE_WAIT = (
    "Several wrong codes in a row: wait a minute before the next try (each wrong code "
    "makes the wait longer), then type the code your app shows at that moment."
)
STILL_REQUIRED = (
    "Two-factor login is required for your account, so it cannot be switched off. Ask the "
    "manager if you think it should not be."
)


def staff_users():
    """Everyone with a role other than patient."""
    staff_roles = [str(role) for role in Role if role != Role.PATIENT]
    return get_user_model().objects.filter(groups__name__in=staff_roles).distinct()


def is_enrolled(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_device_for_setup(*, user) -> TOTPDevice:
    """The unconfirmed device being set up, made on first use."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


@transaction.atomic
def two_factor_confirm(*, user, device: TOTPDevice, token: str) -> list[str]:
    """Confirm the app with a code it shows; returns the new recovery codes."""
    if device.user_id != user.pk or not device.verify_token(token):
        raise ValidationError(CODE_WRONG, code="code_wrong")
    device.confirmed = True
    device.save()
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    return recovery_codes_renew(user=user)


@transaction.atomic
def recovery_codes_renew(*, user) -> list[str]:
    """Ten new single-use recovery codes; the old ones stop working."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": "Recovery codes", "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def two_factor_remove(*, user, required: bool) -> None:
    if required:
        raise ValidationError(STILL_REQUIRED, code="still_required")
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


@transaction.atomic
def two_factor_mark(*, user, by, required: bool, now=None) -> None:
    """Require (or stop requiring) a second factor for `user`. Required and
    not yet set up: their sessions end, so the next login asks them to."""
    if required:
        TwoFactorRequirement.objects.update_or_create(
            user=user, defaults={"marked_by": by, "marked_at": now or timezone.now()}
        )
        if not is_enrolled(user):
            sessions_end(user=user)
    else:
        TwoFactorRequirement.objects.filter(user=user).delete()


@transaction.atomic
def two_factor_policy_set(*, all_staff: bool, by, now=None) -> int:
    """Require a second factor of all staff (or not). Staff without an app
    lose their sessions (not the manager's own), so each sets one up at their
    next login; returns how many sessions ended."""
    TwoFactorPolicy.objects.update_or_create(
        pk=1,
        defaults={"all_staff": all_staff, "changed_by": by, "changed_at": now or timezone.now()},
    )
    ended = 0
    if all_staff:
        enrolled = TOTPDevice.objects.filter(confirmed=True).values("user_id")
        for member in staff_users().exclude(pk=by.pk).exclude(pk__in=enrolled):
            ended += sessions_end(user=member)
    return ended
