"""Photo consent (issue 19): signing a choice of uses, and withdrawing it.

Signed like treatment consent (the exact text and version, its SHA-256, the
typed name, the drawing, server time, address and browser) and append-only:
a new choice is a new record that supersedes the last; a withdrawal is a new
record with a reason, after which the patient's photos serve the clinical
record only (`Photo.objects.for_use`)."""

from django.db import transaction
from django.utils import timezone

from clinic.models import Patient
from clinic.refusals import Refusal
from treatments.models.photo_consent import (
    Marketing,
    PhotoConsent,
    PhotoConsentForm,
    statement_for,
)
from treatments.services.consent import CONSENT_NAME_MISMATCH, CONSENT_NOT_AGREED, _name_key
from treatments.signature import signature_png

PHOTO_CONSENT_FORM_OUTDATED = Refusal(
    "photo_consent_form_outdated",
    "The clinic has updated the photo consent form since the page was opened. Read the new "
    "version below and sign again.",
)
PHOTO_CONSENT_CHOICE = Refusal(
    "photo_consent_choice", "Choose whether photos may be used for marketing.", field="marketing"
)
PHOTO_CONSENT_NOT_IN_FORCE = Refusal(
    "photo_consent_not_in_force",
    "There is no signed photo consent to withdraw: the photos are for the clinical record only.",
)
PHOTO_CONSENT_REASON_REQUIRED = Refusal(
    "photo_consent_reason_required",
    "Say how the patient withdrew it (e.g. by phone on 3 December): it is kept with the record.",
    field="reason",
)
WITHDRAWN_ON_PORTAL = "Withdrawn by the patient on the portal."


def photo_consent_text(form: PhotoConsentForm, statement: str) -> str:
    """Exactly what the signing page shows, and what the hash covers."""
    return f"{form.title}\nVersion {form.version}\n\n{form.body.strip()}\n\n{statement}"


def _lock(patient):
    list(Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk"))


@transaction.atomic
def photo_consent_sign(
    *,
    patient: Patient,
    form: PhotoConsentForm,
    training: bool,
    marketing: str,
    typed_name: str,
    agreed: bool,
    signature: str,
    ip_address: str | None,
    user_agent: str,
    via: str,
    recorded_by=None,
    now=None,
) -> PhotoConsent:
    """The patient signs the current form with their choice of uses; it
    replaces whatever they chose before."""
    now = now or timezone.now()
    _lock(patient)
    current = PhotoConsentForm.objects.current()
    if current is None or form.pk != current.pk:
        raise PHOTO_CONSENT_FORM_OUTDATED.error()
    if marketing not in Marketing.values:
        raise PHOTO_CONSENT_CHOICE.error()
    if not agreed:
        raise CONSENT_NOT_AGREED.error()
    if _name_key(typed_name) != _name_key(patient.full_name):
        raise CONSENT_NAME_MISMATCH.error()
    png = signature_png(signature)
    latest = PhotoConsent.objects.latest_for(patient)
    statement = statement_for(training=training, marketing=marketing)
    record = PhotoConsent(
        kind=PhotoConsent.Kind.SIGNED,
        patient=patient,
        form=form,
        supersedes=latest if latest is not None and latest.in_force else None,
        training=bool(training),
        marketing=marketing,
        text_shown=photo_consent_text(form, statement),
        statement=statement,
        typed_name=typed_name.strip(),
        agreed_to_sign_electronically=True,
        signature_png=png,
        signed_at=now,
        ip_address=ip_address or None,
        user_agent=(user_agent or "")[:400],
        via=via,
        recorded_by=recorded_by,
    )
    record.seal()
    record.full_clean()
    record.save()
    return record


@transaction.atomic
def photo_consent_withdraw(
    *, patient: Patient, reason: str, by, via: str = PhotoConsent.Via.CLINIC, now=None
) -> PhotoConsent:
    """Withdraw the patient's photo consent: from now on their photos are
    for the clinical record only (every photo, whenever it was taken)."""
    now = now or timezone.now()
    _lock(patient)
    latest = PhotoConsent.objects.latest_for(patient)
    if latest is None or not latest.in_force:
        raise PHOTO_CONSENT_NOT_IN_FORCE.error()
    reason = (reason or "").strip()
    if not reason and via == PhotoConsent.Via.PORTAL:
        reason = WITHDRAWN_ON_PORTAL
    if not reason:
        raise PHOTO_CONSENT_REASON_REQUIRED.error()
    statement = "I withdraw my consent: photos of me are for my clinical record only."
    record = PhotoConsent(
        kind=PhotoConsent.Kind.WITHDRAWN,
        patient=patient,
        form=latest.form,
        supersedes=latest,
        text_shown=latest.text_shown,
        statement=statement,
        reason=reason,
        signed_at=now,
        via=via,
        recorded_by=by,
    )
    record.seal()
    record.full_clean()
    record.save()
    return record
