"""Consent status of appointments, and signing links.

Reads only: what each appointment still needs signed, and the token in a
signing link. Writes are in treatments/services.py.
"""

import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from django.core import signing

from treatments.models import ConsentForm, ConsentRequest, ConsentSignature, TreatmentRecord

TOKEN_SALT = "vermilion.consent-link"


class ConsentState(StrEnum):
    MISSING = "missing"
    SENT = "sent"
    SIGNED = "signed"
    VOID = "void"


STATE_LABELS = {
    ConsentState.MISSING: "Consent not sent",
    ConsentState.SENT: "Consent link sent",
    ConsentState.SIGNED: "Consent signed",
    ConsentState.VOID: "Consent void: sign again",
}


@dataclass
class PartConsent:
    """One form an appointment needs: for a single procedure, or for each part
    of a combined one."""

    procedure: object
    form: ConsentForm | None  # the current version, to sign now
    state: ConsentState
    record: ConsentSignature | None = None  # the latest record for this part


@dataclass
class AppointmentConsent:
    parts: list = field(default_factory=list)

    @property
    def state(self):
        states = {part.state for part in self.parts}
        if not states:
            return ConsentState.MISSING
        if states == {ConsentState.SIGNED}:
            return ConsentState.SIGNED
        for state in (ConsentState.VOID, ConsentState.SENT, ConsentState.MISSING):
            if state in states:
                return state
        return ConsentState.MISSING

    @property
    def label(self):
        return STATE_LABELS[self.state]

    @property
    def is_complete(self):
        return self.state == ConsentState.SIGNED

    def outstanding(self):
        """Parts still to sign, in order."""
        return [part for part in self.parts if part.state != ConsentState.SIGNED]


def consent_for(appointments, *, now, records=True):
    """{appointment id: AppointmentConsent} for many appointments in three
    queries (their procedures' parts must be prefetched or cached).

    records=False leaves PartConsent.record empty and reads only what the
    states need, for lists of many appointments that show a badge each."""
    appointments = list(appointments)
    ids = [a.pk for a in appointments]
    current = {form.procedure_id: form for form in ConsentForm.objects.current()}
    latest = {}  # the latest record (or its kind) for each (appointment, procedure part)
    signatures = ConsentSignature.objects.filter(appointment_id__in=ids).order_by("signed_at", "pk")
    if records:
        # Never the text, statement or drawn signature: only links are shown.
        for record in signatures.select_related("form").defer(
            "text_shown", "statement", "signature_png", "form__body"
        ):
            latest[(record.appointment_id, record.form.procedure_id)] = record
    else:
        for appointment_id, procedure_id, kind in signatures.values_list(
            "appointment_id", "form__procedure_id", "kind"
        ):
            latest[(appointment_id, procedure_id)] = kind
    open_links = ConsentRequest.objects.filter(
        appointment_id__in=ids, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    )
    sent = set(open_links.values_list("appointment_id", flat=True))
    summary = {}
    for appointment in appointments:
        parts = []
        for part in appointment.procedure.parts():
            found = latest.get((appointment.pk, part.pk))
            kind = found.kind if isinstance(found, ConsentSignature) else found
            if kind == ConsentSignature.Kind.SIGNED:
                state = ConsentState.SIGNED
            elif appointment.pk in sent:
                state = ConsentState.SENT
            elif found is not None:
                state = ConsentState.VOID
            else:
                state = ConsentState.MISSING
            record = found if records else None
            parts.append(PartConsent(part, current.get(part.pk), state, record))
        summary[appointment.pk] = AppointmentConsent(parts)
    return summary


def make_token(request: ConsentRequest) -> str:
    return signing.dumps({"r": request.pk, "n": request.nonce}, salt=TOKEN_SALT, compress=True)


def new_nonce():
    return secrets.token_urlsafe(24)


class LinkProblem(StrEnum):
    TAMPERED = "tampered"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"


def read_token(token, *, now):
    """(ConsentRequest, None) for a good link, or (request or None, LinkProblem)."""
    try:
        data = signing.loads(
            token, salt=TOKEN_SALT, max_age=settings.CONSENT_LINK_HOURS * 3600 + 60
        )
    except signing.SignatureExpired:
        return None, LinkProblem.EXPIRED
    except signing.BadSignature:
        return None, LinkProblem.TAMPERED
    request = (
        ConsentRequest.objects.select_related("appointment__patient", "appointment__procedure")
        .filter(pk=data.get("r"), nonce=data.get("n"))
        .first()
    )
    if request is None:
        return None, LinkProblem.TAMPERED
    if request.revoked_at is not None:
        return request, LinkProblem.REVOKED
    if request.used_at is not None:
        return request, LinkProblem.USED
    if now >= request.expires_at:
        return request, LinkProblem.EXPIRED
    return request, None


def attach_consent(appointments, *, now):
    """Set `.consent` on each appointment (three queries for all of them),
    its state only: for lists."""
    appointments = list(appointments)
    summary = consent_for(appointments, now=now, records=False)
    for appointment in appointments:
        appointment.consent = summary[appointment.pk]
    return appointments


def appointment_page_part(appointment, *, now):
    """The consent and the treatment record on the appointment page
    (registered with bookings.extensions)."""
    return {
        "consent": consent_for([appointment], now=now)[appointment.pk],
        "record": TreatmentRecord.objects.filter(appointment=appointment).first(),
    }
