"""Sessions end after a while without activity: a shared front-desk screen
left logged in must not keep a patient's record open."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils.cache import patch_cache_control

from clinic.roles import Role

TOUCH_EVERY = 60  # seconds: refresh the timestamp at most once a minute


class IdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            staff_only = user.roles and Role.PATIENT not in user.roles
            minutes = settings.STAFF_IDLE_MINUTES if staff_only else settings.PATIENT_IDLE_MINUTES
            now = int(time.time())
            last = request.session.get("last_seen")
            if last is not None and now - last > minutes * 60:
                logout(request)
                response = redirect_to_login(request.get_full_path())
                response["Location"] += "&idle=1"
                return response
            if last is None or now - last > TOUCH_EVERY:
                request.session["last_seen"] = now
        return self.get_response(request)


class NoStoreMiddleware:
    """Pages show health data (histories, treatment records, consents, the
    portal): no browser cache or proxy may keep a copy, so a shared computer's
    Back button or disk shows nothing after logging out. Static files are
    served by WhiteNoise before this runs, and keep their long cache life."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
