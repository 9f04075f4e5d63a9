"""The manager's dashboard, and the lists behind its figures.

Each figure is the length of a list a manager can open: the dashboard counts
with the same filters (`appointment_filters`, the stock page's
`stock_filters`, the outbox's `OUTBOX_FILTERS`) that the list applies, so the
two cannot disagree. Every figure is a fixed number of queries, however many
appointments, lots or emails there are (tests/clinic/test_dashboard.py).

Refusals: a booking the rules refuse is not saved, so nothing records it.
What is stored, and counted here, is what the safety engine flagged on
bookings that were made (`Appointment.precare_flag`, `screening_outcome`,
`history_state`, `on_anticoagulants`) and the same-day checks that stopped a
treatment (`SameDayCheck.outcome == "refuse"`, with the rules in `codes`).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.db.models import DurationField, ExpressionWrapper, F, Q, Sum
from django.urls import reverse
from django.utils import timezone

from bookings.availability import TIME_OFF, Schedule
from bookings.models import Appointment
from clinic.models import Notification, Practitioner
from clinic.outbox_views import OUTBOX_FILTERS
from clinic.params import RANGE_BACKWARDS, DayRangeQuery, read_query
from treatments.consent import attach_consent
from treatments.models import Lot, Product, SameDayCheck
from treatments.views.stock import stock_filters

# Flags the engine leaves on a booking it accepted: name -> (label, filter).
BOOKING_FLAGS = {
    "short_window": (
        "Booked with only the minimum pre-care window",
        Q(precare_flag=Appointment.PrecareFlag.SHORT),
    ),
    "attested": (
        "Booked inside the window on the patient's statement",
        Q(precare_flag=Appointment.PrecareFlag.ATTESTED),
    ),
    "caution": ("Screening: for the practitioner to weigh", Q(screening_outcome="caution")),
    "anticoagulants": ("Takes a prescribed blood thinner", Q(on_anticoagulants=True)),
    "history": (
        "Medical history missing, out of date or incomplete when booked",
        Q(history_state__in=["missing", "stale", "incomplete"]),
    ),
}
# The rules that can stop a treatment at the same-day check (codes of the
# safety engine's refusals at the treatment-start step), in words.
SAME_DAY_REFUSALS = {
    "same_day_window": "Pre-care window not kept",
    "same_day_pregnant": "Pregnant or breastfeeding",
    "same_day_site": "Cold sore or infection at the lips",
    "toxin_too_soon": "Toxin too soon after the last",
    "under_age": "Under 18 on the day",
    "history_missing": "No medical history",
    "history_stale": "Medical history out of date",
    "history_incomplete": "Medical history incomplete",
    "contraindicated": "Ruled out by the medical history",
    "ruled_out": "Ruled out by the medical history",
}
GAPS = {
    "consent": "Consent not signed",
    "history": "Medical history missing, out of date or incomplete",
}
# A gap is worked out per appointment (consent states, today's history
# state), so a list of gaps covers a week at most.
GAP_DAYS = 7
LONGEST_LIST_DAYS = 366
APPOINTMENTS_PER_PAGE = 50

STATUS_CHOICES = [("", "Any status"), ("active", "Booked, checked in or completed")]
GAP_TOO_LONG = (
    f"Consent and history gaps are listed for {GAP_DAYS} days at most: pick a shorter range."
)
RANGE_TOO_LONG = f"Pick a range of {LONGEST_LIST_DAYS} days at most."


class AppointmentListQuery(DayRangeQuery):
    """?from=&to= (local days, default today), status, flag, refused, gap."""

    status = forms.ChoiceField(
        required=False, choices=STATUS_CHOICES + list(Appointment.Status.choices)
    )
    flag = forms.ChoiceField(
        required=False, choices=[("", "")] + [(k, v[0]) for k, v in BOOKING_FLAGS.items()]
    )
    refused = forms.ChoiceField(
        required=False, choices=[("", ""), ("any", "Any rule"), *SAME_DAY_REFUSALS.items()]
    )
    gap = forms.ChoiceField(required=False, choices=[("", ""), *GAPS.items()])

    def clean(self):
        data = super().clean()
        first = data.get("from") or timezone.localdate()
        last = data.get("to") or first
        if last < first:
            raise forms.ValidationError(RANGE_BACKWARDS)
        if (last - first).days >= LONGEST_LIST_DAYS:
            raise forms.ValidationError(RANGE_TOO_LONG)
        if data.get("gap") and (last - first).days >= GAP_DAYS:
            raise forms.ValidationError(GAP_TOO_LONG)
        data["from"], data["to"] = first, last
        return data


def read_list_query(request) -> dict:
    return read_query(request, AppointmentListQuery)


def list_url(**params) -> str:
    query = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in params.items() if v}
    return reverse("manager_appointments") + "?" + urlencode(query)


def _refused_ids(appointments, code):
    """Ids of `appointments` whose same-day check refused on rule `code`
    ("any": on any rule). Codes are a JSON list, which SQLite cannot search,
    so they are read and matched here."""
    checks = SameDayCheck.objects.filter(
        outcome="refuse", appointment__in=appointments.values("pk")
    ).values_list("appointment_id", "codes")
    return {pk for pk, codes in checks if code == "any" or code in codes}


def refusals_by_rule(appointments):
    """{code: number of appointments} whose same-day check refused on that
    rule, in one query."""
    found = {}
    checks = SameDayCheck.objects.filter(
        outcome="refuse", appointment__in=appointments.values("pk")
    ).values_list("appointment_id", "codes")
    for pk, codes in checks:
        for code in codes:
            if code in SAME_DAY_REFUSALS:
                found.setdefault(code, set()).add(pk)
    return {code: len(ids) for code, ids in found.items()}


def appointments_matching(query, *, now):
    """The appointments a list shows: a QuerySet, or a list when a gap is asked
    for (worked out per appointment, over a week at most)."""
    appointments = Appointment.objects.starting_between(query["from"], query["to"])
    status = query.get("status")
    if status == "active":
        appointments = appointments.active()
    elif status:
        appointments = appointments.filter(status=status)
    if query.get("flag"):
        appointments = appointments.filter(BOOKING_FLAGS[query["flag"]][1])
    if query.get("refused"):
        appointments = appointments.filter(pk__in=_refused_ids(appointments, query["refused"]))
    appointments = (
        appointments.select_related("patient", "practitioner", "procedure")
        .prefetch_related("procedure__components")
        .with_history()
        .order_by("starts_at", "pk")
    )
    gap = query.get("gap")
    if not gap:
        return appointments
    rows = attach_consent(appointments, now=now)
    if gap == "consent":
        return [a for a in rows if not a.consent.is_complete]
    return [a for a in rows if a.needs_history]


def tomorrows_gaps(*, today, now):
    """{gap: number of tomorrow's active appointments with it}, in four queries."""
    tomorrow = today + timedelta(days=1)
    rows = attach_consent(
        Appointment.objects.starting_between(tomorrow, tomorrow)
        .active()
        .select_related("procedure")
        .prefetch_related("procedure__components")
        .with_history(),
        now=now,
    )
    return {
        "consent": sum(1 for a in rows if not a.consent.is_complete),
        "history": sum(1 for a in rows if a.needs_history),
    }


@dataclass
class Utilisation:
    booked_minutes: int
    working_minutes: int

    @property
    def percent(self):
        if not self.working_minutes:
            return None
        return round(100 * self.booked_minutes / self.working_minutes)


def _booked_minutes(first_day, last_day):
    chair = ExpressionWrapper(F("ends_at") - F("starts_at"), output_field=DurationField())
    total = (
        Appointment.objects.active()
        .starting_between(first_day, last_day)
        .aggregate(chair=Sum(chair))["chair"]
    )
    return int(total.total_seconds() // 60) if total else 0


def _working_minutes(schedule, days):
    """Working time of everyone taking bookings on `days`, less time off."""
    total = 0
    for practitioner_id in schedule.practitioners:
        for day in days:
            for start, end in schedule.working_spans(practitioner_id, day):
                away = sum(
                    (min(e, end) - max(s, start)).total_seconds()
                    for s, e in schedule.conflicts(practitioner_id, start, end, TIME_OFF)
                )
                total += (end - start).total_seconds() - away
    return int(total // 60)


def utilisation(*, today, week_start, week_end):
    """Booked chair minutes over working minutes of the active
    practitioners, today and this week: one Schedule for the week (three
    queries with the practitioners) and one sum for each."""
    practitioners = list(Practitioner.objects.active())
    days = [week_start + timedelta(days=n) for n in range((week_end - week_start).days + 1)]
    day_work = week_work = 0
    if practitioners:  # a new clinic may have no one yet
        schedule = Schedule.load(
            first_day=week_start, last_day=week_end, practitioners=practitioners
        )
        day_work = _working_minutes(schedule, [today])
        week_work = _working_minutes(schedule, days)
    return (
        Utilisation(_booked_minutes(today, today), day_work),
        Utilisation(_booked_minutes(week_start, week_end), week_work),
    )


def month_bounds(today):
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def week_bounds(today):
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


@dataclass
class Figure:
    key: str
    label: str
    count: int
    url: str


def dashboard(*, now) -> dict:
    """Everything the manager's home shows, each figure with its list's URL."""
    today = timezone.localdate(now)
    week_start, week_end = week_bounds(today)
    month_start, month_end = month_bounds(today)
    tomorrow = today + timedelta(days=1)
    week = {"from": week_start, "to": week_end}
    month = {"from": month_start, "to": month_end}

    def appointments(key, label, **query):
        query = {"from": today, **query}
        query.setdefault("to", query["from"])
        count = appointments_matching(query, now=now).count()
        return Figure(key, label, count, list_url(**query))

    stock = stock_filters(today)
    stock_url = reverse("treatments:stock") + "?show="
    day_use, week_use = utilisation(today=today, week_start=week_start, week_end=week_end)
    refusals = refusals_by_rule(Appointment.objects.starting_between(month_start, month_end))
    gaps = tomorrows_gaps(today=today, now=now)
    return {
        "today": today,
        "week": (week_start, week_end),
        "month": (month_start, month_end),
        "tomorrow": tomorrow,
        "warning_days": settings.STOCK_EXPIRY_WARNING_DAYS,
        "bookings": [
            (appointments("today", "Today", status="active"), day_use),
            (appointments("week", "This week", status="active", **week), week_use),
        ],
        "month_figures": [
            appointments("no_show", "No-shows", status=Appointment.Status.NO_SHOW, **month),
            appointments(
                "cancelled", "Cancellations", status=Appointment.Status.CANCELLED, **month
            ),
        ],
        "refusals": [
            Figure(f"refused_{code}", label, refusals[code], list_url(refused=code, **month))
            for code, label in SAME_DAY_REFUSALS.items()
            if refusals.get(code)
        ],
        "flags": [
            appointments(f"flag_{name}", label, flag=name, **month)
            for name, (label, _) in BOOKING_FLAGS.items()
        ],
        "gaps": [
            Figure(
                f"gap_{name}",
                label,
                gaps[name],
                list_url(gap=name, status="active", **{"from": tomorrow, "to": tomorrow}),
            )
            for name, label in GAPS.items()
        ],
        "stock": [
            Figure(
                "stock_low",
                "Products below their low-stock level",
                Product.objects.low_on(today).count(),
                stock_url + "low",
            ),
            Figure(
                "stock_expiring",
                "Lots expiring soon",
                Lot.objects.filter(stock["expiring"]).count(),
                stock_url + "expiring",
            ),
            Figure(
                "stock_expired",
                "Expired lots still on the shelf",
                Lot.objects.filter(stock["expired"]).count(),
                stock_url + "expired",
            ),
        ],
        "emails": [
            Figure(
                "emails_failed",
                "Failed emails",
                Notification.objects.filter(OUTBOX_FILTERS["failed"]).count(),
                reverse("outbox") + "?show=failed",
            )
        ],
    }


def describe(query) -> str:
    """The list's filters in words, for its heading."""
    first, last = query["from"], query["to"]
    days = f"{first:%a} {first.day} {first:%b %Y}"
    if last != first:
        days += f" – {last:%a} {last.day} {last:%b %Y}"
    words = [days]
    status = dict(STATUS_CHOICES + list(Appointment.Status.choices)).get(query.get("status"))
    if query.get("status"):
        words.append(str(status).lower())
    if query.get("flag"):
        words.append(BOOKING_FLAGS[query["flag"]][0].lower())
    if query.get("refused"):
        rule = SAME_DAY_REFUSALS.get(query["refused"], "any rule")
        words.append(f"treatment stopped at the same-day check: {rule.lower()}")
    if query.get("gap"):
        words.append(GAPS[query["gap"]].lower())
    return " · ".join(words)
