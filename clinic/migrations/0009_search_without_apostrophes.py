"""Patient search ignores apostrophes ("obrien" finds O'Brien): recompute the
search text of every patient whose name has one. Other rows are unchanged."""

import unicodedata

from django.db import migrations
from django.db.models import Q

APOSTROPHES = "'\u2019\u02bc\u2018`"


def _key(text):
    decomposed = unicodedata.normalize("NFKD", text or "")
    kept = (ch for ch in decomposed if not unicodedata.combining(ch) and ch not in APOSTROPHES)
    return "".join(kept).casefold().strip()


def recompute(apps, schema_editor):
    Patient = apps.get_model("clinic", "Patient")
    with_apostrophe = Q()
    for mark in APOSTROPHES:
        with_apostrophe |= Q(first_name__contains=mark) | Q(last_name__contains=mark)
    for patient in Patient.objects.filter(with_apostrophe).iterator():
        digits = "".join(ch for ch in patient.phone if ch.isdigit())
        parts = (_key(patient.first_name), _key(patient.last_name), digits, patient.email)
        Patient.objects.filter(pk=patient.pk).update(
            search_text=" ".join(part for part in parts if part)
        )


class Migration(migrations.Migration):
    dependencies = [("clinic", "0008_history_more_questions")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
