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
from operator import itemgetter
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import CharField, DateField, Func, IntegerField, Q, Value
from django.utils import timezone

from bookings.models import Appointment, ScheduleException, TimeOff, WorkingHours
from clinic.models import Practitioner
from treatments.safety.precare import precare_check

APPOINTMENT, TIME_OFF = "appointment", "time_off"


class Epoch(Func):
    """Seconds since 1970-01-01 UTC of a datetime column, as an integer."""

    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        template = "EXTRACT(EPOCH FROM %(expressions)s)::bigint"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # julianday() works on every SQLite; unixepoch() needs 3.38.
        template = "CAST(ROUND((julianday(%(expressions)s) - 2440587.5) * 86400) AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, **extra)


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
        return timezone.localtime(self.start)


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


class Schedule:
    """Working time and busy time of some practitioners over some local days."""

    def __init__(self, *, first_day, last_day, practitioners, weekly, exceptions, busy, zone):
        self.first_day, self.last_day = first_day, last_day
        self.practitioners = practitioners  # {id: Practitioner}
        self._weekly = weekly  # {practitioner id or None: {weekday: [(time, time)]}}
        self._exceptions = exceptions  # {(practitioner id or None, date): [(time, time)]}
        self._busy = busy  # {practitioner id: {kind: sorted [(start, end)] epoch seconds}}
        self._zone = zone
        self._clinic_limits = None in weekly or any(key[0] is None for key in exceptions)
        self._wall = {}  # (date, time) -> epoch seconds, shared by practitioners

    @classmethod
    def load(cls, *, first_day: date, last_day: date, practitioners=None, ignore=None):
        """Three queries (two when `practitioners` are given): working time,
        the practitioners it names, busy time. `practitioners`: an iterable of
        Practitioner, or None for everyone taking bookings. `ignore`: an
        appointment to leave out of the busy time (the one being moved)."""
        zone = timezone.get_current_timezone()
        range_start = datetime.combine(first_day, time.min, tzinfo=zone)
        range_end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)
        if practitioners is None:
            who = Q(practitioner__is_active=True, practitioner__user__is_active=True)
            chosen = {}
        else:
            chosen = {p.pk: p for p in practitioners}
            who = Q(practitioner_id__in=list(chosen))

        # Weekly hours and one-off changes in one query, as plain rows: a team
        # has a row per person and weekday, and model instances of them (with
        # their practitioner joined) cost more than the rest of the load.
        clinic = Q(practitioner__isnull=True)
        weekly_rows = (
            WorkingHours.objects.filter(who | clinic)
            .annotate(day=Value(None, output_field=DateField()))
            .order_by()
            .values_list("practitioner_id", "weekday", "day", "starts", "ends")
        )
        change_rows = (
            ScheduleException.objects.filter(who | clinic, date__gte=first_day, date__lte=last_day)
            .annotate(no_weekday=Value(None, output_field=IntegerField()))
            .order_by()
            .values_list("practitioner_id", "no_weekday", "date", "starts", "ends")
        )
        weekly = defaultdict(lambda: defaultdict(list))
        exceptions = defaultdict(list)
        found = set()
        for practitioner_id, weekday, day, starts, ends in weekly_rows.union(change_rows, all=True):
            if day is None:
                weekly[practitioner_id][weekday].append((starts, ends))
            else:
                spans = exceptions[(practitioner_id, day)]
                if starts is not None:  # a row without times closes the day
                    spans.append((starts, ends))
            if practitioner_id is not None:
                found.add(practitioner_id)
        if practitioners is None:
            chosen = {
                p.pk: p for p in Practitioner.objects.filter(pk__in=found).select_related("user")
            }

        # Busy time of exactly the practitioners found above: by id, so the
        # big table is read through its (practitioner, starts_at) index alone.
        ids = list(chosen)
        appointments = (
            Appointment.objects.active()
            .filter(practitioner_id__in=ids)
            .overlapping(range_start, range_end)
        )
        if ignore is not None:
            appointments = appointments.exclude(pk=ignore.pk)
        kind = CharField()
        busy_rows = (
            appointments.order_by()
            .annotate(
                kind=Value(APPOINTMENT, output_field=kind),
                start_ts=Epoch("starts_at"),
                end_ts=Epoch("blocked_until"),
            )
            .values_list("practitioner_id", "start_ts", "end_ts", "kind")
        )
        away_rows = (
            TimeOff.objects.filter(
                practitioner_id__in=ids, starts_at__lt=range_end, ends_at__gt=range_start
            )
            .order_by()
            .annotate(
                kind=Value(TIME_OFF, output_field=kind),
                start_ts=Epoch("starts_at"),
                end_ts=Epoch("ends_at"),
            )
            .values_list("practitioner_id", "start_ts", "end_ts", "kind")
        )
        # The ORM writes the SQL; the rows are read straight from the cursor.
        # A busy practitioner group has tens of thousands of them, and the
        # ORM's per-row conversion (none is needed for integers) doubled the
        # time of a wide search.
        sql, params = busy_rows.union(away_rows, all=True).order_by().query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        busy = defaultdict(lambda: defaultdict(list))
        for practitioner_id, start, end, what in rows:
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
            return sorted(self._exceptions[key])
        return sorted(self._weekly.get(practitioner_id, {}).get(day.weekday(), []))

    def _wall_ts(self, day, wall):
        key = (day, wall)
        if key not in self._wall:
            self._wall[key] = _ts(datetime.combine(day, wall, tzinfo=self._zone))
        return self._wall[key]

    def _spans_ts(self, practitioner_id, day):
        spans = self._local_spans(practitioner_id, day)
        if self._clinic_limits:
            spans = _intersect(spans, self._local_spans(None, day))
        return [(self._wall_ts(day, start), self._wall_ts(day, end)) for start, end in spans]

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
        slots = []
        # Practitioners in name order, then a stable sort by start time: slots
        # at the same time stay in name order.
        for practitioner_id in sorted(
            self.practitioners, key=lambda pk: str(self.practitioners[pk])
        ):
            practitioner = self.practitioners[practitioner_id]
            busy = self._busy_ts(practitioner_id)
            for day in _days(self.first_day, self.last_day):
                for span_start, span_end in self._spans_ts(practitioner_id, day):
                    if span_end <= now:
                        continue
                    for free_start, free_end in _subtract(span_start, span_end, busy):
                        first = self._on_grid(max(free_start, now), grid_minutes)
                        slots.extend(
                            [
                                Slot(practitioner, start, start + chair)
                                for start in range(first, free_end - occupied + 1, grid)
                            ]
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
    schedule = Schedule.load(first_day=start, last_day=end, practitioners=practitioners)
    return schedule.free_slots(
        timing=procedure.timing,
        now=now or timezone.now(),
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
