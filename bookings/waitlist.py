"""The waitlist (issue 16): patients who would like an earlier time for a
procedure, any day in a range, hear by email when a cancellation or a move
frees one that fits.

`waitlist_offer_freed` runs inside the cancelling or moving service's own
transaction (bookings.services), so an offer exists exactly when the time
was freed; its emails go through the outbox. An entry fits a freed time when
its procedure, dates and practitioner match and the safety engine's
PATIENT_BOOK step accepts that patient at that time (the recommended
pre-care window, the 90-day toxin gap, age, the online policy, the time
itself): `assess`, the booking page's own check. The first few that fit, in
the order they joined, are offered it, one email every
WAITLIST_OFFER_GAP_MINUTES. A claim books through `patient_book`, so the
booking service's guards decide who wins: the patient's lock, the
practitioner's exclusion constraint on PostgreSQL, the IMMEDIATE write lock
on SQLite. The others are told kindly that it has gone.

A claim link is a TimestampSigner token over the offer's id, valid
WAITLIST_OFFER_HOURS from when it was written.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from bookings import messages
from bookings.models import WaitlistEntry, WaitlistOffer
from clinic.refusals import Refusal
from treatments.safety.engine import Step

TOKEN_SALT = "vermilion.waitlist.claim"
# Entries looked at for one freed time (each is one assessment), so a long
# list never makes a cancellation slow; the oldest come first.
CANDIDATES = 20
# Furthest ahead a patient may ask to wait.
LONGEST_WAIT = timedelta(days=365)

RANGE_BACKWARDS = Refusal(
    "waitlist_range",
    "The last day must be on or after the first day. Change one of the dates.",
    field="latest",
)
RANGE_PAST = Refusal(
    "waitlist_past", "That last day has already passed. Pick a day from today on.", field="latest"
)
RANGE_TOO_FAR = Refusal(
    "waitlist_too_far",
    "The waitlist looks up to a year ahead. Pick a last day before %(day)s.",
    field="latest",
)
NO_EMAIL = Refusal(
    "waitlist_no_email",
    "We offer waitlist times by email, and %(patient)s has no email address on file. Add one "
    "first.",
)
ALREADY_WAITING = Refusal(
    "waitlist_duplicate",
    "%(patient)s is already on the waitlist for %(procedure)s. Change the dates of that entry "
    "instead.",
    field="procedure",
)
NOT_EARLIER = Refusal(
    "waitlist_not_earlier",
    "The days to wait for must all be before the appointment it would replace, on %(day)s. "
    "Pick an earlier last day.",
    field="latest",
)
NOT_REPLACEABLE = Refusal(
    "waitlist_not_replaceable",
    "That appointment can no longer be changed online. Call us on %(phone)s.",
)
NOTHING_EARLIER = Refusal(
    "waitlist_nothing_earlier",
    "Your appointment is too soon for an earlier time to be offered: there are no days left "
    "before it.",
)
OFFER_BAD = Refusal(
    "waitlist_link_bad",
    "This link is not complete or has been changed. Open the newest email from us and tap the "
    "link again, or book another time.",
)
OFFER_EXPIRED = Refusal(
    "waitlist_link_expired",
    "Sorry, this offer has expired: each one lasts %(hours)s hours. You are still on the "
    "waitlist for anything else that opens, or you can book another time now.",
)
OFFER_TAKEN = Refusal(
    "waitlist_taken",
    "Sorry, someone else has just booked that time. You are still on the waitlist, and we will "
    "email you if another one opens; or book another time now.",
)
OFFER_CLOSED = Refusal(
    "waitlist_closed",
    "This offer is closed: you are no longer on the waitlist for %(procedure)s. Book another "
    "time, or call us on %(phone)s.",
)
OFFER_USED = Refusal("waitlist_used", "You have booked this time already: see your confirmation.")


def _check_range(*, earliest, latest, now):
    today = timezone.localdate(now)
    if latest < earliest:
        raise RANGE_BACKWARDS.error()
    if latest < today:
        raise RANGE_PAST.error()
    if latest > today + LONGEST_WAIT:
        raise RANGE_TOO_FAR.error(day=(today + LONGEST_WAIT).strftime("%-d %B %Y"))


@transaction.atomic
def waitlist_join(
    *,
    patient,
    procedure,
    earliest,
    latest,
    by,
    practitioner=None,
    notes="",
    replaces=None,
    now=None,
) -> WaitlistEntry:
    """Put `patient` on the waitlist for `procedure`, any day from `earliest`
    to `latest` (with `practitioner` only, if given). One waiting entry per
    patient and procedure (a partial unique constraint stands behind it).
    With `replaces` (the patient's own later booking of that procedure), a
    claimed offer moves that booking rather than adding one."""
    now = now or timezone.now()
    _check_range(earliest=earliest, latest=latest, now=now)
    if replaces is not None:
        if (
            replaces.patient_id != patient.pk
            or replaces.procedure_id != procedure.pk
            or replaces.status != replaces.Status.BOOKED
        ):
            raise NOT_REPLACEABLE.error(phone=settings.CLINIC_PHONE)
        if latest >= replaces.local_date:
            raise NOT_EARLIER.error(day=replaces.local_date.strftime("%A %-d %B"))
    if not patient.email:
        raise NO_EMAIL.error(patient=patient)
    # Locked, so two joins of one patient queue and the second sees the first.
    type(patient).objects.select_for_update().filter(pk=patient.pk).first()
    if WaitlistEntry.objects.waiting().filter(patient=patient, procedure=procedure).exists():
        raise ALREADY_WAITING.error(patient=patient, procedure=procedure)
    entry = WaitlistEntry(
        patient=patient,
        procedure=procedure,
        practitioner=practitioner,
        earliest=max(earliest, timezone.localdate(now)),
        latest=latest,
        notes=notes.strip(),
        created_at=now,
        created_by=by,
        replaces=replaces,
    )
    entry.full_clean(validate_constraints=False)
    entry.save()
    return entry


def waitlist_join_earlier(*, appointment, by, now=None) -> WaitlistEntry:
    """Ask for an earlier time than `appointment` (the patient's booking):
    any day from today to the day before it, any practitioner; a claim moves
    the booking there."""
    now = now or timezone.now()
    latest = appointment.local_date - timedelta(days=1)
    if latest < timezone.localdate(now):
        raise NOTHING_EARLIER.error()
    return waitlist_join(
        patient=appointment.patient,
        procedure=appointment.procedure,
        earliest=timezone.localdate(now),
        latest=latest,
        replaces=appointment,
        by=by,
        now=now,
    )


@transaction.atomic
def waitlist_update(
    *, entry, earliest, latest, practitioner=None, notes="", status=None, now=None
) -> WaitlistEntry:
    """The front desk changes an entry's dates, practitioner, notes or status
    (removing it, or putting it back to wait)."""
    now = now or timezone.now()
    entry = (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("replaces")
        .get(pk=entry.pk)
    )
    status = status or entry.status
    if status == WaitlistEntry.Status.WAITING:
        _check_range(earliest=earliest, latest=latest, now=now)
        replaces = entry.replaces
        if replaces is not None and latest >= replaces.local_date:
            raise NOT_EARLIER.error(day=replaces.local_date.strftime("%A %-d %B"))
        if (
            WaitlistEntry.objects.waiting()
            .filter(patient=entry.patient_id, procedure=entry.procedure_id)
            .exclude(pk=entry.pk)
            .exists()
        ):
            raise ALREADY_WAITING.error(patient=entry.patient, procedure=entry.procedure)
    elif latest < earliest:
        raise RANGE_BACKWARDS.error()
    entry.earliest, entry.latest = earliest, latest
    entry.practitioner = practitioner
    entry.notes = notes.strip()
    entry.status = status
    entry.full_clean(validate_constraints=False)
    entry.save()
    return entry


@transaction.atomic
def waitlist_remove(*, entry, now=None) -> WaitlistEntry:
    """Off the list (the patient's own choice, or the front desk's); the
    links already sent then say the offer is closed."""
    entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status == WaitlistEntry.Status.WAITING:
        entry.status = WaitlistEntry.Status.REMOVED
        entry.save(update_fields=["status", "updated_at"])
    return entry


# Offering a freed time


def offer_token(offer) -> str:
    return signing.TimestampSigner(salt=TOKEN_SALT).sign_object({"o": offer.pk}, compress=True)


def offer_url(offer) -> str:
    path = reverse("online_waitlist_claim", args=[offer_token(offer)])
    return settings.SITE_URL.rstrip("/") + path


def read_offer_token(token):
    """(WaitlistOffer, None) or (None, the refusal): a tampered, truncated or
    foreign token is OFFER_BAD, an old one OFFER_EXPIRED."""
    try:
        data = signing.TimestampSigner(salt=TOKEN_SALT).unsign_object(
            token, max_age=timedelta(hours=settings.WAITLIST_OFFER_HOURS)
        )
    except signing.SignatureExpired:
        return None, OFFER_EXPIRED
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        return None, OFFER_BAD
    pk = data.get("o") if isinstance(data, dict) else None
    if not isinstance(pk, int) or isinstance(pk, bool):
        return None, OFFER_BAD
    offer = (
        WaitlistOffer.objects.select_related(
            "entry__patient", "entry__procedure", "entry__replaces", "practitioner__user"
        )
        .filter(pk=pk)
        .first()
    )
    return (offer, None) if offer is not None else (None, OFFER_BAD)


def fitting_entries(*, practitioner, starts_at, now):
    """The waiting entries that may take `starts_at` with `practitioner`, in
    the order they joined, each under the engine's patient step for its
    patient (at most CANDIDATES are looked at)."""
    day = timezone.localdate(starts_at)
    entries = (
        WaitlistEntry.objects.waiting()
        .filter(earliest__lte=day, latest__gte=day, procedure__is_active=True)
        .filter(Q(practitioner__isnull=True) | Q(practitioner=practitioner))
        .exclude(patient__email="")
        .select_related("patient", "procedure", "replaces")
        .order_by("created_at", "pk")[:CANDIDATES]
    )
    for entry in entries:
        if entry.replaces_id and _moving(entry) is None:
            continue  # the booking it would replace is gone or changed
        try:
            _assess(entry, practitioner=practitioner, starts_at=starts_at, now=now)
        except ValidationError:
            continue
        yield entry


def _assess(entry, *, practitioner, starts_at, now):
    """(the booking a claim would move or None, the engine's and the time's
    verdict on the claim): refusals raise."""
    from bookings import services  # the services call this module too

    moving = _moving(entry)
    assessment = services.assess(
        patient=entry.patient,
        practitioner=practitioner,
        procedure=entry.procedure,
        starts_at=starts_at,
        now=now,
        **_step(moving, now),
    )
    return moving, assessment


def _moving(entry):
    """The booking a claim of `entry` moves: its `replaces`, while that is
    still booked, for that procedure, not yet started (else None)."""
    replaces = entry.replaces
    if replaces is None or replaces.status != replaces.Status.BOOKED:
        return None
    if replaces.procedure_id != entry.procedure_id:
        return None
    return replaces


def _step(moving, now):
    """The engine's step for a claim: the patient's own booking, or their own
    move of the booking it replaces (the notice counted from that one)."""
    if moving is None:
        return {"step": Step.PATIENT_BOOK}
    return {
        "step": Step.PATIENT_MOVE,
        "ignore": moving,
        "hours_left": (moving.starts_at - now).total_seconds() / 3600,
    }


def waitlist_offer_freed(*, practitioner, starts_at, now) -> list[WaitlistOffer]:
    """A cancellation or a move has just freed `starts_at` with
    `practitioner` (called inside that service's transaction, after the
    change is saved): offer it to the first WAITLIST_OFFERS_PER_TIME entries
    that fit, one email every WAITLIST_OFFER_GAP_MINUTES. An entry already
    offered this very time is not offered it again."""
    if starts_at <= now:
        return []
    offers = []
    gap = timedelta(minutes=settings.WAITLIST_OFFER_GAP_MINUTES)
    for entry in fitting_entries(practitioner=practitioner, starts_at=starts_at, now=now):
        offer, created = WaitlistOffer.objects.get_or_create(
            entry=entry,
            practitioner=practitioner,
            starts_at=starts_at,
            defaults={"offered_at": now},
        )
        if not created:
            continue
        offer.entry = entry
        offer.practitioner = practitioner
        messages.waitlist_offered(
            offer, url=offer_url(offer), due_at=now + gap * len(offers), now=now
        )
        offers.append(offer)
        if len(offers) >= settings.WAITLIST_OFFERS_PER_TIME:
            break
    return offers


def claim_preview(offer, *, now=None):
    """What a claim of `offer` would do, without saving (the claim page):
    (the booking it would move or None, the assessment); refusals raise."""
    return _assess(
        offer.entry,
        practitioner=offer.practitioner,
        starts_at=offer.starts_at,
        now=now or timezone.now(),
    )


@transaction.atomic
def waitlist_claim(*, offer, by, now=None):
    """Book the offered time for the entry's patient, through patient_book
    (every PATIENT_BOOK rule again, and the booking service's guards against
    a second booking of the time), or move the booking the entry replaces
    there, through patient_move. The first claim wins; a later one gets
    OFFER_TAKEN. The emails still waiting for the others are withdrawn."""
    from bookings import services  # the services call this module too

    now = now or timezone.now()
    # The entry only (OF self): locking the joined procedure's row too would
    # queue every claim for that procedure behind one another.
    entry = (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("patient", "procedure", "replaces")
        .get(pk=offer.entry_id)
    )
    offer = WaitlistOffer.objects.select_related("practitioner").get(pk=offer.pk)
    if offer.claimed_at is not None:
        raise OFFER_USED.error()
    if entry.status != WaitlistEntry.Status.WAITING:
        raise OFFER_CLOSED.error(procedure=entry.procedure, phone=settings.CLINIC_PHONE)
    moving = _moving(entry)
    if entry.replaces_id and moving is None:
        raise OFFER_CLOSED.error(procedure=entry.procedure, phone=settings.CLINIC_PHONE)
    try:
        if moving is not None:
            # Moving frees the later time, which the waitlist is offered in turn.
            appointment = services.patient_move(
                appointment=moving,
                by=by,
                starts_at=offer.starts_at,
                practitioner=offer.practitioner,
                now=now,
            )
        else:
            appointment = services.patient_book(
                patient=entry.patient,
                practitioner=offer.practitioner,
                procedure=entry.procedure,
                starts_at=offer.starts_at,
                by=by,
                now=now,
            )
    except ValidationError as exc:
        codes = {error.code for error in exc.error_list}
        if codes & {services.SLOT_TAKEN.code, services.IN_PAST.code}:
            raise OFFER_TAKEN.error() from None
        raise
    offer.claimed_at = now
    offer.save(update_fields=["claimed_at"])
    entry.status = WaitlistEntry.Status.BOOKED
    entry.appointment = appointment
    entry.save(update_fields=["status", "appointment", "updated_at"])
    others = WaitlistOffer.objects.filter(
        practitioner=offer.practitioner, starts_at=offer.starts_at
    ).exclude(pk=offer.pk)
    messages.waitlist_offers_withdrawn(others, now=now)
    return appointment
