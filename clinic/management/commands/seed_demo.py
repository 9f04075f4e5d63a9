from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clinic import demo


class Command(BaseCommand):
    help = "Create or refresh the demo clinic (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off. Demo accounts have a published password: "
            "never use this on a live clinic.",
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with a published password, so it only runs "
                "with DEBUG=1. Pass --force if this really is a demo database."
            )
        logins = demo.seed_demo()
        width = max(len(email) for _, email in logins)
        self.stdout.write(self.style.SUCCESS("Demo clinic ready. Log in at " + settings.SITE_URL))
        self.stdout.write(f"  {'role':<14} {'email':<{width}}  password")
        for role, email in logins:
            self.stdout.write(f"  {role:<14} {email:<{width}}  {demo.DEMO_PASSWORD}")
