from django.core.management.base import BaseCommand

from bookings.services import holds_release_expired


class Command(BaseCommand):
    help = (
        "Delete the holds on times that have lapsed (patients who started booking online and "
        "did not finish). Pages and the booking service already ignore lapsed holds; this keeps "
        "the table small. Safe to run from cron every few minutes."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"Released {holds_release_expired()} lapsed holds.")
