from django.core.management.base import BaseCommand, CommandError

from clinic import backup


class Command(BaseCommand):
    help = (
        "Replace the whole database with a backup made by `manage.py backup`. Stop the app "
        "servers first."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup file.")
        parser.add_argument(
            "--yes", action="store_true", help="Do not ask: everything since the backup is lost."
        )

    def handle(self, *args, path, yes=False, **options):
        if not yes:
            answer = input(f"Replace the database with {path}? Everything since is lost. [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                raise CommandError("Nothing was changed.")
        backup.restore(path)
        self.stdout.write(self.style.SUCCESS(f"Restored from {path}"))
