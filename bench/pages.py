"""Staff pages at 1x and 100x data: query counts, times, and the plans.

    python -m bench.pages 1x|100x [repeat]

Each size is a PostgreSQL database seeded by `python -m bench.seed_scale` (made
once, then reused while its fingerprint matches; see bench.common). Pages are
served in-process by Django's test Client with production settings (DEBUG
off), logged in as the role that uses them, exactly as a browser's request
would run through the middleware, the view and the template. A minimal
logged-in page (the "password changed" page) is timed the same way, and every
page is also given as a ratio to it, so the figure holds on a noisy machine.

At 100x the SELECTs each page runs are EXPLAINed (ANALYZE) and any sequential
scan on a large table is reported.
"""

import html
import json
import os
import re
import statistics
import sys
import time
from datetime import timedelta

from bench.common import (
    RESULTS,
    django_env,
    drop_database,
    machine,
    psql,
    scale_database,
    working_copy,
)

SIZES = {
    "1x": {"practitioners": 20, "patients": 2_000, "appointments": 10_000},
    "100x": {"practitioners": 20, "patients": 200_000, "appointments": 1_000_000},
}
LARGE_TABLES = (
    "bookings_appointment",
    "bookings_appointmentevent",
    "clinic_patient",
    "clinic_medicalhistory",
    "treatments_consentsignature",
    "treatments_treatmentrecord",
    "treatments_injectionline",
)
CONFIRM_LINK = re.compile(r'href="(/book/\d+/confirm/\?[^"]+)"')


def clinic_day():
    """Today, or Monday when today is the Sunday the clinic is closed."""
    from django.utils import timezone

    today = timezone.localdate()
    return today + timedelta(days=1) if today.weekday() == 6 else today


def pages():
    """[(name, role email, method, url, data)] at this database's data."""
    from django.contrib.auth.models import Group
    from django.db.models import Count, Q
    from django.urls import reverse
    from django.utils import timezone

    from clinic.models import Patient, User
    from clinic.roles import Role
    from treatments.models import Lot, Procedure, TreatmentRecord

    day = clinic_day()
    flip = Procedure.objects.get(code="lip-flip")
    # A patient with a current history, nothing booked and no visit in the
    # last four months (the safety engine refuses a second lip flip within 90
    # days): the usual booking.
    patient = (
        Patient.objects.filter(histories__isnull=False)
        .exclude(appointments__status="booked")
        .exclude(appointments__starts_at__gte=timezone.now() - timedelta(days=120))
        .order_by("pk")
        .first()
    )
    known = Patient.objects.order_by("pk")[500]
    charted = (
        TreatmentRecord.objects.filter(status="signed")
        .values("patient")
        .annotate(n=Count("pk"))
        .order_by("-n", "patient")
        .first()["patient"]
    )
    lot = (
        Lot.objects.annotate(n=Count("injections", filter=Q(injections__record__status="signed")))
        .order_by("-n", "pk")
        .first()
    )
    desk, practitioner, manager = (
        "frontdesk@scale.test",
        "practitioner0@scale.test",
        "manager@scale.test",
    )
    # The same patient books online too: a portal login for them, in this
    # run's copy of the database.
    online = "patient@scale.test"
    if not User.objects.filter(email=online).exists():
        user = User.objects.create_user(online, full_name=patient.full_name)
        user.groups.add(Group.objects.get(name=Role.PATIENT))
        Patient.objects.filter(pk=patient.pk).update(user=user)
    patients = reverse("patients:list")
    book = reverse("bookings:book_patient", args=[patient.pk])
    recall = reverse("treatments:recall")
    return [
        ("minimal page", desk, "get", reverse("password_change_done"), None),
        ("day calendar", desk, "get", f"{reverse('bookings:day')}?date={day}", None),
        ("patient list, no search", desk, "get", patients, None),
        ("patient search: surname", desk, "get", f"{patients}?q=patel", None),
        ("patient search: two-letter surname", desk, "get", f"{patients}?q=ng", None),
        ("patient search: first and last name", desk, "get", f"{patients}?q=priya+patel", None),
        ("patient search: phone", desk, "get", f"{patients}?q={known.phone}", None),
        (
            "patient search: date of birth",
            desk,
            "get",
            f"{patients}?q={known.date_of_birth:%d/%m/%Y}",
            None,
        ),
        ("patient page", desk, "get", reverse("patients:detail", args=[known.pk]), None),
        ("booking 1: free times", desk, "get", f"{book}?procedure={flip.pk}", None),
        ("booking 2: confirm page", desk, "get", "CONFIRM", None),
        ("booking 3: book (POST)", desk, "post", "CONFIRM", {"attestation": "", "notes": ""}),
        (
            "online booking: free times",
            online,
            "get",
            f"{reverse('portal_book')}?procedure={flip.pk}",
            None,
        ),
        ("treatment chart", practitioner, "get", reverse("treatments:chart", args=[charted]), None),
        ("lot recall", manager, "get", f"{recall}?lot={lot.lot_number}", None),
    ]


def request(client, method, url, data):
    """One request, as the page's user; a booking POST runs in a transaction
    rolled back afterwards, so every repeat books the same free slot."""
    from django.db import transaction

    if method == "post":
        with transaction.atomic():
            response = client.post(url, data)
            assert response.status_code == 302, (url, response.status_code)
            transaction.set_rollback(True)
        return response
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


WASTE = 10_000  # rows read and thrown away by one plan node: a scan in disguise


def explain(queries):
    """EXPLAIN ANALYZE each SELECT; return [(sql, plan)] and the problems:
    sequential scans of large tables, and nodes that read and discarded more
    than WASTE rows (an index walked end to end to find a few)."""
    from django.db import connection

    plans, problems = [], []
    with connection.cursor() as cursor:
        for query in queries:
            sql = query["sql"]
            if not sql.lstrip("( ").upper().startswith("SELECT"):  # "(SELECT": a UNION
                continue
            if not any(table in sql for table in LARGE_TABLES):
                continue
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            plans.append((sql, plan))
            for line in plan.splitlines():
                for table in LARGE_TABLES:
                    if re.search(rf"Seq Scan on {table}\b", line):
                        problems.append(f"seq scan on {table}")
                removed = re.search(r"Rows Removed by (?:Filter|Join Filter): (\d+)", line)
                if removed and int(removed.group(1)) > WASTE:
                    problems.append(f"{removed.group(1)} rows read and discarded")
    return plans, problems


def _counted(queries):
    """The queries a request makes: the SAVEPOINT and RELEASE around a
    booking POST's service come from `request()`'s own rollback wrapper
    (the service's transaction is nested in it), not from the page."""
    return [
        q for q in queries if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def measure(repeat, *, with_plans):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from clinic.models import User

    results, plans, clients = [], {}, {}
    confirm = None
    for name, email, method, url, data in pages():
        if url == "CONFIRM":
            url = confirm
        if email not in clients:
            clients[email] = Client()
            clients[email].force_login(User.objects.get(email=email))
        client = clients[email]
        for _ in range(5):
            response = request(client, method, url, data)
        if name.startswith("booking 1"):
            links = CONFIRM_LINK.findall(response.content.decode())
            assert links, "no free time offered"
            confirm = html.unescape(links[0])
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            request(client, method, url, data)
            samples.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as captured:
            request(client, method, url, data)
        twentieths = statistics.quantiles(samples, n=20)
        row = {
            "page": name,
            "queries": len(_counted(captured.captured_queries)),
            "median": statistics.median(samples),
            "p10": twentieths[1],
            "p90": twentieths[17],
            "p95": twentieths[18],
        }
        if with_plans:
            page_plans, problems = explain(captured.captured_queries)
            plans[name] = page_plans
            row["plan_problems"] = sorted(set(problems))
        results.append(row)
        print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}))
    minimal = results[0]["median"]
    for row in results:
        row["ratio"] = row["median"] / minimal
    return results, plans


def counts():
    from bookings.models import Appointment
    from clinic.models import Patient
    from treatments.models import ConsentSignature, InjectionLine, TreatmentRecord

    return {
        "patients": Patient.objects.count(),
        "appointments": Appointment.objects.count(),
        "consents": ConsentSignature.objects.count(),
        "records": TreatmentRecord.objects.count(),
        "injection_lines": InjectionLine.objects.count(),
    }


def main():
    label = sys.argv[1] if len(sys.argv) > 1 else "1x"
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    seeded, seeding = scale_database(f"vermilion_scale_{label}", **SIZES[label])
    url, copy = working_copy(seeded.rsplit("/", 1)[1])
    psql("CHECKPOINT")  # start quiet: no writes of earlier work left to flush
    os.environ.update(django_env(url))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    # The production entry point, for what it sets up for serving (it moves
    # start-up objects out of the garbage collector's sight, clinic/wsgi.py).
    import clinic.wsgi  # noqa: F401

    results, plans = measure(repeat, with_plans=label != "1x")
    from django.db import connection

    out = {
        "size": label,
        "machine": machine(),
        "database": connection.vendor,
        "server": connection.cursor().connection.server_version,
        "seed_seconds": seeding,
        "counts": counts(),
        "repeat": repeat,
        "pages": results,
        "plans": plans,
    }
    connection.close()
    drop_database(copy)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"pages-{label}.json").write_text(json.dumps(out, indent=1, default=str))
    return out


if __name__ == "__main__":
    main()
