"""Problems patients report after a treatment, and their review.

`patient_report_submit` saves the report and, when the safety engine calls it
an emergency (a red flag answered yes), writes the alerts to the treating
practitioner and the clinic in the same transaction: a report exists exactly
when its alerts do. Everything else waits on the review list until a
practitioner marks it reviewed with a note (`patient_report_review`)."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bookings.safety import procedure_facts
from clinic.refusals import Refusal
from clinic.roles import Role
from treatments import messages
from treatments.aftercare import RED_FLAG_CODES
from treatments.models.records import TreatmentRecord
from treatments.models.reports import PatientReport, PatientReportReview
from treatments.safety.engine import Case, PatientFacts, Report, Step, evaluate

DESCRIPTION_LIMIT = 2000
NOTE_LIMIT = 4000

REPORT_NOT_SIGNED = Refusal(
    "report_not_signed",
    "This treatment has no signed record yet, so it cannot be reported on here. Call us on "
    "%(phone)s.",
)
REPORT_WINDOW_CLOSED = Refusal(
    "report_window_closed",
    "This treatment was more than %(days)s days ago, so please call us on %(phone)s about it. "
    "If you have any of the warning signs, call 999 now.",
)
REPORT_ANSWER_EACH = Refusal(
    "report_answer_each",
    "Answer yes or no. (If any answer is yes, you can send the form straight away.)",
)
REPORT_WHAT_IS_WRONG = Refusal(
    "report_what_is_wrong",
    "Tell us what is wrong: pick what fits best, or write it in the box.",
    field="concern",
)
REPORT_TOO_LONG = Refusal(
    "report_too_long",
    "Please keep it under %(limit)s characters: we will call you for the rest.",
    field="description",
)
REPORT_TOO_MANY = Refusal(
    "report_too_many",
    "You have sent %(count)s reports about this treatment in the last hour: we have them "
    "all. If it is urgent, call 999. Otherwise call us on %(phone)s.",
)
REVIEW_NOT_ALLOWED = Refusal("review_not_allowed", "Only a practitioner reviews patients' reports.")
REVIEW_DONE = Refusal(
    "review_done",
    "This report was already reviewed by %(by)s. Add anything more to the treatment record "
    "as an addendum.",
)
REVIEW_NOTE_MISSING = Refusal(
    "review_note_missing",
    "Say what you did (e.g. called the patient, advice given, seen in clinic).",
    field="note",
)
REVIEW_NOTE_TOO_LONG = Refusal(
    "review_note_too_long",
    "Keep the note under %(limit)s characters; put the rest in an addendum to the record.",
    field="note",
)


def report_assess(*, record, answers: dict, now):
    """The safety engine's verdict on a report's answers ({code: bool or None}),
    without saving anything: the page shows "Call 999 now" from this even
    when a report is refused (too many in the hour)."""
    case = Case(
        step=Step.PATIENT_REPORT,
        today=timezone.localdate(now),
        day=timezone.localdate(record.started_at),
        procedure=procedure_facts(record.procedure),
        patient=PatientFacts(
            name=record.patient.full_name, date_of_birth=record.patient.date_of_birth
        ),
        report=Report(yes=frozenset(code for code in RED_FLAG_CODES if answers.get(code))),
    )
    return evaluate(case)


def reportable_since(now):
    """The earliest moment a treatment may have started and still be reported
    on (PATIENT_REPORT_DAYS, counted in the clinic's local days)."""
    first_day = timezone.localdate(now) - timedelta(days=settings.PATIENT_REPORT_DAYS)
    return timezone.make_aware(datetime.combine(first_day, time.min))


def _phone():
    return {"phone": settings.CLINIC_PHONE}


@transaction.atomic
def patient_report_submit(
    *,
    record: TreatmentRecord,
    via: str,
    answers: dict,
    concern: str = "",
    description: str = "",
    now=None,
) -> PatientReport:
    """Save a patient's report about their signed treatment `record` (the
    caller found the record through the patient: the portal's login or the
    signed link). A red flag: alerts in the same transaction. Otherwise it
    must say what is wrong and answer every red-flag question."""
    now = now or timezone.now()
    record = TreatmentRecord.objects.select_related("patient", "practitioner__user").get(
        pk=record.pk
    )
    if not record.is_signed:
        raise REPORT_NOT_SIGNED.error(**_phone())
    if record.started_at < reportable_since(now):
        raise REPORT_WINDOW_CLOSED.error(days=settings.PATIENT_REPORT_DAYS, **_phone())
    recent = PatientReport.objects.filter(
        record=record, submitted_at__gte=now - timedelta(hours=1)
    ).count()
    if recent >= settings.PATIENT_REPORTS_PER_HOUR:
        raise REPORT_TOO_MANY.error(count=recent, **_phone())
    assessment = report_assess(record=record, answers=answers, now=now)
    description = (description or "").strip()
    if len(description) > DESCRIPTION_LIMIT:
        raise REPORT_TOO_LONG.error(limit=DESCRIPTION_LIMIT)
    if not assessment.emergency:
        missing = {code: [REPORT_ANSWER_EACH.error()] for code in RED_FLAG_CODES}
        missing = {code: error for code, error in missing.items() if answers.get(code) is None}
        if not (concern or description):
            missing[REPORT_WHAT_IS_WRONG.field] = [REPORT_WHAT_IS_WRONG.error()]
        if missing:
            raise ValidationError(missing)
    report = PatientReport(
        patient=record.patient,
        record=record,
        via=via,
        submitted_at=now,
        concern=concern or "",
        description=description,
        urgent=assessment.emergency,
        codes=assessment.codes(),
        **{code: answers.get(code) for code in RED_FLAG_CODES},
    )
    report.full_clean()
    report.save()
    if report.urgent:
        messages.report_alert(report, now=now)
    return report


@transaction.atomic
def patient_report_review(*, report: PatientReport, by, note: str, now=None) -> PatientReportReview:
    """A practitioner marks a report reviewed, saying what they did."""
    now = now or timezone.now()
    if not by.has_role(Role.PRACTITIONER):
        raise REVIEW_NOT_ALLOWED.error()
    report = PatientReport.objects.select_for_update().get(pk=report.pk)
    done = PatientReportReview.objects.filter(report=report).select_related("reviewed_by").first()
    if done is not None:
        raise REVIEW_DONE.error(by=done.reviewed_by)
    note = (note or "").strip()
    if not note:
        raise REVIEW_NOTE_MISSING.error()
    if len(note) > NOTE_LIMIT:
        raise REVIEW_NOTE_TOO_LONG.error(limit=NOTE_LIMIT)
    review = PatientReportReview(report=report, reviewed_by=by, reviewed_at=now, note=note)
    review.full_clean()
    review.save()
    return review
