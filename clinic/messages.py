"""The base layer's own messages: the invitation to the patient portal."""

from clinic import outbox
from clinic.models import message_kind

INVITATION = message_kind("invitation", "Portal invitation")


def portal_invitation(patient, *, url, now):
    outbox.enqueue(
        INVITATION,
        patient=patient,
        key=f"invitation:{patient.pk}:{outbox.stamp(now)}",
        due_at=now,
        context={"url": url},
    )
