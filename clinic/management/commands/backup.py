from django.core.management.base import BaseCommand

from clinic import backup


class Command(BaseCommand):
    help = "Copy the whole database to a file (SQLite snapshot or pg_dump archive)."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="Where to write it (default: backups/…).")

    def handle(self, *args, output=None, **options):
        path = backup.backup(output or backup.default_path())
        self.stdout.write(self.style.SUCCESS(f"Backed up to {path}"))
