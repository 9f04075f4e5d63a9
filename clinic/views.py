from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from bookings.models import Appointment
from bookings.safety import next_toxin_dates
from clinic import changes, dashboard, services
from clinic.access import permission_required, role_required, safe_next
from clinic.audit import log_view
from clinic.flash import call_service
from clinic.forms import MedicalHistoryForm, PatientForm, post_data
from clinic.models import AuditEvent, MedicalHistory, Notification, Patient, User
from clinic.paging import Window
from clinic.params import BadParameter, DayRangeQuery, SearchField, read_query
from clinic.roles import Role
from treatments.consent import attach_consent
from treatments.models import InjectionLine, Procedure, TreatmentRecord
from treatments.screening import screen_patient

LANDING_PAGES = {
    Role.PRACTITIONER: "practitioner_home",
    Role.FRONT_DESK: "desk_home",
    Role.MANAGER: "manager_home",
    Role.PATIENT: "portal_home",
}
PATIENTS_PER_PAGE = 25


def bad_request(request, exception):
    """The 400 page, with what could not be read when we know it."""
    problem = str(exception) if isinstance(exception, BadParameter) else ""
    return render(request, "400.html", {"problem": problem}, status=400)


@login_required
def home(request):
    role = request.user.primary_role
    if role is None:
        return render(request, "clinic/no_role.html", status=403)
    return redirect(LANDING_PAGES[role])


def _upcoming(request):
    return (
        Appointment.objects.visible_to(request.user)
        .select_related("patient", "practitioner", "procedure")
        .prefetch_related("procedure__components")
        .with_history()
    )


@role_required(Role.FRONT_DESK)
def desk_home(request):
    today = timezone.localdate()
    week = [
        a
        for a in _upcoming(request).active().starting_between(today, today + timedelta(days=7))
        if a.status == Appointment.Status.BOOKED
    ]
    return render(
        request,
        "clinic/desk_home.html",
        {
            "today": today,
            "appointments": attach_consent(
                _upcoming(request).starting_between(today, today), now=timezone.now()
            ),
            "needs_history": [a for a in week if a.needs_history],
        },
    )


@role_required(Role.PRACTITIONER)
def practitioner_home(request):
    today = timezone.localdate()
    mine = _upcoming(request).filter(practitioner__user=request.user)
    return render(
        request,
        "clinic/practitioner_home.html",
        {
            "today": today,
            "appointments": attach_consent(mine.starting_between(today, today), now=timezone.now()),
            "coming": mine.active().starting_between(
                today + timedelta(days=1), today + timedelta(days=7)
            ),
            "feed_url": settings.SITE_URL
            + reverse("practitioner_feed", args=[request.user.practitioner.feed_token]),
        },
    )


@role_required(Role.MANAGER)
def manager_home(request):
    return render(request, "clinic/manager_home.html", dashboard.dashboard(now=timezone.now()))


@role_required(Role.MANAGER)
def manager_appointments(request):
    """The list behind each of the dashboard's appointment figures."""
    query = dashboard.read_list_query(request)
    now = timezone.now()
    page = Window(
        dashboard.appointments_matching(query, now=now),
        request,
        per_page=dashboard.APPOINTMENTS_PER_PAGE,
    )
    if not query["gap"]:
        attach_consent(page.object_list, now=now)
    return render(
        request,
        "clinic/manager_appointments.html",
        {
            "page": page,
            "query": query,
            "described": dashboard.describe(query),
            "statuses": dashboard.STATUS_CHOICES + list(Appointment.Status.choices),
        },
    )


# Patients (staff)


def _patient_for(request, pk):
    return get_object_or_404(Patient.objects.visible_to(request.user), pk=pk)


class PatientSearchQuery(forms.Form):
    q = SearchField()


@permission_required("clinic.view_patient")
def patient_list(request):
    query = read_query(request, PatientSearchQuery)["q"]
    if query:
        log_view(request, what="patient search", action=AuditEvent.Action.EXPORT)
    patients = Patient.objects.search(query).only(
        "first_name", "last_name", "date_of_birth", "phone", "email"
    )
    page = Window(patients, request, per_page=PATIENTS_PER_PAGE)
    # Typing in the search box (htmx) asks for the results only.
    template = "clinic/_patient_results.html" if request.htmx else "clinic/patient_list.html"
    response = render(request, template, {"page": page, "query": query})
    patch_vary_headers(response, ["HX-Request"])
    return response


@permission_required("clinic.add_patient")
def patient_create(request):
    form = PatientForm(post_data(request))
    if request.method == "POST" and form.is_valid():
        patient = form.save(user=request.user)
        if patient:
            messages.success(request, f"{patient} is registered.")
            return redirect(safe_next(request) or patient.get_absolute_url())
    return render(request, "clinic/patient_form.html", {"form": form})


@permission_required("clinic.change_patient")
def patient_edit(request, pk):
    patient = _patient_for(request, pk)
    initial = {name: getattr(patient, name) for name in services.PATIENT_FIELDS}
    form = PatientForm(post_data(request), initial=initial)
    if (
        request.method == "POST"
        and form.is_valid()
        and form.save(user=request.user, patient=patient)
    ):
        messages.success(request, "Contact details saved.")
        return redirect(patient)
    return render(request, "clinic/patient_form.html", {"form": form, "patient": patient})


PATIENT_PAGE_APPOINTMENTS = 30  # the newest; the calendar has the rest
PATIENT_PAGE_RECORDS = 10


@permission_required("clinic.view_patient")
def patient_detail(request, pk):
    patient = _patient_for(request, pk)
    today = timezone.localdate()
    history = MedicalHistory.objects.latest_for(patient)
    procedures = list(Procedure.objects.active().with_parts())
    screenings = [
        (
            procedure,
            screen_patient(
                patient=patient, procedure=procedure, on=today, today=today, history=history
            ),
        )
        for procedure in procedures
    ]
    clinical = request.user.has_perm("clinic.view_clinical_details")
    if clinical and history is not None:
        log_view(request, what="screening details", obj=history, patient=patient)
    now = timezone.now()
    appointments = attach_consent(
        Appointment.objects.filter(patient=patient)
        .select_related("practitioner", "procedure")
        .prefetch_related("procedure__components")
        .order_by("-starts_at")[:PATIENT_PAGE_APPOINTMENTS],
        now=now,
    )
    upcoming = [a for a in reversed(appointments) if a.is_active and a.blocked_until >= now]
    past = [a for a in appointments if a not in upcoming]
    records = []
    if request.user.has_perm("treatments.view_treatmentrecord"):
        records = list(
            TreatmentRecord.objects.signed()
            .filter(patient=patient)
            .select_related("procedure", "practitioner")
            .prefetch_related(
                Prefetch("lines", InjectionLine.objects.select_related("product", "lot"))
            )[:PATIENT_PAGE_RECORDS]
        )
        for record in records:
            totals = {}
            for line in record.lines.all():
                key = (line.product, line.lot.lot_number)
                totals[key] = totals.get(key, 0) + line.amount
            record.amounts = [(product, lot, amount) for (product, lot), amount in totals.items()]
        if records:
            log_view(request, what="treatment records (patient page)", patient=patient)
    return render(
        request,
        "clinic/patient_detail.html",
        {
            "patient": patient,
            "history": history,
            "state": MedicalHistory.state_of(history, today=today),
            "screenings": screenings,
            "clinical": clinical,
            "next_toxin": next_toxin_dates(
                patient, today=today, history=history, procedures=procedures
            ),
            "upcoming": upcoming,
            "past": past,
            "records": records,
            "emails": Notification.objects.filter(patient=patient).order_by("-due_at")[:10],
        },
    )


# Medical history (practitioners)


@permission_required("clinic.view_clinical_details")
def history_detail(request, pk, history_pk=None):
    patient = _patient_for(request, pk)
    versions = list(patient.histories.select_related("submitted_by"))
    if history_pk is None:
        shown = versions[0] if versions else None
    else:
        shown = next((v for v in versions if v.pk == history_pk), None)
        if shown is None:
            return render(request, "404.html", status=404)
    if shown is not None:
        log_view(request, what="medical history", obj=shown, patient=patient)
    return render(
        request,
        "clinic/history_detail.html",
        {"patient": patient, "history": shown, "versions": versions},
    )


@permission_required("clinic.view_clinical_details", "clinic.add_medicalhistory")
def history_new(request, pk):
    patient = _patient_for(request, pk)
    latest = MedicalHistory.objects.latest_for(patient)
    form = MedicalHistoryForm(post_data(request), initial_history=latest)
    if request.method == "GET" and latest is not None:
        log_view(request, what="medical history", obj=latest, patient=patient)
    if request.method == "POST" and form.is_valid():
        history = form.save(patient=patient, user=request.user, source=MedicalHistory.Source.STAFF)
        if history:
            messages.success(request, "Medical history saved as a new version.")
            return redirect("patients:history", pk=patient.pk)
    return render(request, "clinic/history_form.html", {"form": form, "patient": patient})


@require_POST
@permission_required("clinic.view_clinical_details", "clinic.add_medicalhistory")
def history_reconfirm(request, pk):
    patient = _patient_for(request, pk)
    called = call_service(
        request,
        services.medical_history_reconfirm,
        success="Re-confirmed: the same answers, dated today.",
        patient=patient,
        submitted_by=request.user,
        source=MedicalHistory.Source.STAFF,
    )
    if not called.ok and _needs_new_answers(called.refusal):
        return redirect("patients:history_new", pk=patient.pk)
    return redirect("patients:history", pk=patient.pk)


def _needs_new_answers(exc):
    """A re-confirmation refused because questions were added since: the
    caller sends the user to the form, old answers filled in, new ones blank."""
    return any(error.code == "reconfirm_incomplete" for error in exc.error_list)


# Audit (managers)

# What was read, in groups a manager would ask about (AuditEvent.what).
READ_KINDS = {
    "history": ("Medical histories", Q(what="medical history")),
    "screening": ("Screening details", Q(what="screening details")),
    "records": (
        "Treatment records and charts",
        Q(what__startswith="treatment record") | Q(what="patient chart"),
    ),
    "consent": ("Consents and signatures", Q(what__startswith="consent")),
    "search": ("Patient searches", Q(what="patient search")),
    "recall": ("Lot recalls", Q(what="lot recall")),
    "feed": ("Calendar feeds", Q(what="calendar feed")),
    "export": ("Data exports", Q(what="data export")),
    "admin": ("Admin pages", Q(what__startswith="admin:")),
}
AUDIT_PER_PAGE = 50
AUDIT_KIND_WRONG_TAB = "That kind is not on this tab: pick one from its list."
ID = {"required": False, "min_value": 1, "max_value": 2**63 - 1}


class AuditQuery(DayRangeQuery):
    tab = forms.ChoiceField(required=False, choices=[("reads", "reads"), ("changes", "changes")])
    person = forms.IntegerField(**ID)
    patient = forms.IntegerField(**ID)
    kind = forms.ChoiceField(
        required=False,
        choices=[("", "")]
        + [(k, v[0]) for k, v in READ_KINDS.items()]
        + [(k, v[2]) for k, v in changes.KINDS.items()],
    )

    def clean(self):
        data = super().clean()
        data["tab"] = data.get("tab") or "reads"
        kinds = changes.KINDS if data["tab"] == "changes" else READ_KINDS
        if data.get("kind") and data["kind"] not in kinds:
            raise forms.ValidationError(AUDIT_KIND_WRONG_TAB)
        return data


@permission_required("clinic.view_auditevent")
def audit_log(request):
    """Reads (AuditEvent) and writes (django-simple-history), newest first,
    filtered by person, patient, kind and dates."""
    query = read_query(request, AuditQuery)
    tab, first, last = query["tab"], query["from"], query["to"]
    if tab == "changes":
        rows = changes.change_rows(
            kind=query["kind"] or None,
            person=query["person"],
            patient=query["patient"],
            first_day=first,
            last_day=last,
        )
        page = Window(rows, request, per_page=AUDIT_PER_PAGE)
        page.object_list = changes.changes_for(page.object_list)
    else:
        reads = AuditEvent.objects.select_related("user", "patient")
        if query["person"] is not None:
            reads = reads.filter(user_id=query["person"])
        if query["patient"] is not None:
            reads = reads.filter(patient_id=query["patient"])
        if query["kind"]:
            reads = reads.filter(READ_KINDS[query["kind"]][1])
        zone = timezone.get_current_timezone()
        if first:
            reads = reads.filter(at__gte=datetime.combine(first, time.min, zone))
        if last:
            reads = reads.filter(at__lt=datetime.combine(last + timedelta(days=1), time.min, zone))
        page = Window(reads, request, per_page=AUDIT_PER_PAGE)
    kept = {
        k: v.isoformat() if hasattr(v, "isoformat") else v
        for k, v in query.items()
        if k in ("person", "patient", "from", "to") and v
    }
    staff_roles = [Role.FRONT_DESK, Role.PRACTITIONER, Role.MANAGER]
    return render(
        request,
        "clinic/audit.html",
        {
            "tab": tab,
            "page": page,
            "query": query,
            "kinds": (
                [(k, v[2]) for k, v in changes.KINDS.items()]
                if tab == "changes"
                else [(k, v[0]) for k, v in READ_KINDS.items()]
            ),
            "people": User.objects.filter(groups__name__in=staff_roles)
            .distinct()
            .order_by("full_name")
            .only("full_name", "email"),
            "patient": Patient.objects.filter(pk=query["patient"]).first()
            if query["patient"]
            else None,
            "reads_url": "?" + urlencode({"tab": "reads", **kept}),
            "changes_url": "?" + urlencode({"tab": "changes", **kept}),
            "everyone_url": "?"
            + urlencode({"tab": tab, **{k: v for k, v in kept.items() if k != "patient"}}),
        },
    )


@require_POST
@permission_required("clinic.change_patient")
def patient_invite(request, pk):
    patient = _patient_for(request, pk)
    call_service(
        request,
        services.patient_invite,
        success=f"Invitation emailed to {patient.email}. The link works for a day.",
        patient=patient,
        by=request.user,
    )
    return redirect(patient)
