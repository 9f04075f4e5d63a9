"""manage.py apply_retention: delete the records the clinic need no longer keep.

Without --apply it only says what it would delete. Run it from cron once a
day (README, "Patient data rights")."""

from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand
from django.template.defaultfilters import pluralize
from django.utils import timezone

from clinic.privacy.retention import patient_purge, retention_cutoff, retention_due


class Command(BaseCommand):
    help = (
        "Delete every record of patients whose last treatment (or last appointment or "
        "registration) is more than RETENTION_YEARS ago. Dry run unless --apply."
    )

    def add_arguments(self, parser):
        parser.add_argument("--apply", action="store_true", help="delete, not just list")
        parser.add_argument("--today", type=date.fromisoformat, help="YYYY-MM-DD (tests)")

    def handle(self, *args, apply, today, **options):
        now = timezone.now()
        today = today or timezone.localdate(now)
        due = list(retention_due(today).order_by("pk"))
        cutoff = retention_cutoff(today)
        self.stdout.write(
            f"{len(due)} patient{pluralize(len(due))} last treated or seen before "
            f"{cutoff:%d/%m/%Y} "
            f"({settings.RETENTION_YEARS} years)."
        )
        if not apply:
            for patient in due:
                self.stdout.write(f"  would delete patient {patient.pk}")
            self.stdout.write("Dry run: nothing deleted. Add --apply to delete.")
            return
        for patient in due:
            number = patient.pk
            patient_purge(patient=patient, now=now)
            self.stdout.write(f"  deleted patient {number}")
        self.stdout.write(f"Deleted the records of {len(due)} patients.")
