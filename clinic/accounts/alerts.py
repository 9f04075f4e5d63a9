"""Telling the managers when something looks like an attack."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction

from clinic.roles import Role

log = logging.getLogger(__name__)


def manager_emails() -> list[str]:
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=str(Role.MANAGER))
        .values_list("email", flat=True)
        .distinct()
    )


def tell_managers(*, subject: str, body: str) -> None:
    """Email every active manager once the current transaction commits. An
    alert names no patient: it says where to look, on the site."""

    def send():
        recipients = manager_emails()
        if not recipients:
            log.warning("No manager to tell: %s", subject)
            return
        try:
            EmailMessage(
                subject=f"[{settings.CLINIC_NAME}] {subject}", body=body, to=recipients
            ).send()
        except Exception:  # an alert must never break the request that raised it
            log.exception("Could not email the managers: %s", subject)

    transaction.on_commit(send)
