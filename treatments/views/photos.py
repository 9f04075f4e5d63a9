"""Clinical photographs (issue 19): the appointment's photo page (upload at
the chair), the patient's comparison across visits, and the only way a
photo's bytes leave the server: a view that checks the reader's permission,
audits the read and forbids caching."""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bookings.models import Appointment
from clinic.access import permission_required
from clinic.audit import log_view
from clinic.forms import post_data
from clinic.models import Patient
from clinic.params import choice_param
from treatments import services
from treatments.forms import PhotoUploadForm
from treatments.models import InjectionLine, Photo, PhotoConsent, TreatmentRecord
from treatments.rules import dose_summary


def _appointment(request, pk):
    return get_object_or_404(
        Appointment.objects.visible_to(request.user).select_related(
            "patient", "procedure", "practitioner__user"
        ),
        pk=pk,
    )


def _page(request, appointment, form, *, status=200):
    photos = list(
        Photo.objects.visible_to(request.user)
        .shown()
        .filter(appointment=appointment)
        .select_related("taken_by")
    )
    # One row per view, a column per phase: the same view side by side.
    rows = []
    for view, view_label in Photo.View.choices:
        cells = [
            (phase_label, [p for p in photos if p.view == view and p.phase == phase])
            for phase, phase_label in Photo.Phase.choices
        ]
        if any(cell for _, cell in cells):
            rows.append((view_label, cells))
    context = {
        "appointment": appointment,
        "record": TreatmentRecord.objects.filter(appointment=appointment).first(),
        "form": form,
        "rows": rows,
        "phases": Photo.Phase.labels,
        "count": len(photos),
        "max_mb": settings.PHOTO_MAX_MB,
        "photo_consent": PhotoConsent.objects.latest_for(appointment.patient),
    }
    return render(request, "treatments/photos.html", context, status=status)


@permission_required("treatments.view_photo")
def appointment_photos(request, appointment_pk):
    appointment = _appointment(request, appointment_pk)
    record = TreatmentRecord.objects.filter(appointment=appointment).first()
    phase = Photo.Phase.AFTER if record and record.lines.exists() else Photo.Phase.BEFORE
    return _page(request, appointment, PhotoUploadForm(initial={"phase": phase, "view": "front"}))


@require_POST
@permission_required("treatments.add_photo")
def photo_upload(request, appointment_pk):
    appointment = _appointment(request, appointment_pk)
    form = PhotoUploadForm(post_data(request), request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        photos = form.call_service(
            services.photo_upload,
            appointment=appointment,
            phase=data["phase"],
            view=data["view"],
            files=[*data["camera"], *data["files"]],
            by=request.user,
            now=timezone.now(),
        )
        if photos:
            count = len(photos)
            messages.success(request, f"{count} photo{'s' if count != 1 else ''} added.")
            return redirect("treatments:photos", appointment_pk=appointment.pk)
    return _page(request, appointment, form, status=400)


@dataclass
class Visit:
    appointment: Appointment
    record: TreatmentRecord | None  # this visit's own, with `doses`
    reviewed: TreatmentRecord | None  # for review photos: the treatment reviewed
    phases: list[str] = field(default_factory=list)


@dataclass
class Column:
    visit: Visit
    phase: str
    label: str
    first: bool  # the visit's first column (its header spans the rest)


@dataclass
class Cell:
    column: Column
    photos: list[Photo]


@dataclass
class Row:
    view: str
    label: str
    cells: list[Cell]  # one per column


def photo_comparison(photos, records):
    """The same view side by side across visits: a column per visit and
    phase (oldest visit first), a row per view photographed. `records` are
    the visits' own treatment records, by appointment id."""
    visits = {}
    for photo in sorted(photos, key=lambda p: (p.appointment.starts_at, p.sort_key())):
        visit = visits.get(photo.appointment_id)
        if visit is None:
            own = records.get(photo.appointment_id)
            visit = visits[photo.appointment_id] = Visit(photo.appointment, own, None)
        if photo.record_id and (visit.record is None or photo.record_id != visit.record.pk):
            visit.reviewed = photo.record
        if photo.phase not in visit.phases:
            visit.phases.append(photo.phase)
    labels = dict(Photo.Phase.choices)
    columns = [
        Column(visit, phase, labels[phase], first=i == 0)
        for visit in visits.values()
        for i, phase in enumerate(visit.phases)
    ]
    rows = []
    for view, view_label in Photo.View.choices:
        cells = [
            Cell(
                column,
                [
                    p
                    for p in photos
                    if p.view == view
                    and p.appointment_id == column.visit.appointment.pk
                    and p.phase == column.phase
                ],
            )
            for column in columns
        ]
        if any(cell.photos for cell in cells):
            rows.append(Row(view, view_label, cells))
    return columns, rows


@permission_required("treatments.view_photo", "clinic.view_patient")
def photo_compare(request, patient_pk):
    """A patient's photos across visits, with what was injected at each;
    printable. Every photo on it is read through the audited thumbnail view."""
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=patient_pk)
    view = choice_param(request, "view", ["all", *Photo.View.values], "all")
    photos = (
        Photo.objects.visible_to(request.user)
        .shown()
        .filter(patient=patient)
        .select_related("appointment__procedure", "appointment__practitioner__user", "record")
    )
    if view != "all":
        photos = photos.filter(view=view)
    photos = sorted(photos, key=Photo.sort_key)
    records = {
        record.appointment_id: record
        for record in TreatmentRecord.objects.filter(
            appointment_id__in={p.appointment_id for p in photos}
        ).prefetch_related(Prefetch("lines", InjectionLine.objects.select_related("product")))
    }
    for record in records.values():
        record.doses = dose_summary(
            [(line.product, line.site_info.lip, line.amount) for line in record.lines.all()], {}
        )
    columns, rows = photo_comparison(photos, records)
    log_view(request, what="photo comparison", obj=patient, patient=patient)
    context = {
        "patient": patient,
        "columns": columns,
        "visits": [c.visit for c in columns if c.first],
        "rows": rows,
        "view": view,
        "views": Photo.View.choices,
    }
    return render(request, "treatments/photo_compare.html", context)


def _serve(request, pk, *, thumbnail):
    photo = get_object_or_404(
        Photo.objects.visible_to(request.user).select_related("patient"), pk=pk
    )
    log_view(
        request,
        what="photo thumbnail" if thumbnail else "photo",
        obj=photo,
        patient=photo.patient,
    )
    response = HttpResponse(
        services.photo_bytes(photo, thumbnail=thumbnail), content_type="image/jpeg"
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = f'inline; filename="photo-{photo.pk}.jpg"'
    return response


@permission_required("treatments.view_photo")
def photo_image(request, pk):
    return _serve(request, pk, thumbnail=False)


@permission_required("treatments.view_photo")
def photo_thumbnail(request, pk):
    return _serve(request, pk, thumbnail=True)
