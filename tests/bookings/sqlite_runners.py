"""Run by test_notifications.py in its own process: two runners send the due
emails of a fresh SQLite file at the same time. Prints a JSON summary."""

import json
import os
import sys
import threading
import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ["DATABASE_URL"] = f"sqlite:///{sys.argv[1]}"
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"

import django

django.setup()

from django.core import mail  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from clinic import outbox  # noqa: E402
from clinic.models import Notification  # noqa: E402
from tests.factories import PatientFactory  # noqa: E402
from tests.helpers import NOW  # noqa: E402

setup_test_environment()  # the locmem email backend: mail.outbox
call_command("migrate", verbosity=0)
for n in range(12):
    outbox.enqueue(
        "invitation",
        patient=PatientFactory(),
        key=f"k{n}",
        due_at=NOW,
        context={"url": "https://example.test"},
    )
connection.close()
original = outbox._send


def slow(notification):
    clock.sleep(0.05)
    original(notification)


outbox._send = slow
errors = []


def runner():
    try:
        for _ in range(4):
            outbox.send_due(now=NOW, batch=5)
    except Exception as exc:  # reported in the summary
        errors.append(repr(exc))
    finally:
        connection.close()


threads = [threading.Thread(target=runner) for _ in range(2)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
recipients = [message.to[0] for message in mail.outbox]
print(
    json.dumps(
        {
            "sent": len(recipients),
            "unique": len(set(recipients)),
            "rows_sent": Notification.objects.filter(status="sent").count(),
            "errors": errors,
        }
    )
)
