from django.core.management.base import BaseCommand

from clinic.outbox import send_due


class Command(BaseCommand):
    help = (
        "Send the emails and texts that are due. Safe to run from cron every minute, and twice at "
        "once: each email is claimed by one runner before it is sent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=50, help="Emails claimed at a time.")

    def handle(self, *args, batch, **options):
        total_sent = total_failed = 0
        while True:
            sent, failed = send_due(batch=batch)
            total_sent += sent
            total_failed += failed
            if sent + failed < batch:
                break
        self.stdout.write(f"Sent {total_sent}, failed {total_failed} (failures are retried).")
