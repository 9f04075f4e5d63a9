"""Patients' phone numbers in E.164 (+447700900123).

Every number phonenumbers reads as valid, or shaped as a mobile or landline of its country (the
clinic's own, PHONE_REGION, when it has no +code) is rewritten in E.164 and
made searchable in both its international and national digits. A number it
cannot read is kept exactly as typed, never dropped, and reported here; the
patient page asks staff to correct it, and `manage.py unreadable_phones`
lists them at any time. History rows keep what was typed then.
"""

import re

import phonenumbers
from django.conf import settings
from django.db import migrations, models

import clinic.phones

BATCH = 2000


def _digits(text):
    return re.sub(r"\D", "", text or "")


def _e164(text):
    text = (text or "").strip()
    if not text or len(text) > 40:
        return None
    try:
        number = phonenumbers.parse(text, settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    possible = phonenumbers.ValidationResult.IS_POSSIBLE
    shaped = any(
        phonenumbers.is_possible_number_for_type_with_reason(number, kind) == possible
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
    )
    if not (phonenumbers.is_valid_number(number) or shaped):
        return None
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    searchable = " ".join(dict.fromkeys([_digits(e164), _digits(national)]))
    return e164, searchable


def to_e164(apps, schema_editor):
    Patient = apps.get_model("clinic", "Patient")
    changed, unreadable = [], []
    rows = Patient.objects.only("pk", "phone", "search_text").order_by("pk")
    for patient in rows.iterator(chunk_size=BATCH):
        found = _e164(patient.phone)
        if found is None:
            unreadable.append((patient.pk, patient.phone))
            continue
        e164, searchable = found
        if e164 == patient.phone:
            continue
        old = _digits(patient.phone)
        words = patient.search_text.split(" ")
        patient.search_text = " ".join(searchable if w == old else w for w in words)
        patient.phone = e164
        changed.append(patient)
        if len(changed) >= BATCH:
            Patient.objects.bulk_update(changed, ["phone", "search_text"])
            changed = []
    Patient.objects.bulk_update(changed, ["phone", "search_text"])
    if unreadable:
        print(f"\n  {len(unreadable)} phone number(s) could not be read and are kept as typed:")
        for pk, phone in unreadable[:50]:
            print(f"    patient {pk}: {phone!r}")
        print("  Correct them on each patient's page; `manage.py unreadable_phones` lists them.")


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0013_notification_from_bookings"),
    ]

    operations = [
        migrations.AlterField(
            model_name="historicalpatient",
            name="phone",
            field=models.CharField(
                max_length=20,
                validators=[clinic.phones.PhoneValidator()],
                verbose_name="mobile phone",
            ),
        ),
        migrations.AlterField(
            model_name="patient",
            name="phone",
            field=models.CharField(
                max_length=20,
                validators=[clinic.phones.PhoneValidator()],
                verbose_name="mobile phone",
            ),
        ),
        migrations.RunPython(to_e164, migrations.RunPython.noop, elidable=False),
    ]
