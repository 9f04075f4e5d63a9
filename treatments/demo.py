"""Demo stock (a lot or two of every product, one expired, one nearly used
up), prescriptions and one signed treatment."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from treatments.models import KitCheck, KitLot, KitMedicine, Lot, Product

# product, lot number, months to expiry (negative: expired), received, remaining
LOTS = [
    ("Botox Cosmetic", "C3791AC4", 14, "400", "372"),
    ("Botox Cosmetic", "C3550AB1", -1, "100", "100"),
    ("Dysport", "P12874", 10, "600", "588"),
    ("Juvederm Volbella XC", "VB40A71", 18, "10", "7"),
    ("Juvederm Ultra XC", "UX22C09", 20, "5", "4"),
    ("Restylane Kysse", "18743-1", 16, "10", "9"),
    ("Restylane Lyft with Lidocaine", "17912-2", 2, "3", "0.5"),
]

# The dashboard warns below these (Restylane Lyft's nearly empty lot is below).
LOW_STOCK = {"Botox Cosmetic": "100", "Dysport": "150", "Restylane Lyft with Lidocaine": "2"}


def seed_stock(*, by, now=None):
    today = timezone.localdate(now or timezone.now())
    products = {p.name: p for p in Product.objects.all()}
    for name, threshold in LOW_STOCK.items():
        Product.objects.filter(name=name, low_stock_threshold=None).update(
            low_stock_threshold=Decimal(threshold)
        )
    for name, number, months, received, remaining in LOTS:
        Lot.objects.get_or_create(
            product=products[name],
            lot_number=number,
            defaults={
                "expiry_date": today + timedelta(days=30 * months),
                "quantity_received": Decimal(received),
                "quantity_remaining": Decimal(remaining),
                "received_on": today - timedelta(days=60),
                "received_by": by,
            },
        )


# The demo patients Dr Okafor has assessed face to face and prescribed toxin for.
PRESCRIBED = ["Whitfield", "Raman", "Okonkwo"]


# The emergency kit: kind, lot number, months to expiry, items.
KIT_LOTS = [("hyaluronidase", "HYL2291", 20, 3), ("adrenaline", "ADR0715", 9, 2)]


def seed_kit(*, by, now=None):
    """A stocked emergency kit, checked yesterday, so filler can start."""
    from treatments.services import kit_check_record

    now = now or timezone.now()
    today = timezone.localdate(now)
    for kind, number, months, items in KIT_LOTS:
        for medicine in KitMedicine.objects.filter(kind=kind, is_active=True):
            KitLot.objects.get_or_create(
                medicine=medicine,
                lot_number=number,
                defaults={
                    "expiry_date": today + timedelta(days=30 * months),
                    "quantity_received": items,
                    "quantity_remaining": items,
                    "received_on": today - timedelta(days=7),
                    "received_by": by,
                },
            )
    if not KitCheck.objects.exists():
        counts = {
            m.pk: max(m.needed, sum(lot.quantity_remaining for lot in m.lots.all()))
            for m in KitMedicine.objects.filter(is_active=True).prefetch_related("lots")
        }
        kit_check_record(by=by, counts=counts, now=now - timedelta(days=1))


def seed_prescriptions(*, password, now=None):
    """Dr Okafor (an independent prescriber) saw these patients a month ago
    and prescribed each lip-flip toxin up to its maximum dose, for six months:
    the nurse may treat them. The others have none, so the refusal shows."""
    from clinic.models import Patient, Practitioner
    from treatments import services
    from treatments.models import Prescription, ProductDose

    now = now or timezone.now()
    prescriber = Practitioner.objects.get(display_name="Dr Amara Okafor")
    written = now - timedelta(days=30)
    doses = ProductDose.objects.filter(
        procedure__code="lip-flip", product__needs_prescription=True, product__is_active=True
    ).select_related("product")
    items = [(dose.product, dose.maximum) for dose in doses]
    for patient in Patient.objects.filter(last_name__in=PRESCRIBED):
        if Prescription.objects.filter(patient=patient).exists() or not items:
            continue
        services.prescription_write(
            patient=patient,
            by=prescriber.user,
            password=password,
            mode="in_person",
            findings="Seen in clinic: asks for a subtle lip flip; no contraindications.",
            items=items,
            valid_until=timezone.localdate(now) + timedelta(days=150),
            directions="Lip flip: 4-6 points along the upper vermilion border.",
            now=written,
        )


def _demo_signature():
    """A drawn-looking signature as a PNG data URL (the demo's patient signs)."""
    import base64
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (500, 160), (0, 0, 0, 0))
    ImageDraw.Draw(image).line(
        [(20, 110), (70, 40), (110, 120), (160, 50), (210, 115), (260, 60), (330, 100), (470, 80)],
        fill=(26, 26, 46, 255),
        width=4,
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def seed_treatment(*, password, now=None):
    """One past lip flip, from booking to signed record, for the chart and recall."""
    from datetime import datetime, time

    from django.core.exceptions import ValidationError

    from bookings import services as bookings
    from clinic.models import Patient, Practitioner
    from treatments import services
    from treatments.models import ConsentForm, ConsentSignature, Procedure, TreatmentRecord

    if TreatmentRecord.objects.exists():
        return
    now = now or timezone.now()
    practitioner = Practitioner.objects.get(display_name="Dr Amara Okafor")
    working = set(practitioner.working_hours.values_list("weekday", flat=True))
    day = next(
        timezone.localdate(now) - timedelta(days=n)
        for n in range(18, 26)
        if (timezone.localdate(now) - timedelta(days=n)).weekday() in working
    )
    at = timezone.make_aware(datetime.combine(day, time(10)))
    patient = Patient.objects.get(last_name="Whitfield")
    flip = Procedure.objects.with_parts().get(code="lip-flip")
    try:
        appointment = bookings.appointment_book(
            patient=patient,
            practitioner=practitioner,
            procedure=flip,
            starts_at=at,
            booked_by=practitioner.user,
            now=at - timedelta(days=10),
        )
        services.consent_sign(
            appointment=appointment,
            form=ConsentForm.objects.current().get(procedure=flip),
            typed_name=patient.full_name,
            agreed=True,
            signature=_demo_signature(),
            ip_address="127.0.0.1",
            user_agent="demo",
            via=ConsentSignature.Via.PORTAL,
            recorded_by=patient.user,
            now=at - timedelta(days=2),
        )
        bookings.appointment_check_in(
            appointment=appointment, by=practitioner.user, now=at - timedelta(minutes=10)
        )
        services.same_day_check_record(
            appointment=appointment,
            by=practitioner.user,
            now=at - timedelta(minutes=5),
            window_kept=True,
            pregnant_or_breastfeeding=False,
            active_cold_sore=False,
            infection_at_site=False,
            antibiotics_now=False,
            dental_work_recent=False,
            illness_or_vaccination_recent=False,
            toxin_elsewhere_on=None,
        )
        record = services.treatment_start(appointment=appointment, by=practitioner.user, now=at)
        lot = Lot.objects.get(lot_number="C3791AC4")
        for site in ("TX-L3", "TX-L2", "TX-L1", "TX-R1", "TX-R2", "TX-R3"):
            services.injection_add(
                record=record,
                by=practitioner.user,
                lot=lot,
                site=site,
                amount=Decimal("1"),
                depth="intramuscular",
                needle="33G needle",
                dilution=lot.product.default_dilution,
                technique="point",
                now=at,
            )
        services.record_update(
            record=record, by=practitioner.user, anaesthetic="none", no_adverse_events=True
        )
        services.treatment_sign(
            record=record, by=practitioner.user, password=password, now=at + timedelta(minutes=20)
        )
    except ValidationError:
        return  # the demo clinic's schedule or passwords were changed by hand
