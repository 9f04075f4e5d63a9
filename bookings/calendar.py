"""Calendar grids: rows of ROW_MINUTES, one column per practitioner (day view)
or per day (week view), appointments spanning rows with `rowspan`.

A table with rowspans needs no inline style, so the pages keep a strict
Content Security Policy."""

from dataclasses import dataclass, field
from datetime import datetime, time

from django.utils import timezone

ROW_MINUTES = 5
DEFAULT_OPEN, DEFAULT_CLOSE = time(8), time(20)


@dataclass
class Column:
    label: str
    day: object  # local date the column shows
    spans: list  # working (start, end) in UTC
    appointments: list
    practitioner: object = None
    _cells: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Cell:
    kind: str  # "free", "off" or "appointment"
    appointment: object = None
    rowspan: int = 1


FREE, OFF = Cell("free"), Cell("off")


@dataclass(frozen=True)
class Row:
    label: str  # "09:00" on the hour and half hour, else ""
    cells: list


def _local_minutes(moment, day, zone):
    """Minutes from local midnight of `day` to `moment`, on the wall clock."""
    local = moment.astimezone(zone)
    midnight = datetime.combine(day, time.min)
    return int((local.replace(tzinfo=None) - midnight).total_seconds() // 60)


def build_grid(columns, *, zone=None):
    """Rows from the earliest working time or appointment to the latest."""
    zone = zone or timezone.get_current_timezone()
    starts, ends = [DEFAULT_OPEN.hour * 60], [DEFAULT_CLOSE.hour * 60]
    for column in columns:
        for start, end in column.spans:
            starts.append(_local_minutes(start, column.day, zone))
            ends.append(_local_minutes(end, column.day, zone))
        for appointment in column.appointments:
            starts.append(_local_minutes(appointment.starts_at, column.day, zone))
            ends.append(_local_minutes(appointment.blocked_until, column.day, zone))
    first = min(starts) // 30 * 30
    last = -(-max(ends) // 30) * 30

    rows = []
    covered = [0] * len(columns)  # rows still covered by an appointment above
    by_start = [
        {
            _local_minutes(a.starts_at, c.day, zone) // ROW_MINUTES * ROW_MINUTES: (
                a,
                _local_minutes(a.blocked_until, c.day, zone),
            )
            for a in c.appointments
        }
        for c in columns
    ]
    minutes = range(first, last, ROW_MINUTES)
    # Per column, whether each row is working time: worked out once per span
    # rather than once per cell (a busy day has ~3,000 cells).
    working = []
    for column in columns:
        flags = [False] * len(minutes)
        for span in column.spans:
            start, end = (_local_minutes(moment, column.day, zone) for moment in span)
            for row, minute in enumerate(minutes):
                if start <= minute < end:
                    flags[row] = True
        working.append(flags)
    for row, minute in enumerate(minutes):
        cells = []
        for index in range(len(columns)):
            if covered[index]:
                covered[index] -= 1
                continue
            found = by_start[index].get(minute)
            if found is not None:
                appointment, until = found
                rowspan = max(1, -(-(until - minute) // ROW_MINUTES))
                rowspan = min(rowspan, (last - minute) // ROW_MINUTES)
                covered[index] = rowspan - 1
                cells.append(Cell("appointment", appointment, rowspan))
            else:
                cells.append(FREE if working[index][row] else OFF)
        label = f"{minute // 60:02d}:{minute % 60:02d}" if minute % 30 == 0 else ""
        rows.append(Row(label, cells))
    return rows
