"""Patients' problem reports: the form and the page after it (shared by the
portal and the aftercare email's link), the link itself (no login), and the
staff's list and review."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from clinic.access import client_ip, permission_required
from clinic.accounts.models import Attempt
from clinic.accounts.services import attempt_record, attempts_since
from clinic.audit import log_view
from clinic.forms import ServiceForm, post_data
from clinic.paging import Window
from clinic.params import choice_param
from clinic.roles import Role
from treatments import services
from treatments.aftercare import red_flags_for
from treatments.forms import PatientReportForm
from treatments.models import PatientReport
from treatments.reports import LinkProblem, read_report_token

SENT_KEY = "patient_report_sent"
HOUR = timedelta(hours=1)
REPORTS_PER_PAGE = 50

LINK_PROBLEMS = {
    LinkProblem.TAMPERED: (
        400,
        "This link is not complete",
        "Part of the link may be missing. Open the aftercare email from us again and tap the "
        "link, or log in to your portal.",
    ),
    LinkProblem.EXPIRED: (
        410,
        "This link has expired",
        "It works for %(days)s days after a treatment. To tell us about a problem now, call us "
        "on %(phone)s.",
    ),
    "someone_else": (
        403,
        "This link is for someone else",
        "It was sent to another patient. Log out first, or use the link in your own email.",
    ),
    "too_many": (
        429,
        "Too many tries from here",
        "Please wait an hour before trying again, or call us on %(phone)s.",
    ),
}


def _link_problem(request, problem):
    status, title, advice = LINK_PROBLEMS[problem]
    params = {"days": settings.PATIENT_REPORT_DAYS, "phone": settings.CLINIC_PHONE}
    return render(
        request,
        "treatments/report_problem.html",
        {"title": title, "advice": advice % params},
        status=status,
    )


def report_page(request, *, record, via, sent):
    """The report form for `record` (already found through the patient). A
    good report goes through the service and on to `sent(report)`; a refused
    one shows its messages and, if the answers are red flags, "Call 999 now"
    above them all the same."""
    now = timezone.now()
    form = PatientReportForm(post_data(request))
    urgent = False
    if request.method == "POST" and form.is_valid():
        report = form.call_service(
            services.patient_report_submit,
            record=record,
            via=via,
            answers=form.answers(),
            concern=form.cleaned_data["concern"],
            description=form.cleaned_data["description"],
            now=now,
        )
        if report is not None:
            return sent(report)
        urgent = services.report_assess(record=record, answers=form.answers(), now=now).emergency
    return render(
        request,
        "treatments/report_form.html",
        {
            "form": form,
            "record": record,
            "urgent": urgent,
            "open": record.started_at >= services.reportable_since(now),
            "days": settings.PATIENT_REPORT_DAYS,
        },
    )


def report_sent_page(request, report):
    """After a report: a red flag shows "Call 999 now" first, then that the
    clinic has been told; otherwise who will look at it."""
    record = report.record
    return render(
        request,
        "treatments/report_sent.html",
        {
            "report": report,
            "record": record,
            "red_flags": red_flags_for(record.procedure.agents),
        },
    )


def _link_record(request, token):
    """(record, None) for a good link, or (None, the problem page)."""
    address = client_ip(request) or "-"
    since = timezone.now() - HOUR
    limit = settings.REPORT_LINK_FAILURES_PER_HOUR
    if attempts_since(kind=Attempt.Kind.REPORT_LINK, key=address, since=since) >= limit:
        return None, _link_problem(request, "too_many")
    record, problem = read_report_token(token)
    if problem is not None:
        attempt_record(kind=Attempt.Kind.REPORT_LINK, key=address, window=HOUR)
        return None, _link_problem(request, problem)
    user = request.user
    if user.is_authenticated and user.has_role(Role.PATIENT):
        own = getattr(user, "patient", None)
        if own is None or own.pk != record.patient_id:
            return None, _link_problem(request, "someone_else")
    return record, None


@never_cache
def report_link(request, token):
    """The aftercare email's link: the report form without a login."""
    record, problem = _link_record(request, token)
    if problem is not None:
        return problem

    def sent(report):
        request.session[SENT_KEY] = report.pk
        return redirect("treatments:report_link_sent", token=token)

    return report_page(request, record=record, via=PatientReport.Via.LINK, sent=sent)


@never_cache
def report_link_sent(request, token):
    record, problem = _link_record(request, token)
    if problem is not None:
        return problem
    report = PatientReport.objects.filter(pk=request.session.get(SENT_KEY), record=record).first()
    if report is None:
        return redirect("treatments:report_link", token=token)
    return report_sent_page(request, report)


# Staff: the list and the review


def _reports(request):
    return PatientReport.objects.visible_to(request.user).select_related(
        "patient", "record__procedure", "record__practitioner", "review__reviewed_by"
    )


@permission_required("treatments.view_patientreport")
def reports(request):
    """Reports waiting for review (red flags first), or those reviewed. The
    front desk sees who and when, to put calls through; what the patient
    said is for clinicians and managers."""
    show = choice_param(request, "show", ["waiting", "reviewed"], "waiting")
    if show == "waiting":
        listed = _reports(request).awaiting_review().urgent_first()
    else:
        listed = _reports(request).filter(review__isnull=False).order_by("-review__reviewed_at")
    return render(
        request,
        "treatments/reports.html",
        {
            "page": Window(listed, request, per_page=REPORTS_PER_PAGE),
            "show": show,
            "details": request.user.has_perm("treatments.read_patientreport"),
        },
    )


class ReviewForm(ServiceForm):
    note = forms.CharField(
        label=_("What you did"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("E.g. called the patient, advice given, seen in clinic, sent to A&E."),
        required=False,
    )


@permission_required("treatments.read_patientreport")
def report_detail(request, pk):
    report = get_object_or_404(_reports(request), pk=pk)
    may_review = request.user.has_perm("treatments.add_patientreportreview")
    form = ReviewForm(post_data(request))
    if request.method == "POST":
        if not may_review:
            raise PermissionDenied
        if form.is_valid() and form.call_service(
            services.patient_report_review,
            report=report,
            by=request.user,
            note=form.cleaned_data["note"],
        ):
            messages.success(request, f"Marked reviewed: {report.patient}'s report.")
            return redirect("treatments:reports")
    else:
        log_view(request, what="patient report", obj=report, patient=report.patient)
    return render(
        request,
        "treatments/report_detail.html",
        {
            "report": report,
            "record": report.record,
            "review": getattr(report, "review", None),
            "form": form,
            "may_review": may_review,
        },
    )
