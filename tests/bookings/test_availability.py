from datetime import date, datetime, time, timedelta

import pytest
from django.db.models import Q
from django.utils import timezone

from bookings.availability import (
    APPOINTMENT,
    TIME_OFF,
    Schedule,
    _read_busy,
    _read_hours,
    _ts,
    first_compliant_slots,
    free_slots,
)
from bookings.models import Appointment, ScheduleException, TimeOff, WorkingHours
from clinic.models import Practitioner
from tests.factories import PatientFactory, PractitionerFactory
from tests.helpers import LONDON, NOW, at, book, every_day

pytestmark = pytest.mark.django_db
DAY = date(2026, 12, 1)


def local_times(slots, practitioner=None):
    return [
        s.local_start.strftime("%H:%M")
        for s in slots
        if practitioner is None or s.practitioner == practitioner
    ]


def test_slots_fill_the_working_spans_on_the_grid(injector, flip):
    times = local_times(free_slots(procedure=flip, start=DAY, end=DAY, now=NOW))
    assert times[0] == "09:00"
    assert times[-1] == "16:35"  # 25 minutes with the buffer must end by 17:00
    assert "12:35" in times and "12:40" not in times and "13:55" not in times
    assert len(times) == 44 + 32
    assert all(int(t[-2:]) % 5 == 0 for t in times)


def test_a_coarser_grid(injector, flip):
    times = local_times(free_slots(procedure=flip, start=DAY, end=DAY, now=NOW, grid_minutes=15))
    assert times[:3] == ["09:00", "09:15", "09:30"]


def test_slots_are_aware_and_carry_their_practitioner(injector, flip):
    slot = free_slots(procedure=flip, start=DAY, end=DAY, now=NOW)[0]
    assert slot.practitioner == injector
    assert slot.start.utcoffset() == timedelta(0)
    assert slot.end - slot.start == timedelta(minutes=15)


def test_never_in_the_past(injector, flip):
    now = at(DAY, "09:02")
    assert local_times(free_slots(procedure=flip, start=DAY, end=DAY, now=now))[0] == "09:05"
    late = at(DAY, "18:00")
    assert free_slots(procedure=flip, start=DAY, end=DAY, now=late) == []


def test_appointments_are_subtracted_buffer_included(injector, flip, healthy):
    book(healthy, injector, flip, at(DAY, "10:00"))  # holds 10:00-10:25
    times = local_times(free_slots(procedure=flip, start=DAY, end=DAY, now=NOW))
    assert "09:35" in times and "10:25" in times
    assert not {"09:40", "10:00", "10:20"} & set(times)


def test_long_time_off_covering_an_appointment(injector, flip, healthy):
    book(healthy, injector, flip, at(DAY, "09:30"))
    TimeOff.objects.create(
        practitioner=injector, starts_at=at(DAY, "09:00"), ends_at=at(DAY, "15:00")
    )
    times = local_times(free_slots(procedure=flip, start=DAY, end=DAY, now=NOW))
    assert times[0] == "15:00"


def test_one_off_changes_replace_the_day_and_closures_close_it(injector, flip):
    ScheduleException.objects.create(
        practitioner=injector, date=DAY, starts=time(15), ends=time(16), reason="Dentist"
    )
    assert local_times(free_slots(procedure=flip, start=DAY, end=DAY, now=NOW))[0] == "15:00"
    ScheduleException.objects.create(date=DAY, reason="Bank holiday")
    assert free_slots(procedure=flip, start=DAY, end=DAY, now=NOW) == []


def test_clinic_opening_hours_limit_everyone(injector, flip):
    WorkingHours.objects.filter(practitioner__isnull=True, weekday=DAY.weekday()).update(
        starts=time(10), ends=time(16)
    )
    times = local_times(free_slots(procedure=flip, start=DAY, end=DAY, now=NOW))
    assert (times[0], times[-1]) == ("10:00", "15:35")


def test_everyone_taking_bookings_by_default(injector, second_injector, flip):
    leaver = PractitionerFactory(is_active=False)
    every_day(leaver, (time(9), time(17)))
    slots = free_slots(procedure=flip, start=DAY, end=DAY, now=NOW)
    assert {s.practitioner for s in slots} == {injector, second_injector}
    only = free_slots(procedure=flip, start=DAY, end=DAY, now=NOW, practitioners=[second_injector])
    assert {s.practitioner for s in only} == {second_injector}


def test_combined_procedure_needs_its_full_time(injector, combined):
    times = local_times(free_slots(procedure=combined, start=DAY, end=DAY, now=NOW))
    assert times[-1] == "15:45"  # 60 + 15 minutes until 17:00
    assert "11:50" not in times  # would run into lunch


def test_a_clock_change_day_keeps_local_hours(injector, flip):
    autumn = date(2026, 10, 25)  # BST ends at 02:00: a 25-hour day
    slots = free_slots(
        procedure=flip,
        start=autumn - timedelta(days=1),
        end=autumn,
        now=datetime(2026, 10, 1, tzinfo=LONDON),
    )
    by_day = {}
    for slot in slots:
        by_day.setdefault(slot.local_start.date(), []).append(slot)
    saturday, sunday = by_day[date(2026, 10, 24)], by_day[autumn]
    assert local_times(saturday) == local_times(sunday)
    assert saturday[0].start.hour == 8 and sunday[0].start.hour == 9  # UTC: BST then GMT


def test_query_count_is_constant(django_assert_max_num_queries, injector, second_injector, flip):
    with django_assert_max_num_queries(3):
        free_slots(procedure=flip, start=DAY, end=DAY, now=NOW)
    for n in range(40):
        book(
            PatientFactory(),
            injector,
            flip,
            at(DAY + timedelta(days=n % 20), "09:00")
            if n < 20
            else at(DAY + timedelta(days=n % 20), "14:00"),
        )
    for _ in range(3):
        every_day(PractitionerFactory(), (time(9), time(17)))
    TimeOff.objects.create(
        practitioner=injector, starts_at=at(DAY, "09:00"), ends_at=at(DAY, "10:00")
    )
    ScheduleException.objects.create(practitioner=injector, date=DAY, starts=time(9), ends=time(12))
    with django_assert_max_num_queries(3):
        slots = free_slots(procedure=flip, start=DAY, end=DAY + timedelta(days=29), now=NOW)
    assert len({s.practitioner for s in slots}) == 5


def test_two_queries_for_chosen_practitioners(django_assert_num_queries, injector, flip):
    # Working time and busy time; the practitioners are known already, and
    # no row of their hours may cost a query of its own.
    ScheduleException.objects.create(practitioner=injector, date=DAY, starts=time(9), ends=time(12))
    with django_assert_num_queries(2):
        slots = free_slots(
            procedure=flip,
            start=DAY,
            end=DAY + timedelta(days=6),
            now=NOW,
            practitioners=[injector],
        )
    assert {s.practitioner for s in slots} == {injector}


def test_an_appointment_from_the_day_before_still_blocks_its_time(injector, flip):
    # Busy time is read from a day before the range (see LONGEST_VISIT): an
    # appointment ending after midnight is still found.
    late = book(PatientFactory(), injector, flip, at(DAY, "09:00"))
    Appointment.objects.filter(pk=late.pk).update(
        starts_at=at(DAY, "00:00") - timedelta(hours=1), blocked_until=at(DAY, "10:00")
    )
    schedule = Schedule.load(first_day=DAY, last_day=DAY, practitioners=[injector])
    assert schedule.conflicts(injector.pk, at(DAY, "09:30"), at(DAY, "09:45"), APPOINTMENT)


def test_first_compliant_slots_start_at_the_minimum_window(injector, flip):
    result = first_compliant_slots(procedure=flip, now=NOW, days=2)
    assert (result.earliest_date, result.recommended_date) == (
        date(2026, 11, 29),
        date(2026, 11, 30),
    )
    assert result.slots[0].local_start == at(date(2026, 11, 29), "09:00")
    assert {s.local_start.date() for s in result.slots} == {date(2026, 11, 29), date(2026, 11, 30)}


# The three reads are SQL written by hand (bookings/availability.py says why);
# each must find exactly what the QuerySet it stands for finds.


def _appointment(patient, practitioner, procedure, starts_at, minutes=25, status="booked"):
    return Appointment.objects.create(
        patient=patient,
        practitioner=practitioner,
        procedure=procedure,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=min(15, minutes)),
        blocked_until=starts_at + timedelta(minutes=minutes),
        booked_by=practitioner.user,
        precare_stop_date=starts_at.date() - timedelta(days=4),
        status=status,
    )


def test_the_busy_read_finds_what_the_querysets_find(injector, second_injector, flip):
    range_start, range_end = at(DAY, "00:00"), at(DAY + timedelta(days=2), "00:00")
    other = PractitionerFactory()
    every_day(other, (time(9), time(17)))
    made = [
        _appointment(PatientFactory(), doer, flip, starts_at, minutes=minutes, status=status)
        for doer, starts_at, minutes, status in [
            (injector, at(DAY, "09:00"), 25, "booked"),
            (injector, at(DAY, "10:00"), 25, "checked_in"),
            (injector, at(DAY, "11:00"), 25, "completed"),
            (injector, at(DAY, "12:00"), 25, "cancelled"),
            (injector, at(DAY, "12:30"), 25, "no_show"),
            (injector, range_start - timedelta(hours=2), 180, "booked"),  # into the day
            (second_injector, range_start - timedelta(minutes=25), 25, "booked"),  # ends at 00:00
            (second_injector, range_end - timedelta(minutes=10), 10, "booked"),  # last, in
            (second_injector, range_end, 25, "booked"),  # starts at the end: out
            (second_injector, range_start - timedelta(days=3), 25, "booked"),
            (other, at(DAY, "09:00"), 25, "booked"),  # not asked for
        ]
    ]
    for doer, starts_at, ends_at in [
        (injector, at(DAY, "14:00"), at(DAY, "15:00")),
        (second_injector, range_start - timedelta(days=5), range_start + timedelta(hours=1)),
        (second_injector, range_end, range_end + timedelta(hours=1)),  # out
        (other, at(DAY, "14:00"), at(DAY, "15:00")),
    ]:
        TimeOff.objects.create(practitioner=doer, starts_at=starts_at, ends_at=ends_at)
    ids = [injector.pk, second_injector.pk]

    for ignore in (None, made[0]):
        appointments = (
            Appointment.objects.active()
            .filter(practitioner_id__in=ids)
            .overlapping(range_start, range_end)
        )
        if ignore is not None:
            appointments = appointments.exclude(pk=ignore.pk)
        away = TimeOff.objects.filter(
            practitioner_id__in=ids, starts_at__lt=range_end, ends_at__gt=range_start
        )
        expected = sorted(
            [
                (a.practitioner_id, _ts(a.starts_at), _ts(a.blocked_until), APPOINTMENT)
                for a in appointments
            ]
            + [(t.practitioner_id, _ts(t.starts_at), _ts(t.ends_at), TIME_OFF) for t in away]
        )
        found = _read_busy(ids, range_start, range_end, ignore=ignore)
        assert sorted(tuple(row) for row in found) == expected
        assert len(expected) == (7 if ignore is None else 6)
    assert _read_busy([], range_start, range_end) == []


def test_the_hours_read_finds_what_the_querysets_find(injector, second_injector):
    leaver = PractitionerFactory(is_active=False)
    every_day(leaver, (time(9), time(17)))
    locked_out = PractitionerFactory(user__is_active=False)
    every_day(locked_out, (time(9), time(17)))
    for who in (None, injector, leaver, locked_out):
        ScheduleException.objects.create(practitioner=who, date=DAY, reason="Training")
        ScheduleException.objects.create(
            practitioner=who, date=DAY + timedelta(days=1), starts=time(10), ends=time(12)
        )
        ScheduleException.objects.create(
            practitioner=who, date=DAY + timedelta(days=2), reason="Out of range"
        )
    first, last = DAY, DAY + timedelta(days=1)

    def expected(who):
        clinic = Q(practitioner__isnull=True)
        weekly = WorkingHours.objects.filter(who | clinic)
        changes = ScheduleException.objects.filter(who | clinic, date__gte=first, date__lte=last)
        return sorted(
            [(h.practitioner_id, h.weekday, None, h.starts, h.ends) for h in weekly]
            + [(c.practitioner_id, None, c.date, c.starts, c.ends) for c in changes],
            key=repr,
        )

    everyone = Q(practitioner__in=Practitioner.objects.active())
    assert sorted(_read_hours(first, last, None), key=repr) == expected(everyone)
    assert {row[0] for row in _read_hours(first, last, None)} == {
        None,
        injector.pk,
        second_injector.pk,
    }
    chosen = [injector.pk, leaver.pk]
    assert sorted(_read_hours(first, last, chosen), key=repr) == expected(
        Q(practitioner_id__in=chosen)
    )
    assert sorted(_read_hours(first, last, []), key=repr) == expected(Q(pk__in=[]))


def test_local_start_is_the_start_in_the_current_zone(injector, flip):
    autumn = date(2026, 10, 25)  # both offsets in one search
    slots = free_slots(
        procedure=flip,
        start=autumn - timedelta(days=1),
        end=autumn,
        now=datetime(2026, 10, 1, tzinfo=LONDON),
    )
    assert {s.local_start.utcoffset() for s in slots} == {timedelta(hours=1), timedelta(0)}
    for slot in slots:
        expected = timezone.localtime(slot.start)
        assert (slot.local_start, slot.local_start.utcoffset()) == (
            expected,
            expected.utcoffset(),
        )
