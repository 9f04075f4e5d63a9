"""Clinical photographs (issue 19): the appointment's photo page (upload at
the chair), and the only way a photo's bytes leave the server: a view that
checks the reader's permission, audits the read and forbids caching."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bookings.models import Appointment
from clinic.access import permission_required
from clinic.audit import log_view
from clinic.forms import post_data
from treatments import services
from treatments.forms import PhotoUploadForm
from treatments.models import Photo, TreatmentRecord


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
