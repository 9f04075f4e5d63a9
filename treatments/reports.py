"""The link in the aftercare email that opens a patient's problem report.

A `django.core.signing` token over (treatment record, patient), as the consent
and online-booking links are: the signature stops tampering, `max_age` is the
reporting window (PATIENT_REPORT_DAYS from when the email was written, at
signing), and the record must still be signed and the patient's. No personal
detail travels in the URL. The link may be used more than once: a patient may
need to report again."""

from enum import StrEnum

from django.conf import settings
from django.core import signing

from treatments.models.records import TreatmentRecord

TOKEN_SALT = "vermilion.patient-report"


class LinkProblem(StrEnum):
    TAMPERED = "tampered"
    EXPIRED = "expired"


def report_token(record) -> str:
    return signing.dumps({"r": record.pk, "p": record.patient_id}, salt=TOKEN_SALT, compress=True)


def read_report_token(token):
    """(TreatmentRecord, None) for a good link, or (None, LinkProblem)."""
    try:
        data = signing.loads(
            token, salt=TOKEN_SALT, max_age=settings.PATIENT_REPORT_DAYS * 24 * 3600
        )
    except signing.SignatureExpired:
        return None, LinkProblem.EXPIRED
    except signing.BadSignature:
        return None, LinkProblem.TAMPERED
    if not isinstance(data, dict):
        return None, LinkProblem.TAMPERED
    record = (
        TreatmentRecord.objects.signed()
        .select_related("patient", "practitioner", "procedure")
        .filter(pk=data.get("r"), patient_id=data.get("p"))
        .first()
    )
    return (record, None) if record is not None else (None, LinkProblem.TAMPERED)
