"""HTML for the parts of booking pages drawn hundreds of times a page.

A busy day calendar has ~1,300 grid cells and ~250 appointment blocks. Django's
template engine costs a few microseconds for each variable it looks up, which
made the grid alone 45 ms of a 78 ms page (docs/BENCHMARKS.md). These pieces
are therefore built in Python, as django.contrib.admin builds the cells of its
change list (admin_list.items_for_result): with format_html, or escape() on
each value in the hottest spot; the markup is the same as a template would
give. Templates use
them through the tags in bookings/templatetags/bookings_html.py.
"""

import html as stdlib_html

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from bookings.models import Appointment


def _badge(css, icon, text, title=""):
    title_attr = format_html(' title="{}"', title) if title else ""
    return format_html(
        '<span class="badge {}"{}><i class="bi {}"></i> {}</span>', css, title_attr, icon, text
    )


# Every badge is fixed text, so each is built once, not once per appointment.
BADGES = {
    "history_missing": _badge(
        "text-bg-warning", "bi-clipboard-x", "history missing", "No medical history yet"
    ),
    "history_stale": _badge(
        "text-bg-warning",
        "bi-clipboard-minus",
        "history to re-confirm",
        "Medical history needs re-confirming",
    ),
    "history_incomplete": _badge(
        "text-bg-warning",
        "bi-clipboard-plus",
        "history: new questions",
        "Medical history is missing answers to questions added since it was given",
    ),
    "anticoagulants": _badge(
        "text-bg-danger",
        "bi-capsule",
        "prescribed thinner",
        "Prescribed blood thinner: never told to stop",
    ),
    "screening_caution": _badge(
        "text-bg-info", "bi-eye", "review", "Screening: practitioner review"
    ),
    "short_window": _badge(
        "text-bg-secondary",
        "bi-hourglass-split",
        "short window",
        "Booked with the minimum pre-care window",
    ),
    "attested": _badge(
        "text-bg-secondary",
        "bi-chat-quote",
        "attested",
        "Booked late on the patient's statement",
    ),
}
CONSENT_BADGES = {
    "signed": _badge("text-bg-success", "bi-pen", "consent signed"),
    "sent": _badge("text-bg-info", "bi-envelope", "consent sent"),
    "void": _badge("text-bg-danger", "bi-pen", "consent void"),
}
NO_CONSENT = _badge("text-bg-light border", "bi-pen", "no consent")


def consent_badge(state):
    return CONSENT_BADGES.get(str(state), NO_CONSENT)


def appointment_badges(appointment):
    """The names (keys of BADGES) of what staff should notice about a booking."""
    badges = []
    history = appointment.history_state_now
    if history == "missing":
        badges.append("history_missing")
    elif history == "stale":
        badges.append("history_stale")
    elif history == "incomplete":
        badges.append("history_incomplete")
    if appointment.on_anticoagulants:
        badges.append("anticoagulants")
    if appointment.screening_outcome == "caution":
        badges.append("screening_caution")
    if appointment.precare_flag == "short_window":
        badges.append("short_window")
    elif appointment.precare_flag == "attested":
        badges.append("attested")
    return badges


def appointment_flags(appointment):
    """Its badges, and its consent state when the page loaded it."""
    badges = [BADGES[name] for name in appointment_badges(appointment)]
    consent = getattr(appointment, "consent", None)
    if consent:
        badges.append(consent_badge(consent.state))
    return mark_safe("\n".join(badges))  # each badge went through format_html


def escape(text):
    """django.utils.html.escape() without its lazy-string wrapper and
    SafeString: the same characters escaped the same way (& < > " '), for the
    f-string below, which is marked safe once, whole."""
    return stdlib_html.escape(str(text))


def _appointment_cell(cell, zone, link):
    """One appointment's block. The hottest spot of the page: format_html's
    per-argument machinery alone was 3 ms of a busy day, so this is an
    f-string in which every value that is not a number or a formatted time
    goes through escape(), which is all format_html would do with it.
    `link`: the appointment page's address around its id (see calendar_rows)."""
    a = cell.appointment
    status = Appointment.Status(a.status)
    return (
        f'<td rowspan="{cell.rowspan:d}" class="appt status-{escape(status.value)}">'
        f'<a class="appt-block" data-colour="{escape(a.practitioner.colour)}"'
        f' href="{escape(f"{link[0]}{a.pk:d}{link[1]}")}">'
        f'<span class="appt-time">{a.starts_at.astimezone(zone):%H:%M}–'
        f"{a.ends_at.astimezone(zone):%H:%M}</span>"
        f'<span class="appt-patient">{escape(a.patient.full_name)}</span>'
        f'<span class="appt-proc">{escape(a.procedure.name)} · {escape(status.label)}</span>'
        f'<span class="appt-flags">{appointment_flags(a)}</span>'
        "</a></td>"
    )


EMPTY_CELLS = {"free": '<td class="free"></td>', "off": '<td class="off"></td>'}
LINK_ID = 987654321  # stands for the id in the one reverse() a page makes


def calendar_rows(rows):
    """The <tr>s of a calendar grid (bookings.calendar.build_grid)."""
    zone = timezone.get_current_timezone()
    # Appointment.get_absolute_url() for each block was a reverse() each.
    link = reverse("bookings:appointment", args=[LINK_ID]).split(str(LINK_ID))
    html = []
    for row in rows:
        html.append('<tr class="half-hour">' if row.label else "<tr>")
        html.append(format_html('<th class="time-col" scope="row">{}</th>', row.label))
        for cell in row.cells:
            if cell.kind == "appointment":
                html.append(_appointment_cell(cell, zone, link))
            else:
                html.append(EMPTY_CELLS[cell.kind])
        html.append("</tr>")
    return mark_safe("".join(html))  # every value went through format_html or escape()
