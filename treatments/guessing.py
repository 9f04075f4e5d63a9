"""Guessing limits on consent links.

A signing link asks for the patient's name and date of birth. Each wrong
answer is counted against the link; at CONSENT_LINK_GUESSES the link is
closed (revoked) and the managers are told, so the 40 guesses in 11 seconds
of issue 14 become at most five, and the clinic knows."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinic.accounts.alerts import tell_managers
from clinic.accounts.models import Attempt
from clinic.accounts.services import attempt_record, attempts_since
from treatments.models import ConsentRequest


def _window():
    return timedelta(hours=settings.CONSENT_LINK_HOURS + 1)


@transaction.atomic
def consent_link_wrong_details(*, link: ConsentRequest, now=None) -> bool:
    """Count one wrong answer on `link`; True when this closed it."""
    now = now or timezone.now()
    tries = attempt_record(kind=Attempt.Kind.CONSENT_LINK, key=link.pk, window=_window(), now=now)
    if tries < settings.CONSENT_LINK_GUESSES:
        return False
    closed = ConsentRequest.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
        revoked_at=now
    )
    if closed:
        tell_managers(
            subject="A consent link was closed after wrong answers",
            body=(
                f"A consent-signing link was closed after {tries} wrong names or dates of "
                f"birth. Check with the patient by phone before sending a new one:\n\n"
                f"{settings.SITE_URL}{link.appointment.get_absolute_url()}\n"
            ),
        )
    return True


def consent_link_closed_by_guessing(link: ConsentRequest, *, now=None) -> bool:
    now = now or timezone.now()
    tries = attempts_since(kind=Attempt.Kind.CONSENT_LINK, key=link.pk, since=now - _window())
    return tries >= settings.CONSENT_LINK_GUESSES
