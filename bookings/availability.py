"""When practitioners are free, worked out from the bookings themselves.

`Schedule.load()` reads everything for a date range in three queries, whatever
the number of days, practitioners or appointments: weekly hours (the
practitioners' and the clinic's), one-off changes, and busy intervals
(appointments and time off, in one UNION). Everything after that is in memory.

Times: rules about days use the clinic's local dates; intervals are compared as
UTC epoch seconds (integers), which is both DST-proof (a day with a clock change
is simply 23 or 25 hours long) and fast: the busy intervals come out of the
database as integers, and datetimes are made only for the slots returned.
"""

import bisect
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import repeat
from operator import itemgetter
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.utils import timezone

from bookings.models import LONGEST_VISIT, Appointment, ScheduleException, TimeOff, WorkingHours
from clinic.models import Practitioner
from treatments.safety.precare import precare_check

APPOINTMENT, TIME_OFF = "appointment", "time_off"


# Epoch seconds (UTC) of a datetime column, as an integer, per database.
# julianday() works on every SQLite; unixepoch() needs 3.38.
EPOCH_SQL = {
    "postgresql": "EXTRACT(EPOCH FROM {})::bigint",
    "sqlite": "CAST(ROUND((julianday({}) - 2440587.5) * 86400) AS INTEGER)",
}


def _ts(moment):
    return int(moment.timestamp())


def _dt(seconds):
    return datetime.fromtimestamp(seconds, UTC)


class Slot(NamedTuple):
    """A time a practitioner can start the procedure. A named tuple: a wide
    search returns tens of thousands, and tuples are the cheapest to make."""

    practitioner: object
    start_ts: int  # epoch seconds
    end_ts: int  # end of chair time

    @property
    def start(self):
        """Aware, in UTC."""
        return _dt(self.start_ts)

    @property
    def end(self):
        return _dt(self.end_ts)

    @property
    def local_start(self):
        """In the current zone; what timezone.localtime(self.start) gives,
        made in one step (the booking page asks it of every slot)."""
        return datetime.fromtimestamp(self.start_ts, timezone.get_current_timezone())


def _days(first_day, last_day):
    day = first_day
    while day <= last_day:
        yield day
        day += timedelta(days=1)


def _intersect(spans, limits):
    """Intersection of two lists of (start, end) spans."""
    out = []
    for a_start, a_end in spans:
        for b_start, b_end in limits:
            start, end = max(a_start, b_start), min(a_end, b_end)
            if start < end:
                out.append((start, end))
    return sorted(out)


def _merge(intervals):
    """Sorted, disjoint union of (start, end) intervals."""
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(span_start, span_end, busy):
    """Free parts of [span_start, span_end) given busy intervals that are
    sorted and disjoint (see _merge)."""
    free, cursor = [], span_start
    # Disjoint and sorted: only the interval just before the span's start can
    # reach into it; everything earlier ends before it.
    index = max(bisect.bisect_left(busy, (span_start,)) - 1, 0)
    for busy_start, busy_end in busy[index:]:
        if busy_start >= span_end:
            break
        if busy_end <= cursor:
            continue
        if busy_start > cursor:
            free.append((cursor, busy_start))
        cursor = max(cursor, busy_end)
        if cursor >= span_end:
            break
    if cursor < span_end:
        free.append((cursor, span_end))
    return free


# The three reads are written in SQL rather than built with the ORM: a booking
# page runs them on every request, and building and compiling the QuerySets
# took several times longer than running them (docs/BENCHMARKS.md). The
# conditions are the ORM's (`Practitioner.objects.active()`,
# `Appointment.objects.active().overlapping()`); tests/bookings/
# test_availability.py holds each read to the QuerySet it stands for.


def _placeholders(values):
    return ", ".join(["%s"] * len(values))


def _as_time(value):
    # SQLite hands back dates and times as text; PostgreSQL as objects.
    return time.fromisoformat(value) if isinstance(value, str) else value


def _as_date(value):
    return date.fromisoformat(value) if isinstance(value, str) else value


def _read_hours(first_day, last_day, ids):
    """(practitioner id or None, weekday, None, starts, ends) for weekly hours
    and (practitioner id or None, None, date, starts, ends) for one-off changes
    on first_day..last_day: the clinic's, and those of practitioners `ids`, or
    of everyone taking bookings when `ids` is None."""
    adapt = connection.ops.adapt_datefield_value
    if ids is None:
        join = (
            f" LEFT JOIN {Practitioner._meta.db_table} p ON p.id = h.practitioner_id"
            f" LEFT JOIN {Practitioner.user.field.related_model._meta.db_table} u"
            " ON u.id = p.user_id"
        )
        who, who_params = "(h.practitioner_id IS NULL OR (p.is_active AND u.is_active))", []
    else:
        join = ""
        if ids:
            who = f"(h.practitioner_id IS NULL OR h.practitioner_id IN ({_placeholders(ids)}))"
        else:
            who = "h.practitioner_id IS NULL"
        who_params = ids
    sql = (
        f"SELECT h.practitioner_id, h.weekday, NULL, h.starts, h.ends"
        f" FROM {WorkingHours._meta.db_table} h{join} WHERE {who}"
        " UNION ALL"
        f" SELECT h.practitioner_id, NULL, h.date, h.starts, h.ends"
        f" FROM {ScheduleException._meta.db_table} h{join}"
        f" WHERE {who} AND h.date >= %s AND h.date <= %s"
    )
    params = [*who_params, *who_params, adapt(first_day), adapt(last_day)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        (practitioner_id, weekday, _as_date(day), _as_time(starts), _as_time(ends))
        for practitioner_id, weekday, day, starts, ends in rows
    ]


def _read_practitioners(ids):
    if not ids:
        return []
    return Practitioner.objects.raw(
        f"SELECT * FROM {Practitioner._meta.db_table} WHERE id IN ({_placeholders(ids)})", ids
    )


def _read_busy(ids, range_start, range_end, *, ignore=None, now=None):
    """(practitioner id, start, end, APPOINTMENT or TIME_OFF) in epoch seconds:
    active appointments and holds not yet lapsed at `now` (`occupying()`)
    overlapping [range_start, range_end) (with the same lower bound on
    starts_at as `overlapping()`) and time off, of
    practitioners `ids`, read straight from the cursor (a busy group has tens
    of thousands of rows, and the ORM's per-row conversion doubled the time of
    a wide search). Filtering by the ids already known lets the big table be
    read through its (practitioner, starts_at, ...) index alone."""
    if not ids:
        return []
    epoch = EPOCH_SQL[connection.vendor].format
    adapt = connection.ops.adapt_datetimefield_value
    start, end = adapt(range_start), adapt(range_end)
    among = f"practitioner_id IN ({_placeholders(ids)})"
    skip, skip_params = ("", []) if ignore is None else (" AND id <> %s", [ignore.pk])
    sql = (
        f"SELECT practitioner_id, {epoch('starts_at')}, {epoch('blocked_until')}, %s"
        f" FROM {Appointment._meta.db_table}"
        f" WHERE {among} AND (status IN ({_placeholders(Appointment.ACTIVE)})"
        " OR (status = %s AND held_until > %s))"
        f" AND starts_at < %s AND starts_at > %s AND blocked_until > %s{skip}"
        " UNION ALL"
        f" SELECT practitioner_id, {epoch('starts_at')}, {epoch('ends_at')}, %s"
        f" FROM {TimeOff._meta.db_table}"
        f" WHERE {among} AND starts_at < %s AND ends_at > %s"
    )
    params = [
        APPOINTMENT,
        *ids,
        *Appointment.ACTIVE,
        Appointment.Status.HELD,
        adapt(now or timezone.now()),
        end,
        adapt(range_start - LONGEST_VISIT),
        start,
        *skip_params,
        TIME_OFF,
        *ids,
        end,
        start,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class Schedule:
    """Working time and busy time of some practitioners over some local days."""

    def __init__(self, *, first_day, last_day, practitioners, weekly, exceptions, busy, zone):
        self.first_day, self.last_day = first_day, last_day
        self.practitioners = practitioners  # {id: Practitioner}
        # {practitioner id or None: {weekday: sorted ((time, time), ...)}}
        self._weekly = {
            pk: {weekday: tuple(sorted(spans)) for weekday, spans in days.items()}
            for pk, days in weekly.items()
        }
        # {(practitioner id or None, date): sorted ((time, time), ...)}
        self._exceptions = {key: tuple(sorted(spans)) for key, spans in exceptions.items()}
        self._busy = busy  # {practitioner id: {kind: sorted [(start, end)] epoch seconds}}
        self._zone = zone
        self._clinic_limits = None in weekly or any(key[0] is None for key in exceptions)
        self._wall = {}  # (date, time) -> epoch seconds, shared by practitioners
        # (local spans, clinic's local spans, date) -> [(start, end)] epoch
        # seconds: a team mostly shares its hours, so most days are found here.
        self._day_spans = {}
        self._midnights = {}  # date -> (epoch seconds, whether the day is 24 hours)

    @classmethod
    def load(cls, *, first_day: date, last_day: date, practitioners=None, ignore=None, now=None):
        """Three queries (two when `practitioners` are given): working time,
        the practitioners it names, busy time. `practitioners`: an iterable of
        Practitioner, or None for everyone taking bookings. `ignore`: an
        appointment to leave out of the busy time (the one being moved, or
        the hold being booked). Holds count as busy until they lapse at `now`."""
        zone = timezone.get_current_timezone()
        range_start = datetime.combine(first_day, time.min, tzinfo=zone)
        range_end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)
        chosen = None if practitioners is None else {p.pk: p for p in practitioners}

        weekly = defaultdict(lambda: defaultdict(list))
        exceptions = defaultdict(list)
        found = set()
        for practitioner_id, weekday, day, starts, ends in _read_hours(
            first_day, last_day, None if chosen is None else list(chosen)
        ):
            if day is None:
                weekly[practitioner_id][weekday].append((starts, ends))
            else:
                spans = exceptions[(practitioner_id, day)]
                if starts is not None:  # a row without times closes the day
                    spans.append((starts, ends))
            if practitioner_id is not None:
                found.add(practitioner_id)
        if chosen is None:
            chosen = {p.pk: p for p in _read_practitioners(sorted(found))}

        busy = defaultdict(lambda: defaultdict(list))
        for practitioner_id, start, end, what in _read_busy(
            list(chosen), range_start, range_end, ignore=ignore, now=now
        ):
            busy[practitioner_id][what].append((start, end))
        for by_kind in busy.values():
            for intervals in by_kind.values():
                intervals.sort()

        return cls(
            first_day=first_day,
            last_day=last_day,
            practitioners=chosen,
            weekly=weekly,
            exceptions=exceptions,
            busy=busy,
            zone=zone,
        )

    def _local_spans(self, practitioner_id, day):
        key = (practitioner_id, day)
        if key in self._exceptions:
            return self._exceptions[key]
        return self._weekly.get(practitioner_id, {}).get(day.weekday(), ())

    def _wall_ts(self, day, wall):
        key = (day, wall)
        if key not in self._wall:
            self._wall[key] = _ts(datetime.combine(day, wall, tzinfo=self._zone))
        return self._wall[key]

    def _spans_ts(self, practitioner_id, day):
        spans = self._local_spans(practitioner_id, day)
        clinic = self._local_spans(None, day) if self._clinic_limits else None
        key = (spans, clinic, day)
        found = self._day_spans.get(key)
        if found is None:
            if clinic is not None:
                spans = _intersect(spans, clinic)
            found = [(self._wall_ts(day, start), self._wall_ts(day, end)) for start, end in spans]
            self._day_spans[key] = found
        return found

    def _midnight(self, day):
        """Local midnight of `day` in epoch seconds, and whether the day has
        no clock change (so a local time is simply midnight + seconds)."""
        found = self._midnights.get(day)
        if found is None:
            midnight = self._wall_ts(day, time.min)
            following = _ts(datetime.combine(day + timedelta(days=1), time.min, tzinfo=self._zone))
            found = self._midnights[day] = (midnight, following - midnight == 86400)
        return found

    def working_spans(self, practitioner_id, day):
        """The practitioner's working time on a local day, inside the clinic's
        opening hours (when the clinic has any set), as aware UTC datetimes."""
        return [(_dt(s), _dt(e)) for s, e in self._spans_ts(practitioner_id, day)]

    def _busy_ts(self, practitioner_id, kind=None):
        by_kind = self._busy.get(practitioner_id, {})
        if kind is not None:
            return by_kind.get(kind, [])
        return _merge(by_kind.get(APPOINTMENT, []) + by_kind.get(TIME_OFF, []))

    def within_working_time(self, practitioner_id, start, end):
        start, end = _ts(start), _ts(end)
        day = timezone.localdate(_dt(start))
        return any(s <= start and end <= e for s, e in self._spans_ts(practitioner_id, day))

    def conflicts(self, practitioner_id, start, end, kind):
        """Busy intervals of `kind` overlapping [start, end)."""
        start, end = _ts(start), _ts(end)
        return [
            (_dt(s), _dt(e))
            for s, e in self._busy_ts(practitioner_id, kind)
            if s < end and e > start
        ]

    def free_slots(self, *, timing, now, grid_minutes):
        occupied = timing.occupied_minutes * 60
        chair = timing.chair_minutes * 60
        grid = grid_minutes * 60
        now = _ts(now)
        make = Slot._make  # from a tuple, without the keyword handling of Slot()
        slots = []
        days = list(_days(self.first_day, self.last_day))
        # Practitioners in name order, then a stable sort by start time: slots
        # at the same time stay in name order.
        for practitioner_id in sorted(
            self.practitioners, key=lambda pk: str(self.practitioners[pk])
        ):
            practitioner = self.practitioners[practitioner_id]
            busy = self._busy_ts(practitioner_id)
            for day in days:
                for span_start, span_end in self._spans_ts(practitioner_id, day):
                    if span_end <= now:
                        continue
                    for free_start, free_end in _subtract(span_start, span_end, busy):
                        start = max(free_start, now)
                        midnight, whole = self._midnight(day)
                        if whole:  # the grid counts from local midnight
                            first = midnight - (midnight - start) // grid * grid
                        else:
                            first = self._on_grid(start, grid_minutes)
                        last = free_end - occupied + 1
                        slots += map(
                            make,
                            zip(
                                repeat(practitioner),
                                range(first, last, grid),
                                range(first + chair, last + chair, grid),
                                strict=False,
                            ),
                        )
        slots.sort(key=itemgetter(1))
        return slots

    def _on_grid(self, seconds, grid_minutes):
        """The first time at or after `seconds` on the clinic's local grid."""
        local = _dt(seconds).astimezone(self._zone)
        midnight = datetime.combine(local.date(), time.min)
        minutes = (local.replace(tzinfo=None) - midnight).total_seconds() / 60
        aligned = -(-minutes // grid_minutes) * grid_minutes
        return _ts((midnight + timedelta(minutes=aligned)).replace(tzinfo=self._zone))


def free_slots(
    *, procedure, start: date, end: date, practitioners=None, now=None, grid_minutes=None
):
    """Every time a practitioner can start `procedure` (chair time plus buffer)
    on local days start..end, on the booking grid, never in the past.

    Three queries (pass a procedure loaded with `Procedure.objects.with_parts()`
    when it is combined, so its parts are at hand).
    """
    now = now or timezone.now()
    schedule = Schedule.load(first_day=start, last_day=end, practitioners=practitioners, now=now)
    return schedule.free_slots(
        timing=procedure.timing,
        now=now,
        grid_minutes=grid_minutes or settings.BOOKING_GRID_MINUTES,
    )


@dataclass(frozen=True)
class CompliantSlots:
    earliest_date: date  # the first date the pre-care window allows (warning)
    recommended_date: date  # the first date with the recommended window
    slots: list


def first_compliant_slots(
    *,
    procedure,
    now=None,
    practitioners=None,
    days=14,
    grid_minutes=None,
    on_or_after=None,
    window=None,
):
    """Free slots from the earliest date the pre-care window allows, booking
    today: the minimum window (accepted with a warning) and later. `window`
    is the patient's (minimum, recommended) days when longer than the
    procedure's (treatments.safety.engine.window_days)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    timing = procedure.timing
    minimum, recommended = window or (timing.precare_min_days, timing.precare_recommended_days)
    precare = precare_check(
        appointment_date=today,
        booking_date=today,
        min_days=minimum,
        recommended_days=recommended,
    )
    first = max(precare.earliest_date, on_or_after or precare.earliest_date)
    slots = free_slots(
        procedure=procedure,
        start=first,
        end=first + timedelta(days=days - 1),
        practitioners=practitioners,
        now=now,
        grid_minutes=grid_minutes,
    )
    return CompliantSlots(precare.earliest_date, precare.recommended_date, slots)
