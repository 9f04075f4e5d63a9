"""Helpers shared by tests of every app: a fixed "now", local times, schedules."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from bookings import services as booking_services
from bookings.models import WorkingHours
from clinic.medical import ALL_NO
from tests.factories import MedicalHistoryFactory

LONDON = ZoneInfo("Europe/London")
# Thursday 26 November 2026, 09:00 in London (GMT): "now" for these tests.
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=LONDON)


def at(day, hhmm):
    """An aware datetime at a local wall-clock time in the clinic's zone."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=LONDON)


def every_day(practitioner, *spans):
    for weekday in range(7):
        for start, end in spans:
            WorkingHours.objects.create(
                practitioner=practitioner, weekday=weekday, starts=start, ends=end
            )


def history(patient, **changes):
    """A current medical history (submitted 1 November 2026), all "no" but `changes`."""
    return MedicalHistoryFactory(
        patient=patient, submitted_at=datetime(2026, 11, 1, tzinfo=LONDON), **{**ALL_NO, **changes}
    )


def book(patient, practitioner, procedure, starts_at, **kwargs):
    return booking_services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        procedure=procedure,
        starts_at=starts_at,
        booked_by=kwargs.pop("by", practitioner.user),
        now=kwargs.pop("now", NOW),
        **kwargs,
    )


def at_once(calls):
    """Run each callable in a thread of its own (its own connection), all
    released together; returns "booked", or the refusal's code, for each."""
    import threading

    from django.core.exceptions import ValidationError
    from django.db import connection

    barrier = threading.Barrier(len(calls))
    results = []

    def attempt(call):
        barrier.wait()
        try:
            call()
            results.append("booked")
        except ValidationError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(c,)) for c in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def drawn_signature():
    """A PNG data URL that passes the signature checks (a zigzag)."""
    import base64
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    points = [(20, 150), (120, 40), (220, 160), (320, 50), (420, 150)]
    ImageDraw.Draw(image).line(points, fill="black", width=4)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def sign_consents(appointment, *, codes=None, now=NOW):
    """The patient signs the current form of each part of the procedure (or of
    the parts named in `codes`), on the portal. Returns the signatures."""
    from treatments import services
    from treatments.models import ConsentForm

    signatures = []
    for part in appointment.procedure.parts():
        if codes is not None and part.code not in codes:
            continue
        signatures.append(
            services.consent_sign(
                appointment=appointment,
                form=ConsentForm.objects.current().get(procedure=part),
                typed_name=appointment.patient.full_name,
                agreed=True,
                signature=drawn_signature(),
                ip_address="127.0.0.1",
                user_agent="tests",
                via="portal",
                now=now,
            )
        )
    return signatures


SAME_DAY_CLEAR = {
    "window_kept": True,
    "pregnant_or_breastfeeding": False,
    "active_cold_sore": False,
    "infection_at_site": False,
    "antibiotics_now": False,
    "dental_work_recent": False,
    "illness_or_vaccination_recent": False,
    "toxin_elsewhere_on": None,
}


def same_day(appointment, *, now, by=None, **answers):
    """Today's safety check by the treating practitioner, every answer clear
    but `answers`; returns (check, assessment)."""
    from treatments import services as treatment_services

    return treatment_services.same_day_check_record(
        appointment=appointment,
        by=by or appointment.practitioner.user,
        now=now,
        **{**SAME_DAY_CLEAR, **answers},
    )


GPS = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}


def photo_file(name="lips.jpg", *, size=(300, 200), gps=False, orientation=None, fmt="JPEG"):
    """An uploaded photo: a JPEG (or `fmt`) made with Pillow, with GPS and a
    camera model in its EXIF when `gps`, and an EXIF orientation if given."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    image = Image.new("RGB", size, (200, 90, 90))
    image.paste((90, 40, 40), (0, 0, size[0] // 2, size[1] // 3))  # which way is up
    exif = Image.Exif()
    if gps:
        exif[0x0110] = "Clinic Tablet 9"  # Model
        exif[0x8825] = GPS  # GPSInfo
    if orientation:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"exif": exif} if len(exif) else {}))
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def take_photos(appointment, *, phase="before", view="front", files=None, by=None, now=NOW):
    from treatments import services

    return services.photo_upload(
        appointment=appointment,
        phase=phase,
        view=view,
        files=files or [photo_file()],
        by=by or appointment.practitioner.user,
        now=now,
    )


def past_visit(patient, practitioner, procedure, starts_at, *, lines=(), photos=()):
    """An earlier visit: booked, a treatment record with `lines` ((lot, site,
    amount)) and `photos` ((phase, view)) taken at it, then signed (straight
    to the database: the pages under test only read it)."""
    from datetime import timedelta
    from decimal import Decimal

    from treatments.models import InjectionLine, TreatmentRecord

    appointment = book(patient, practitioner, procedure, starts_at, now=starts_at - timedelta(7))
    record = TreatmentRecord.objects.create(
        appointment=appointment,
        patient=patient,
        practitioner=practitioner,
        procedure=procedure,
        started_at=starts_at,
        medical_history=patient.histories.first(),
        no_adverse_events=True,
    )
    for lot, site, amount in lines:
        InjectionLine.objects.create(
            record=record,
            lot=lot,
            product=lot.product,
            site=site,
            amount=Decimal(amount),
            depth="submucosal" if lot.product.agent == "filler" else "intramuscular",
            needle="30G needle",
        )
    for phase, view in photos:
        take_photos(appointment, phase=phase, view=view, now=starts_at)
    TreatmentRecord.objects.filter(pk=record.pk).update(
        status=TreatmentRecord.Status.SIGNED, signed_at=starts_at, signed_by=practitioner.user
    )
    record.refresh_from_db()
    return record
