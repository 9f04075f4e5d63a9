"""The audit log's "who changed what", in words.

django-simple-history keeps a row per save of each audited model. The page
lists them as one list, newest first: one UNION query over the history
tables (kind, row id, time, user, patient), paged by `clinic.paging.Window`;
then, per kind on the page, one query for the rows with the version before
each (a subquery) and one for those earlier versions, and `diff_against()`
gives the fields that changed. Names of the people and things a change points
at are read once per page, so a page is a fixed number of queries however
long the history.

Medical histories are versions that never change: the log says one was
given, never its answers (those need the practitioner's permission).
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.apps import apps
from django.db import models
from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from clinic.models import Patient

# kind: (app label, model, words, the patient's id on its history row)
KINDS = {
    "appointment": ("bookings", "Appointment", "Appointments", "patient_id"),
    "patient": ("clinic", "Patient", "Patients' details", "id"),
    "history": ("clinic", "MedicalHistory", "Medical histories", "patient_id"),
    "record": ("treatments", "TreatmentRecord", "Treatment records", "patient_id"),
    "injection": ("treatments", "InjectionLine", "Injections", None),
    "lot": ("treatments", "Lot", "Stock lots", None),
}
HIDDEN_FIELDS = {"search_text", "content_sha256"}
TYPES = {"+": "created", "~": "changed", "-": "deleted"}
LONGEST_VALUE = 120


def history_model(kind):
    app_label, name, _, _ = KINDS[kind]
    return apps.get_model(app_label, name).history_log.model


def _patient_ref(kind):
    column = KINDS[kind][3]
    if column is not None:
        return F(column)
    if kind == "injection":
        records = apps.get_model("treatments", "TreatmentRecord").objects
        return Subquery(records.filter(pk=OuterRef("record_id")).values("patient_id")[:1])
    return Value(None, output_field=IntegerField())


def change_rows(*, kind=None, person=None, patient=None, first_day=None, last_day=None):
    """One UNION query: (kind, history_id, history_date, user id, patient id)
    of every audited change that matches, newest first."""
    zone = timezone.get_current_timezone()
    parts = []
    for name in [kind] if kind else KINDS:
        rows = history_model(name).objects.annotate(
            kind=Value(name, output_field=models.CharField()),
            row=F("history_id"),
            at=F("history_date"),
            who=F("history_user_id"),
            patient_ref=_patient_ref(name),
        )
        if person is not None:
            rows = rows.filter(history_user_id=person)
        if patient is not None:
            if KINDS[name][3] is None and name != "injection":
                continue  # stock lots belong to no patient
            rows = rows.filter(patient_ref=patient)
        if first_day is not None:
            rows = rows.filter(history_date__gte=datetime.combine(first_day, time.min, zone))
        if last_day is not None:
            end = datetime.combine(last_day + timedelta(days=1), time.min, zone)
            rows = rows.filter(history_date__lt=end)
        parts.append(rows.order_by().values("kind", "row", "at", "who", "patient_ref"))
    if not parts:
        return []
    first, *others = parts
    return (
        first.union(*others, all=True).order_by("-at", "-row")
        if others
        else first.order_by("-at", "-row")
    )


@dataclass
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class Change:
    kind: str
    at: datetime
    who: object
    action: str
    patient: object
    what: str
    url: str | None
    fields: list = field(default_factory=list)
    note: str = ""


def _related_names(rows_by_kind):
    """{(model, pk): name} for every foreign key on the page's rows, one
    query per related model."""
    wanted = {}
    for rows in rows_by_kind.values():
        for row in rows:
            for f in row.instance_type._meta.fields:
                if f.is_relation and f.name not in HIDDEN_FIELDS:
                    value = getattr(row, f.attname)
                    if value is not None:
                        wanted.setdefault(f.related_model, set()).add(value)
    names = {}
    for model, ids in wanted.items():
        for obj in model._default_manager.filter(pk__in=ids):
            names[(model, obj.pk)] = str(obj)
    return names


def _shown(model_field, value, names):
    if value is None or value == "":
        return "—"
    if model_field.is_relation:
        return names.get((model_field.related_model, value), f"#{value}")
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "j M Y, H:i")
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if hasattr(value, "isoformat"):
        return date_format(value, "j M Y")
    text = str(value)
    return text if len(text) <= LONGEST_VALUE else text[: LONGEST_VALUE - 1] + "…"


def _name(row, field_name, names):
    model = row.instance_type._meta.get_field(field_name).related_model
    return names.get((model, getattr(row, f"{field_name}_id")), "")


def _describe(kind, row, names):
    """What the row is about, in words, and where to see it now."""
    if kind == "appointment":
        procedure = _name(row, "procedure", names)
        when = date_format(timezone.localtime(row.starts_at), "D j M Y, H:i")
        return f"Appointment: {procedure}, {when}", reverse("bookings:appointment", args=[row.id])
    if kind == "patient":
        return "Details", reverse("patients:detail", args=[row.id])
    if kind == "history":
        return f"Medical history given {_shown_date(row.submitted_at)}", None
    if kind == "record":
        procedure = _name(row, "procedure", names)
        return f"Treatment record: {procedure}", reverse("treatments:record", args=[row.id])
    if kind == "injection":
        product = _name(row, "product", names)
        return (
            f"Injection: {product}, {row.amount.normalize():f} at {row.get_site_display()}",
            reverse("treatments:record", args=[row.record_id]),
        )
    product = _name(row, "product", names)
    return f"{product} lot {row.lot_number}", reverse("treatments:stock") + "?show=all"


def _shown_date(moment):
    return date_format(timezone.localtime(moment), "j M Y")


def changes_for(page_rows):
    """The page's rows (dicts from change_rows) as Changes, in order."""
    by_kind = {}
    for row in page_rows:
        by_kind.setdefault(row["kind"], []).append(row["row"])
    loaded, earlier = {}, {}
    for kind, ids in by_kind.items():
        model = history_model(kind)
        before = (
            model.objects.filter(id=OuterRef("id"))
            .filter(
                Q(history_date__lt=OuterRef("history_date"))
                | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
            )
            .order_by("-history_date", "-history_id")
            .values("history_id")[:1]
        )
        rows = list(
            model.objects.filter(history_id__in=ids)
            .select_related("history_user")
            .annotate(previous_id=Subquery(before))
        )
        loaded[kind] = rows
        previous_ids = [r.previous_id for r in rows if r.previous_id]
        earlier.update(
            {(kind, r.history_id): r for r in model.objects.filter(history_id__in=previous_ids)}
        )
    names = _related_names({**loaded, "earlier": list(earlier.values())})
    patient_ids = {row["patient_ref"] for row in page_rows if row["patient_ref"]}
    patients = Patient.objects.only("first_name", "last_name").in_bulk(patient_ids)
    rows_by_id = {(kind, r.history_id): r for kind, rows in loaded.items() for r in rows}

    changes = []
    for ref in page_rows:
        kind = ref["kind"]
        row = rows_by_id[(kind, ref["row"])]
        what, url = _describe(kind, row, names)
        change = Change(
            kind=KINDS[kind][2],
            at=row.history_date,
            who=row.history_user,
            action=TYPES.get(row.history_type, row.history_type),
            patient=patients.get(ref["patient_ref"]),
            what=what,
            url=url if row.history_type != "-" else None,
        )
        previous = earlier.get((kind, row.previous_id))
        if kind == "history":
            change.note = "Answers are shown to practitioners on the patient's history page."
        elif row.history_type == "~" and previous is not None:
            delta = row.diff_against(previous)
            model = row.instance_type
            for item in delta.changes:
                if item.field in HIDDEN_FIELDS:
                    continue
                model_field = model._meta.get_field(item.field)
                change.fields.append(
                    FieldChange(
                        label=str(model_field.verbose_name),
                        before=_shown(model_field, item.old, names),
                        after=_shown(model_field, item.new, names),
                    )
                )
            if not change.fields:
                change.note = "Saved with nothing changed."
        changes.append(change)
    return changes
