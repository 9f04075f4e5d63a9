"""The audit log for managers: who read what, and every change with its
before and after."""

from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from django import forms
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone

from clinic.access import permission_required
from clinic.models import AuditEvent, Patient, User
from clinic.pages import changes
from clinic.paging import Window
from clinic.params import DayRangeQuery, read_query
from clinic.roles import Role

# Audit (managers)

# What was read, in groups a manager would ask about (AuditEvent.what).
READ_KINDS = {
    "history": ("Medical histories", Q(what="medical history")),
    "screening": ("Screening details", Q(what="screening details")),
    "records": (
        "Treatment records and charts",
        Q(what__startswith="treatment record") | Q(what="patient chart"),
    ),
    "consent": ("Consents and signatures", Q(what__startswith="consent")),
    "photos": ("Clinical photos", Q(what__startswith="photo")),
    "search": ("Patient searches", Q(what="patient search")),
    "recall": ("Lot recalls", Q(what="lot recall")),
    "feed": ("Calendar feeds", Q(what="calendar feed")),
    "export": ("Data exports", Q(what="data export")),
    "admin": ("Admin pages", Q(what__startswith="admin:")),
}
AUDIT_PER_PAGE = 50
AUDIT_KIND_WRONG_TAB = "That kind is not on this tab: pick one from its list."
ID = {"required": False, "min_value": 1, "max_value": 2**63 - 1}


class AuditQuery(DayRangeQuery):
    tab = forms.ChoiceField(required=False, choices=[("reads", "reads"), ("changes", "changes")])
    person = forms.IntegerField(**ID)
    patient = forms.IntegerField(**ID)
    kind = forms.ChoiceField(
        required=False,
        choices=[("", "")]
        + [(k, v[0]) for k, v in READ_KINDS.items()]
        + [(k, v[2]) for k, v in changes.KINDS.items()],
    )

    def clean(self):
        data = super().clean()
        data["tab"] = data.get("tab") or "reads"
        kinds = changes.KINDS if data["tab"] == "changes" else READ_KINDS
        if data.get("kind") and data["kind"] not in kinds:
            raise forms.ValidationError(AUDIT_KIND_WRONG_TAB)
        return data


@permission_required("clinic.view_auditevent")
def audit_log(request):
    """Reads (AuditEvent) and writes (django-simple-history), newest first,
    filtered by person, patient, kind and dates."""
    query = read_query(request, AuditQuery)
    tab, first, last = query["tab"], query["from"], query["to"]
    if tab == "changes":
        rows = changes.change_rows(
            kind=query["kind"] or None,
            person=query["person"],
            patient=query["patient"],
            first_day=first,
            last_day=last,
        )
        page = Window(rows, request, per_page=AUDIT_PER_PAGE)
        page.object_list = changes.changes_for(page.object_list)
    else:
        reads = AuditEvent.objects.select_related("user", "patient")
        if query["person"] is not None:
            reads = reads.filter(user_id=query["person"])
        if query["patient"] is not None:
            reads = reads.filter(patient_id=query["patient"])
        if query["kind"]:
            reads = reads.filter(READ_KINDS[query["kind"]][1])
        zone = timezone.get_current_timezone()
        if first:
            reads = reads.filter(at__gte=datetime.combine(first, time.min, zone))
        if last:
            reads = reads.filter(at__lt=datetime.combine(last + timedelta(days=1), time.min, zone))
        page = Window(reads, request, per_page=AUDIT_PER_PAGE)
    kept = {
        k: v.isoformat() if hasattr(v, "isoformat") else v
        for k, v in query.items()
        if k in ("person", "patient", "from", "to") and v
    }
    staff_roles = [Role.FRONT_DESK, Role.PRACTITIONER, Role.MANAGER]
    return render(
        request,
        "clinic/audit.html",
        {
            "tab": tab,
            "page": page,
            "query": query,
            "kinds": (
                [(k, v[2]) for k, v in changes.KINDS.items()]
                if tab == "changes"
                else [(k, v[0]) for k, v in READ_KINDS.items()]
            ),
            "people": User.objects.filter(groups__name__in=staff_roles)
            .distinct()
            .order_by("full_name")
            .only("full_name", "email"),
            "patient": Patient.objects.filter(pk=query["patient"]).first()
            if query["patient"]
            else None,
            "reads_url": "?" + urlencode({"tab": "reads", **kept}),
            "changes_url": "?" + urlencode({"tab": "changes", **kept}),
            "everyone_url": "?"
            + urlencode({"tab": tab, **{k: v for k, v in kept.items() if k != "patient"}}),
        },
    )
