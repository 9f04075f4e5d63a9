"""The emergency kit: its state for the safety engine, kit checks and
deliveries of kit medicines."""

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from clinic.refusals import Refusal
from treatments.models import KitCheck, KitCheckItem, KitLot, KitMedicine, KitSettings
from treatments.safety.engine import KitState
from treatments.services.stock import receive

KIT_COUNT_MISSING = Refusal(
    "kit_count_missing",
    "Count every item in the kit: enter how many of %(medicine)s are present and in date (0 "
    "if none).",
)
KIT_COUNT_OUT_OF_RANGE = Refusal(
    "kit_count_out_of_range",
    "%(count)s of %(medicine)s is not a count of items in a kit: enter a whole number from 0 "
    "to 999.",
)
KIT_NOTE_TOO_LONG = Refusal(
    "kit_note_too_long", "Keep the note under 2,000 characters.", field="note"
)
KIT_NOTHING_TO_CHECK = Refusal(
    "kit_nothing_to_check",
    "The kit lists no medicines. A manager adds them in the admin (Emergency kit medicines).",
)
KIT_SHORT_NOTE_NEEDED = Refusal(
    "kit_short_note_needed",
    "Some items are short (%(short)s). Say in the note what you have done about it (e.g. "
    "ordered, borrowed from the next room).",
    field="note",
)


def in_date_stock(today):
    """{medicine pk: in-date items in stock on `today`}, for active medicines."""
    rows = (
        KitLot.objects.filter(
            medicine__is_active=True, expiry_date__gte=today, quantity_remaining__gt=0
        )
        .values("medicine")
        .annotate(items=Sum("quantity_remaining"))
    )
    return {row["medicine"]: row["items"] for row in rows}


def kit_state(now) -> KitState:
    """The kit as the engine reads it: the last check's day and what it found
    short, the schedule, and the in-date hyaluronidase in stock."""
    today = timezone.localdate(now)
    every = KitSettings.current().check_every_days
    last = KitCheck.objects.only("checked_on", "complete").first()
    hyaluronidase = KitLot.objects.filter(
        medicine__is_active=True,
        medicine__kind=KitMedicine.Kind.HYALURONIDASE,
        expiry_date__gte=today,
        quantity_remaining__gt=0,
    ).aggregate(items=Sum("quantity_remaining"))["items"]
    short = ()
    if last is not None and not last.complete:
        items = last.items.select_related("medicine")
        short = tuple(item.medicine.name for item in items if item.short)
    return KitState(
        checked_on=last.checked_on if last else None,
        every_days=every,
        short=short,
        hyaluronidase_in_date=hyaluronidase or 0,
    )


@transaction.atomic
def kit_check_record(*, by, counts, note="", now=None):
    """Record a kit check: `counts` is {medicine pk: items present and in
    date} for every active medicine. A short item is recorded (the check is
    evidence either way) and then refuses filler until the next complete
    check; the person checking says what they did about it."""
    now = now or timezone.now()
    medicines = list(KitMedicine.objects.filter(is_active=True))
    if not medicines:
        raise KIT_NOTHING_TO_CHECK.error()
    note = (note or "").strip()
    if len(note) > 2000:
        raise KIT_NOTE_TOO_LONG.error()
    items = []
    for medicine in medicines:
        count = counts.get(medicine.pk)
        if count is None or count == "":
            raise KIT_COUNT_MISSING.error(medicine=medicine)
        if not isinstance(count, int) or not 0 <= count <= 999:
            raise KIT_COUNT_OUT_OF_RANGE.error(count=count, medicine=medicine)
        items.append(KitCheckItem(medicine=medicine, in_date=count, needed=medicine.needed))
    short = [item.medicine.name for item in items if item.short]
    if short and not note:
        raise KIT_SHORT_NOTE_NEEDED.error(short=", ".join(short))
    check = KitCheck(
        checked_at=now,
        checked_on=timezone.localdate(now),
        checked_by=by,
        complete=not short,
        note=note,
    )
    check.full_clean()
    check.save()
    for item in items:
        item.kit_check = check
    KitCheckItem.objects.bulk_create(items)
    return check


@transaction.atomic
def kit_lot_receive(*, medicine, lot_number, expiry_date, quantity, received_by, now=None):
    """A delivery of a kit medicine, in whole items. A lot number seen before
    adds to that lot."""
    return receive(
        medicine.lots,
        owner=medicine,
        lot_number=lot_number,
        expiry_date=expiry_date,
        quantity=quantity,
        received_by=received_by,
        now=now,
    )
