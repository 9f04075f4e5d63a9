"""The main menu: what each user may open, grouped so it fits on one line.

A manager may open eleven pages; flat, they wrapped onto two lines at 1366 px.
The daily pages stay at the top level; the rest sit in three groups. A group
with only one page for this user is shown as that page, not a one-item menu.
"""

from dataclasses import dataclass, field

from django.urls import reverse

from clinic.roles import Role

LANDING = {
    Role.FRONT_DESK: ("desk_home", "Front desk", "bi-house"),
    Role.PRACTITIONER: ("practitioner_home", "My day", "bi-clipboard2-pulse"),
    Role.MANAGER: ("manager_home", "Manage", "bi-sliders"),
    Role.PATIENT: ("portal_home", "My appointments", "bi-calendar-heart"),
}
# (url name, label, icon, permission or a test of the user)
DAILY = [
    ("bookings:day", "Calendar", "bi-calendar3", "bookings.view_appointment"),
    ("bookings:book", "Book", "bi-calendar-plus", "bookings.add_appointment"),
    ("patients:list", "Patients", "bi-people", "clinic.view_patient"),
    ("portal_history", "My medical history", "bi-heart-pulse", lambda u: Role.PATIENT in u.roles),
]
GROUPS = [
    (
        "Clinic",
        "bi-box-seam",
        [
            ("bookings:waitlist", "Waitlist", "bi-hourglass-split", "bookings.view_waitlistentry"),
            ("treatments:stock", "Stock", "bi-box-seam", "treatments.view_lot"),
            ("treatments:kit", "Emergency kit", "bi-heart-pulse", "treatments.view_kitcheck"),
            ("treatments:recall", "Lot recall", "bi-exclamation-octagon", "treatments.recall_lot"),
            ("treatments:catalog", "Catalog", "bi-journal-medical", "treatments.change_procedure"),
            (
                "treatments:consent_forms",
                "Consent forms",
                "bi-file-earmark-text",
                "treatments.add_consentform",
            ),
        ],
    ),
    (
        "Records",
        "bi-folder2-open",
        [
            (
                "treatments:reports",
                "Patient reports",
                "bi-chat-square-text",
                "treatments.view_patientreport",
            ),
            (
                "treatments:complications",
                "Complications",
                "bi-exclamation-triangle",
                "treatments.view_complication",
            ),
            ("outbox", "Emails", "bi-envelope", "clinic.view_notification"),
            ("audit_log", "Audit", "bi-eye", "clinic.view_auditevent"),
        ],
    ),
    (
        "Admin",
        "bi-gear",
        [
            (
                "accounts:staff",
                "Staff security",
                "bi-shield-lock",
                lambda u: Role.MANAGER in u.roles,
            ),
            ("admin:index", "Admin site", "bi-gear", lambda u: u.is_staff),
        ],
    ),
]


@dataclass
class Entry:
    url: str
    label: str
    icon: str
    active: bool = False


@dataclass
class Group:
    label: str
    icon: str
    entries: list = field(default_factory=list)

    @property
    def active(self):
        return any(entry.active for entry in self.entries)


def _allowed(user, test):
    return test(user) if callable(test) else user.has_perm(test)


def _entry(name, label, icon, path):
    url = reverse(name)
    # The landing pages' addresses are prefixes of others ("/manage/" of the
    # audit log): a page is active on its own address or below it, and the
    # longest match wins (see menu_for).
    return Entry(url, label, icon, active=path.startswith(url))


def menu_for(user, path="") -> list:
    """Entries and groups, in order, for `user`, on the page at `path`."""
    items = [_entry(*LANDING[role], path) for role in user.roles]
    items += [
        _entry(n, label, icon, path) for n, label, icon, test in DAILY if _allowed(user, test)
    ]
    for label, icon, pages in GROUPS:
        entries = [
            _entry(n, text, glyph, path) for n, text, glyph, test in pages if _allowed(user, test)
        ]
        if len(entries) > 1:
            items.append(Group(label, icon, entries))
        else:
            items += entries
    entries = [e for item in items for e in (item.entries if isinstance(item, Group) else [item])]
    longest = max((len(e.url) for e in entries if e.active), default=0)
    for entry in entries:
        entry.active = entry.active and len(entry.url) == longest
    return items
