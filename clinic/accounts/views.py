import io
from base64 import b32encode
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import segno
from axes.utils import reset as axes_reset
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.sessions.models import Session
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.access import client_ip, role_required, safe_next
from clinic.accounts.middleware import SESSION_KEY, VERIFIED, is_required
from clinic.accounts.models import Attempt, TwoFactorPolicy, TwoFactorRequirement, UserSession
from clinic.accounts.services import (
    CODE_WAIT,
    CODE_WRONG,
    attempt_record,
    is_enrolled,
    recovery_codes_renew,
    sessions_end,
    staff_users,
    totp_device_for_setup,
    two_factor_confirm,
    two_factor_mark,
    two_factor_policy_set,
    two_factor_remove,
)
from clinic.accounts.signals import remember_session
from clinic.flash import call_service
from clinic.forms import ServiceForm, post_data
from clinic.roles import Role

HOUR = timedelta(hours=1)
# One client address may ask for this many times more resets than one email:
# a clinic's shared front-desk connection is one address for many people.
ADDRESS_FACTOR = 10


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request, throttled: PASSWORD_RESETS_PER_HOUR emails for
    one address an hour, ten times that from one client address. Past the
    limit the page looks the same but nothing is sent, so it neither floods an
    inbox nor tells anyone whether an address has an account."""

    def form_valid(self, form):
        limit = settings.PASSWORD_RESETS_PER_HOUR
        email = form.cleaned_data["email"].strip().lower()
        per_email = attempt_record(kind=Attempt.Kind.RESET_EMAIL, key=email, window=HOUR)
        per_address = attempt_record(
            kind=Attempt.Kind.RESET_ADDRESS, key=client_ip(self.request) or "-", window=HOUR
        )
        if per_email > limit or per_address > limit * ADDRESS_FACTOR:
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's, but the session it gives a new key (to stay logged in) is
    indexed again, so it can still be seen and ended."""

    def form_valid(self, form):
        response = super().form_valid(form)
        remember_session(sender=None, request=self.request, user=form.user)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A new password also lifts a login lockout, as the lockout page promises:
    whoever chose it proved they own the mailbox."""

    def form_valid(self, form):
        response = super().form_valid(form)
        axes_reset(username=form.user.email.lower())
        return response


# Two-factor login, sessions


class CodeForm(ServiceForm):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text=_("The 6 digits your authenticator app shows, or one of your recovery codes."),
    )
    field_for_code = {"code_wrong": "token"}


def _next(request):
    return safe_next(request) or reverse("home")


def _verified(request, device):
    otp_login(request, device)
    request.session[SESSION_KEY] = VERIFIED


@login_required
def two_factor_verify(request):
    form = CodeForm(post_data(request))
    if request.method == "POST" and form.is_valid():
        # django-otp makes each wrong code double the wait before the next is
        # even checked: a code typed too soon is refused whatever it is, and
        # the page says so rather than calling a right code wrong.
        apps = TOTPDevice.objects.filter(user=request.user, confirmed=True)
        waiting = any(not app.verify_is_allowed()[0] for app in apps)
        device = match_token(request.user, form.cleaned_data["token"].replace(" ", ""))
        if device is not None:
            _verified(request, device)
            return redirect(_next(request))
        form.add_error("token", CODE_WAIT if waiting else CODE_WRONG)
    return render(request, "accounts/two_factor_verify.html", {"form": form})


@login_required
def two_factor_setup(request):
    if is_enrolled(request.user) and not request.user.is_verified():
        # A new app replaces the old one: only with a code from the old one,
        # or a password alone would be enough to get past two-factor login.
        return redirect(f"{reverse('accounts:verify')}?{urlencode({'next': request.path})}")
    device = totp_device_for_setup(user=request.user)
    form = CodeForm(post_data(request))
    if request.method == "POST" and form.is_valid():
        codes = form.call_service(
            two_factor_confirm,
            user=request.user,
            device=device,
            token=form.cleaned_data["token"].replace(" ", ""),
        )
        if codes:
            _verified(request, device)
            request.session["recovery_codes"] = codes
            return redirect(f"{reverse('accounts:codes')}?{urlencode({'next': _next(request)})}")
    svg = io.BytesIO()
    segno.make(device.config_url, error="m").save(svg, kind="svg", xmldecl=False, scale=5)
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            # segno writes this SVG from the device's own key: no user text in it.
            "qr_svg": mark_safe(svg.getvalue().decode()),
            "secret": b32encode(device.bin_key).decode(),
        },
    )


@login_required
def two_factor_codes(request):
    """The recovery codes, shown once."""
    codes = request.session.pop("recovery_codes", None)
    if not codes:
        return redirect("accounts:security")
    return render(
        request, "accounts/two_factor_codes.html", {"codes": codes, "next": _next(request)}
    )


@require_POST
@login_required
def two_factor_new_codes(request):
    request.session["recovery_codes"] = recovery_codes_renew(user=request.user)
    return redirect("accounts:codes")


@require_POST
@login_required
def two_factor_off(request):
    called = call_service(
        request,
        two_factor_remove,
        success="Two-factor login is off for your account.",
        user=request.user,
        required=is_required(request.user, admin=False),
    )
    if called.ok:
        request.session.pop(SESSION_KEY, None)
    return redirect("accounts:security")


def _sessions(user, *, current):
    """The user's live sessions, newest first, with when each was last used."""
    rows = list(UserSession.objects.of(user))
    live = {
        session.session_key: session
        for session in Session.objects.filter(
            session_key__in=[row.session_key for row in rows], expire_date__gt=timezone.now()
        )
    }
    shown = []
    for row in rows:
        session = live.get(row.session_key)
        if session is None:
            continue
        seen = session.get_decoded().get("last_seen")
        row.last_seen = datetime.fromtimestamp(seen, UTC) if seen else row.created_at
        row.is_current = row.session_key == current
        shown.append(row)
    return shown


@login_required
def security(request):
    """The person's own page: their sessions, and their two-factor login."""
    return render(
        request,
        "accounts/security.html",
        {
            "sessions": _sessions(request.user, current=request.session.session_key),
            "enrolled": is_enrolled(request.user),
            "required": is_required(request.user, admin=False),
            "recovery_left": StaticToken.objects.filter(device__user=request.user).count(),
        },
    )


@require_POST
@login_required
def sessions_end_others(request):
    ended = sessions_end(user=request.user, keep=request.session.session_key)
    messages.success(request, f"Logged out everywhere else ({ended} sessions ended).")
    return redirect("accounts:security")


# Managers: staff security


@role_required(Role.MANAGER)
def staff_security(request):
    enrolled = set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    marked = set(TwoFactorRequirement.objects.values_list("user_id", flat=True))
    sessions = Counter(UserSession.objects.values_list("user_id", flat=True))
    staff = list(staff_users().order_by("full_name"))
    for member in staff:
        member.enrolled = member.pk in enrolled
        member.marked = member.pk in marked
        member.session_count = sessions[member.pk]
    return render(
        request,
        "accounts/staff.html",
        {"staff": staff, "policy": TwoFactorPolicy.current()},
    )


@require_POST
@role_required(Role.MANAGER)
def staff_policy(request):
    all_staff = request.POST.get("all_staff") == "on"
    ended = two_factor_policy_set(all_staff=all_staff, by=request.user)
    messages.success(
        request,
        "Two-factor login is now required for all staff"
        + (f"; {ended} sessions of staff without an app ended." if all_staff else ".")
        if all_staff
        else "Two-factor login is now required only where marked (and for the admin).",
    )
    return redirect("accounts:staff")


def _staff_member(pk):
    return get_object_or_404(staff_users(), pk=pk)


@require_POST
@role_required(Role.MANAGER)
def staff_mark(request, pk):
    member = _staff_member(pk)
    required = request.POST.get("required") == "on"
    two_factor_mark(user=member, by=request.user, required=required)
    messages.success(
        request,
        f"{member} must now use two-factor login."
        if required
        else f"{member} no longer has to use two-factor login.",
    )
    return redirect("accounts:staff")


@require_POST
@role_required(Role.MANAGER)
def staff_sessions_end(request, pk):
    member = _staff_member(pk)
    ended = sessions_end(user=member, keep=request.session.session_key)
    messages.success(request, f"{member} is logged out everywhere ({ended} sessions ended).")
    return redirect("accounts:staff")
