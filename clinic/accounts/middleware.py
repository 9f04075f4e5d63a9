"""Asks for the second factor where it is needed (see accounts/rules.py)."""

from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from clinic.accounts.models import TwoFactorPolicy, TwoFactorRequirement
from clinic.accounts.rules import SecondFactor, second_factor_required, second_factor_step
from clinic.accounts.services import is_enrolled
from clinic.roles import Role

# What the session already knows, so pages ask the database nothing:
# "verified" (a code was given) or "not_needed" (nothing required or set up
# at login; marking someone later ends their sessions). Worked out at login
# (accounts.signals), or on the first request of an older session.
SESSION_KEY = "second_factor"
VERIFIED, NOT_NEEDED, PENDING = "verified", "not_needed", "pending"


def step_for(user, *, admin: bool, verified: bool) -> SecondFactor:
    return second_factor_step(
        required=is_required(user, admin=admin), enrolled=is_enrolled(user), verified=verified
    )


def is_required(user, *, admin: bool) -> bool:
    return second_factor_required(
        staff_member=any(role != Role.PATIENT for role in user.roles),
        marked=TwoFactorRequirement.objects.filter(user=user).exists(),
        all_staff=TwoFactorPolicy.current().all_staff,
        admin=admin,
    )


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not self._exempt(request.path):
            # The admin's own check turns away anyone without admin access.
            admin = user.is_staff and request.path.startswith(reverse("admin:index"))
            known = request.session.get(SESSION_KEY)
            if known != VERIFIED and (known != NOT_NEEDED or admin):
                verified = user.is_verified()
                step = step_for(user, admin=admin, verified=verified)
                if step == SecondFactor.NONE:
                    if verified or not admin:
                        request.session[SESSION_KEY] = VERIFIED if verified else NOT_NEEDED
                else:
                    name = "accounts:verify" if step == SecondFactor.VERIFY else "accounts:setup"
                    query = urlencode({"next": request.get_full_path()})
                    return redirect(f"{reverse(name)}?{query}")
        return self.get_response(request)

    @staticmethod
    def _exempt(path):
        # Only the pages that give the second factor. Never the ones that
        # change it (new recovery codes, switching it off): those need it.
        return path in {
            reverse(name)
            for name in ("accounts:two_factor", "accounts:verify", "accounts:setup", "logout")
        } or path == reverse("accounts:codes")
