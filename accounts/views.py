from datetime import timedelta

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect

from accounts.models import Attempt
from accounts.services import attempt_record
from clinic.access import client_ip

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


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A new password also lifts a login lockout, as the lockout page promises:
    whoever chose it proved they own the mailbox."""

    def form_valid(self, form):
        response = super().form_valid(form)
        axes_reset(username=form.user.email.lower())
        return response
