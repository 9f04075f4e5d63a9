from django.core.management.base import BaseCommand

from clinic import phones
from clinic.models import Patient

E164 = r"^\+[1-9][0-9]{6,14}$"


class Command(BaseCommand):
    help = (
        "List the patients whose phone number cannot be read (typed before numbers were "
        "checked): correct each on the patient's page."
    )

    def handle(self, *args, **options):
        candidates = Patient.objects.exclude(phone__regex=E164).order_by("pk")
        unreadable = [
            p
            for p in candidates.only("pk", "first_name", "last_name", "phone")
            if not phones.is_readable(p.phone)
        ]
        for patient in unreadable:
            self.stdout.write(f"{patient.pk}\t{patient.full_name}\t{patient.phone!r}")
        self.stdout.write(f"{len(unreadable)} unreadable phone number(s).")
