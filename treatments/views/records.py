"""Treatment records at the chair: today's check, the record, its lines,
signing and addenda; the patient's chart; the recall of a lot."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bookings.models import Appointment
from clinic.access import permission_required
from clinic.accounts.alerts import tell_managers
from clinic.accounts.models import Attempt
from clinic.accounts.services import attempt_record, attempts_clear
from clinic.audit import log_view
from clinic.flash import call_service
from clinic.forms import post_data
from clinic.models import AuditEvent, Patient
from clinic.params import SearchField, read_query
from clinic.roles import Role
from treatments import services
from treatments.forms import (
    AddendumForm,
    ComplicationOpenForm,
    InjectionForm,
    RecordForm,
    SameDayCheckForm,
    SignForm,
)
from treatments.models import (
    Addendum,
    Complication,
    InjectionLine,
    Lot,
    Photo,
    TreatmentRecord,
)
from treatments.rules import dose_summary
from treatments.screening import screen_patient
from treatments.sites import sites_for

# Treatment records


def _records(request):
    return TreatmentRecord.objects.visible_to(request.user).select_related(
        "patient",
        "practitioner__user",
        "procedure",
        "appointment",
        "medical_history",
        "signed_by",
        "same_day_check__asked_by",
        "prescription__prescriber",
    )


@require_POST
@permission_required("treatments.add_treatmentrecord")
def record_start(request, appointment_pk):
    appointment = get_object_or_404(Appointment.objects.visible_to(request.user), pk=appointment_pk)
    called = call_service(
        request, services.treatment_start, appointment=appointment, by=request.user
    )
    return redirect(called.value if called.ok else appointment)


@permission_required("treatments.add_samedaycheck")
def same_day_check(request, appointment_pk):
    """Today's safety questions, then the treatment record. A blocking
    answer stops here and offers the earliest new date."""
    appointment = get_object_or_404(
        Appointment.objects.visible_to(request.user).select_related(
            "patient", "procedure", "practitioner__user"
        ),
        pk=appointment_pk,
    )
    existing = TreatmentRecord.objects.filter(appointment=appointment).first()
    if existing is not None:
        return redirect(existing)
    now = timezone.now()
    today = timezone.localdate(now)
    form = SameDayCheckForm(
        post_data(request),
        window_from=services.same_day_window_start(appointment, now=now),
        today=today,
    )
    safety = None
    if request.method == "POST" and form.is_valid():
        result = form.call_service(
            services.same_day_check_record,
            appointment=appointment,
            by=request.user,
            now=now,
            **form.cleaned_data,
        )
        if result is not None:
            _, safety = result
            if not safety.refused:
                record = form.call_service(
                    services.treatment_start, appointment=appointment, by=request.user, now=now
                )
                if record is not None:
                    return redirect(record)
    return render(
        request,
        "treatments/same_day.html",
        {"appointment": appointment, "form": form, "safety": safety},
        status=200,
    )


def _record_page(request, record, *, status=200, **forms):
    today = timezone.localdate(record.appointment.starts_at)
    lines = list(record.lines.select_related("product", "lot"))
    doses = services.record_doses(record, lines)
    safety = None if record.is_signed else services.record_safety(record, lines)
    dose_notes = [f for f in safety.findings if f.rule == "doses"] if safety else []
    by_site = {}
    for line in lines:
        by_site.setdefault(line.site, []).append(line)
    chart = [
        {"site": site, "amount": sum(line.amount for line in by_site.get(site.code, []))}
        for site in sites_for(record.procedure.agents)
    ]
    editable = not record.is_signed and record.practitioner.user_id == request.user.pk
    can_sign = editable or (not record.is_signed and request.user.has_role(Role.MANAGER))
    initial = {name: getattr(record, name) for name in services.RECORD_FIELDS}
    sign_form = forms.get("sign_form") or SignForm()
    if editable:  # the password goes with the whole record form (see record_sign)
        sign_form.fields["password"].widget.attrs["form"] = "details-form"
    context = {
        "record": record,
        "lines": lines,
        "doses": doses,
        "dose_notes": dose_notes,
        "needs_reason": any(f.code == "dose_above_maximum" for f in dose_notes),
        "check": record.same_day_check,
        "chart": chart,
        "editable": editable,
        "can_sign": can_sign,
        "can_amend": record.is_signed
        and (record.practitioner.user_id == request.user.pk or request.user.has_role(Role.MANAGER)),
        "screening": screen_patient(
            patient=record.patient,
            procedure=record.procedure,
            on=today,
            today=today,
            history=record.medical_history,
        ),
        "consents": record.consents.select_related("form"),
        "addenda": record.addenda.select_related("author"),
        # What the patient reported afterwards (issue 18), for those who may read it.
        "patient_reports": record.patient_reports.select_related("review__reviewed_by")
        if request.user.has_perm("treatments.read_patientreport")
        else (),
        "line_form": forms.get("line_form") or InjectionForm(record=record, on=today),
        "details_form": forms.get("details_form") or RecordForm(initial=initial),
        "sign_form": sign_form,
        "addendum_form": forms.get("addendum_form") or AddendumForm(),
        # Complications (issue 18): opened from here by a practitioner.
        "complications": record.complications.select_related("opened_by")
        if request.user.has_perm("treatments.view_complication")
        else (),
        "complication_form": ComplicationOpenForm()
        if request.user.has_perm("treatments.add_complication")
        else None,
        "verified": record.verify() if record.is_signed else None,
        "photos": sorted(
            Photo.objects.visible_to(request.user)
            .shown()
            .of_record(record)
            .select_related("taken_by"),
            key=Photo.sort_key,
        ),
    }
    return render(request, "treatments/record.html", context, status=status)


@permission_required("treatments.view_treatmentrecord")
def record_detail(request, pk):
    record = get_object_or_404(_records(request), pk=pk)
    log_view(request, what="treatment record", obj=record, patient=record.patient)
    return _record_page(request, record)


@require_POST
@permission_required("treatments.change_treatmentrecord", "treatments.add_injectionline")
def record_line_add(request, pk):
    record = get_object_or_404(_records(request), pk=pk)
    form = InjectionForm(
        request.POST, record=record, on=timezone.localdate(record.appointment.starts_at)
    )
    if form.is_valid():
        data = form.cleaned_data
        line = form.call_service(services.injection_add, record=record, by=request.user, **data)
        if line:
            return redirect(f"{record.get_absolute_url()}#lines")
    return _record_page(request, record, line_form=form, status=400)


@require_POST
@permission_required("treatments.change_treatmentrecord", "treatments.delete_injectionline")
def record_line_remove(request, pk, line_pk):
    record = get_object_or_404(_records(request), pk=pk)
    line = get_object_or_404(record.lines, pk=line_pk)
    call_service(request, services.injection_remove, line=line, by=request.user)
    return redirect(f"{record.get_absolute_url()}#lines")


@require_POST
@permission_required("treatments.change_treatmentrecord")
def record_save(request, pk):
    record = get_object_or_404(_records(request), pk=pk)
    form = RecordForm(request.POST)
    if form.is_valid() and form.call_service(
        services.record_update, record=record, by=request.user, **form.cleaned_data
    ):
        messages.success(request, "Saved. Sign the record when it is complete.")
        return redirect(f"{record.get_absolute_url()}#details")
    return _record_page(request, record, details_form=form, status=400)


@require_POST
@permission_required("treatments.change_treatmentrecord")
def record_sign(request, pk):
    record = get_object_or_404(_records(request), pk=pk)
    form = SignForm(request.POST)
    # The treating practitioner's Sign button submits the whole record form,
    # so what was typed and not saved is signed, never dropped.
    details = RecordForm(request.POST) if "anaesthetic" in request.POST else None
    if form.is_valid() and (details is None or details.is_valid()):
        signed = form.call_service(
            services.treatment_sign,
            record=record,
            by=request.user,
            password=form.cleaned_data["password"],
            **(details.cleaned_data if details else {}),
        )
        if signed:
            attempts_clear(kind=Attempt.Kind.SIGN_PASSWORD, key=request.user.pk)
            messages.success(
                request, "Signed. The aftercare instructions are on their way to the patient."
            )
            return redirect(signed)
        ended = wrong_signing_password(request, form, record)
        if ended:
            return ended
    forms = {"sign_form": form} | ({"details_form": details} if details else {})
    return _record_page(request, record, status=400, **forms)


@require_POST
@permission_required("treatments.add_addendum")
def record_addendum(request, pk):
    record = get_object_or_404(_records(request), pk=pk)
    form = AddendumForm(request.POST)
    if form.is_valid() and form.call_service(
        services.addendum_add, record=record, by=request.user, **form.cleaned_data
    ):
        attempts_clear(kind=Attempt.Kind.SIGN_PASSWORD, key=request.user.pk)
        messages.success(request, "Addendum added beside the original record.")
        return redirect(f"{record.get_absolute_url()}#addenda")
    ended = wrong_signing_password(request, form, record)
    if ended:
        return ended
    return _record_page(request, record, addendum_form=form, status=400)


SIGNED_OUT_AFTER_WRONG_PASSWORDS = (
    "You were logged out after %(count)s wrong passwords when signing. Log in again to "
    "continue; if you did not type them, tell the clinic manager."
)


def wrong_signing_password(
    request, form, record, *, code="wrong_password", what="a treatment record"
):
    """Count a wrong signing password (`code` on the form's password field).
    After SIGN_PASSWORD_GUESSES in an hour the session ends (someone at an
    unattended screen is guessing) and the managers are told: returns the
    redirect to the login page, else None. `record` is what was being signed."""
    if not form.has_error("password", code):
        return None
    user = request.user
    tries = attempt_record(kind=Attempt.Kind.SIGN_PASSWORD, key=user.pk, window=timedelta(hours=1))
    if tries < settings.SIGN_PASSWORD_GUESSES:
        return None
    attempts_clear(kind=Attempt.Kind.SIGN_PASSWORD, key=user.pk)
    tell_managers(
        subject=f"{user} was logged out after wrong signing passwords",
        body=(
            f"{tries} wrong passwords were typed to sign {what} as {user} "
            f"({user.email}); the session was ended. If {user} did not type them, someone "
            f"used their unlocked screen.\n\n{settings.SITE_URL}{record.get_absolute_url()}\n"
        ),
    )
    logout(request)
    messages.error(request, SIGNED_OUT_AFTER_WRONG_PASSWORDS % {"count": tries})
    return redirect_to_login(record.get_absolute_url())


@permission_required("treatments.view_treatmentrecord", "clinic.view_patient")
def patient_chart(request, patient_pk):
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=patient_pk)
    records = list(
        _records(request)
        .filter(patient=patient, status=TreatmentRecord.Status.SIGNED)
        .prefetch_related(
            Prefetch("lines", InjectionLine.objects.select_related("product", "lot")),
            Prefetch("addenda", Addendum.objects.select_related("author")),
            Prefetch(
                "complications",
                Complication.objects.visible_to(request.user).order_by("opened_at"),
            ),
            "procedure__components",
        )
        .order_by("-started_at")
    )
    # Each treatment's photos (issue 19): its visit's and its reviews', in one query.
    photos = sorted(
        Photo.objects.visible_to(request.user).shown().filter(patient=patient),
        key=Photo.sort_key,
    )
    for record in records:
        record.doses = dose_summary(
            [(line.product, line.site_info.lip, line.amount) for line in record.lines.all()], {}
        )
        record.photo_list = [
            p
            for p in photos
            if p.appointment_id == record.appointment_id or p.record_id == record.pk
        ]
    log_view(request, what="patient chart", obj=patient, patient=patient)
    context = {"patient": patient, "records": records, "has_photos": bool(photos)}
    if request.user.has_perm("treatments.add_complication"):
        context["complication_kinds"] = Complication.Kind.choices
    return render(request, "treatments/chart.html", context)


class RecallQuery(forms.Form):
    lot = SearchField(max_length=Lot._meta.get_field("lot_number").max_length)


@permission_required("treatments.recall_lot")
def lot_recall(request):
    query = read_query(request, RecallQuery)["lot"].upper()
    lots, records = [], []
    if query:
        lots = list(Lot.objects.filter(lot_number=query).select_related("product"))
        # From the lot's lines (an index on lot) to their signed records (by
        # primary key): one row per treatment, its lines from this lot.
        from_lot = InjectionLine.objects.filter(lot__in=lots)
        records = list(
            TreatmentRecord.objects.filter(
                pk__in=from_lot.values("record_id"), status=TreatmentRecord.Status.SIGNED
            )
            .select_related("patient", "practitioner")
            .prefetch_related(
                Prefetch(
                    "lines",
                    from_lot.select_related("lot__product").order_by("pk"),
                    to_attr="recalled_lines",
                )
            )
            .order_by("started_at", "pk")
        )
        log_view(request, what="lot recall", object_id=query, action=AuditEvent.Action.EXPORT)
    patients = {record.patient_id for record in records}
    return render(
        request,
        "treatments/recall.html",
        {"query": query, "lots": lots, "records": records, "patient_count": len(patients)},
    )
