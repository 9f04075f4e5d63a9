"""Complication records: opened from a treatment record, a page of large
steps for the chair (each a form of its own, one tap where possible), the
signing and the addenda."""

import csv
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic.access import permission_required
from clinic.audit import log_view
from clinic.flash import call_service
from clinic.params import RANGE_BACKWARDS, DayRangeQuery, choice_param, read_query
from clinic.roles import Role
from treatments import services
from treatments.forms import (
    ComplicationOpenForm,
    ComplicationSignForm,
    ComplicationStepForm,
    RegulatorReportForm,
)
from treatments.models import (
    Complication,
    ComplicationCheckIn,
    ComplicationStep,
    KitLot,
    TreatmentRecord,
)

Kind = ComplicationStep.Kind
# What a dose card offers first.
DOSE_DEFAULTS = {Kind.HYALURONIDASE: "1500 IU", Kind.ADRENALINE: "0.5 mg IM (0.5 mL of 1:1000)"}


def _complications(request):
    return Complication.objects.visible_to(request.user).select_related(
        "patient", "record__procedure", "record__practitioner__user", "opened_by", "signed_by"
    )


@require_POST
@permission_required("treatments.add_complication")
def complication_new(request, pk):
    record = get_object_or_404(TreatmentRecord.objects.visible_to(request.user), pk=pk)
    form = ComplicationOpenForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("kind", []):
            messages.error(request, error)
        return redirect(f"{record.get_absolute_url()}#complications")
    complication = form.call_service(
        services.complication_open, record=record, kind=form.cleaned_data["kind"], by=request.user
    )
    if complication is None:
        for error in form.non_field_errors() + form.errors.get("kind", []):
            messages.error(request, error)
        return redirect(f"{record.get_absolute_url()}#complications")
    return redirect(complication)


def _page(request, complication, *, status=200, step_form=None, sign_form=None, report_form=None):
    today = timezone.localdate()
    steps = list(complication.steps.select_related("by", "kit_lot__medicine"))
    for step in steps:
        step.sign_labels = [services.SIGNS.get(code, code) for code in step.signs]
    seen = {code for step in steps for code in step.signs}
    escalated = {step.escalated_to for step in steps if step.escalated_to}
    lots = {
        kind: list(
            KitLot.objects.filter(
                medicine__kind=kind, medicine__is_active=True, quantity_remaining__gt=0
            )
            .exclude(expiry_date__lt=today)
            .select_related("medicine")
            .order_by("expiry_date")
        )
        for kind in ("hyaluronidase", "adrenaline")
    }
    can_record = request.user.has_perm("treatments.add_complication")
    can_sign = not complication.is_signed and (
        complication.opened_by_id == request.user.pk or request.user.has_role(Role.MANAGER)
    )
    context = {
        "complication": complication,
        "steps": steps,
        "cards": [
            {"kind": kind, "lots": lots.get(kind, ()), "dose": DOSE_DEFAULTS.get(kind, "")}
            for kind in (services.steps_for(complication.kind) if can_record else ())
        ],
        "signs": services.SIGNS,
        "seen": seen,
        # Vision change after filler: the practitioner is told to call 999 until
        # the record shows emergency services or an eye specialist called.
        "call_999": "vision" in seen and not escalated & {"999", "eye"},
        "escalations": ComplicationStep.Escalation.choices,
        "outcomes": Complication.Outcome.choices,
        "can_record": can_record,
        "can_sign": can_sign,
        "step_form": step_form,
        "sign_form": sign_form or ComplicationSignForm(),
        "verified": complication.verify() if complication.is_signed else None,
        "check_ins": complication.check_ins.select_related("done_by"),
        "regulator_reports": complication.regulator_reports.select_related("recorded_by"),
        "report_form": report_form or RegulatorReportForm(initial={"reported_on": today})
        if request.user.has_perm("treatments.add_regulatorreport")
        else None,
        "now": timezone.now(),
    }
    return render(request, "treatments/complication.html", context, status=status)


@permission_required("treatments.view_complication")
def complication(request, pk):
    complication = get_object_or_404(_complications(request), pk=pk)
    log_view(request, what="complication record", obj=complication, patient=complication.patient)
    return _page(request, complication)


@require_POST
@permission_required("treatments.add_complication")
def complication_step(request, pk):
    complication = get_object_or_404(_complications(request), pk=pk)
    form = ComplicationStepForm(request.POST)
    step = form.save(complication=complication, user=request.user) if form.is_valid() else None
    if step:
        at = timezone.localtime(step.at).strftime("%H:%M:%S")
        messages.success(request, f"Recorded at {at}: {step.get_kind_display()}.")
        return redirect(complication)
    return _page(request, complication, status=400, step_form=form)


@require_POST
@permission_required("treatments.view_complication")
def complication_sign(request, pk):
    complication = get_object_or_404(_complications(request), pk=pk)
    form = ComplicationSignForm(request.POST)
    if form.is_valid():
        signed = form.call_service(
            services.complication_sign,
            complication=complication,
            by=request.user,
            password=form.cleaned_data["password"],
            summary=form.cleaned_data["summary"],
            patient_sex=form.cleaned_data["patient_sex"],
        )
        if signed:
            messages.success(request, "Complication record signed. Corrections are addenda.")
            return redirect(signed)
    return _page(request, complication, status=400, sign_form=form)


@require_POST
@permission_required("treatments.add_complication")
def check_in_done(request, pk, check_in_pk):
    complication = get_object_or_404(_complications(request), pk=pk)
    check_in = get_object_or_404(ComplicationCheckIn, pk=check_in_pk, complication=complication)
    call_service(
        request,
        services.check_in_done,
        check_in=check_in,
        by=request.user,
        note=request.POST.get("note", ""),
        success="Check-in recorded.",
    )
    return redirect(f"{complication.get_absolute_url()}#check-ins")


SUMMARY_FORMATS = ("html", "csv", "json")
CSV_FIELDS = [
    "clinic_reference",
    "patient_initials",
    "patient_age",
    "patient_sex",
    "product",
    "brand",
    "lot",
    "expiry",
    "dose",
    "route",
    "given_on",
    "reaction",
    "signs",
    "description",
    "onset_date",
    "treatment_given",
    "escalated_to",
    "outcome",
    "reporter",
    "reporter_profession",
    "reporter_registration",
]


@permission_required("treatments.view_complication")
def complication_summary(request, pk):
    """The adverse-incident summary (what a Yellow Card report asks), to
    print, or as CSV (a row per suspect product) or JSON."""
    complication = get_object_or_404(_complications(request), pk=pk)
    fmt = choice_param(request, "format", SUMMARY_FORMATS, "html")
    summary = services.incident_summary(complication)
    log_view(
        request, what="adverse-incident summary", obj=complication, patient=complication.patient
    )
    name = f"adverse-incident-{complication.pk}"
    if fmt == "json":
        response = JsonResponse(summary, json_dumps_params={"indent": 2})
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response
    if fmt == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        writer = csv.DictWriter(response, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        flat = {
            key: "; ".join(value) if isinstance(value, list) else value
            for key, value in summary.items()
            if key != "suspect_products"
        }
        for product in summary["suspect_products"] or [{}]:
            writer.writerow({**flat, **product})
        return response
    return render(
        request,
        "treatments/complication_summary.html",
        {"complication": complication, "summary": summary},
    )


@require_POST
@permission_required("treatments.add_regulatorreport")
def complication_reported(request, pk):
    complication = get_object_or_404(_complications(request), pk=pk)
    form = RegulatorReportForm(request.POST)
    if form.is_valid():
        report = form.call_service(
            services.regulator_report_record,
            complication=complication,
            by=request.user,
            **form.cleaned_data,
        )
        if report:
            messages.success(request, f"Recorded: reported to the {report}.")
            return redirect(f"{complication.get_absolute_url()}#reported")
    return _page(request, complication, status=400, report_form=form)


class RatesQuery(DayRangeQuery):
    """?from=&to=: the last twelve months to today unless given."""

    def clean(self):
        data = super().clean()
        last = data.get("to") or timezone.localdate()
        first = data.get("from") or last.replace(day=1) - timedelta(days=334)
        if last < first:
            raise forms.ValidationError(RANGE_BACKWARDS)
        data["from"], data["to"] = first, last
        return data


@permission_required("treatments.view_complication")
def complications_overview(request):
    """Complications by kind, product, lot, practitioner and month, with the
    rates per 100 treatments done over the same days."""
    query = read_query(request, RatesQuery)
    rates = services.complication_rates(query["from"], query["to"])
    recent = _complications(request).filter(
        opened_at__date__gte=query["from"], opened_at__date__lte=query["to"]
    )[:50]
    return render(request, "treatments/complications_overview.html", {**rates, "recent": recent})
