"""A clinic group with years of history, for benchmarks: made fast, the same
every time for the same --seed. It lives beside the benchmarks it serves:

    python -m bench.seed_scale --practitioners 20 --patients 200000 --appointments 1000000

Rows go in with COPY on PostgreSQL and bulk_create on SQLite, bypassing the
services (and their per-row checks) on purpose: the shapes are built to be
valid (no two appointments of a practitioner or of a patient overlap, every
signed record has a consent and lines from real lots).
"""

import bisect
import csv
import io
import json
import os
import random
import sys
from datetime import date, datetime, time, timedelta

import django

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    django.setup()

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from bookings.models import Appointment, WorkingHours
from clinic.models import MedicalHistory, Patient, Practitioner, User, search_key
from clinic.roles import Role
from treatments.models import (
    ConsentForm,
    ConsentSignature,
    InjectionLine,
    Lot,
    Procedure,
    Product,
    TreatmentRecord,
)

FIRST = [
    "Amelia",
    "Olivia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Sophia",
    "Grace",
    "Freya",
    "Ella",
    "Florence",
    "Willow",
    "Rosie",
    "Evie",
    "Emily",
    "Poppy",
    "Alice",
    "Chloe",
    "Zara",
    "Priya",
    "Aisha",
    "Maya",
    "Leah",
    "Nadia",
    "Sara",
    "Hannah",
    "Ruby",
    "Erin",
    "Jade",
    "Daniel",
    "James",
    "Omar",
    "Leo",
    "Noah",
    "Ethan",
    "Arjun",
    "Luca",
    "Sam",
    "Adam",
]
LAST = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Khan",
    "Ahmed",
    "Hughes",
    "Edwards",
    "Lewis",
    "Hill",
    "Moore",
    "Clark",
    "Harrison",
    "Scott",
    "Young",
    "Morris",
    "Ali",
    "Baker",
    "Okafor",
    "Nguyen",
    "Kowalski",
    "Murphy",
    "O'Brien",
    "Rossi",
    "Silva",
    "Dubois",
    "Fischer",
    "Novak",
    "Ivanova",
    "Haddad",
    "Mensah",
    "Osei",
    "Tanaka",
    "Ng",
    "Li",
]
LOT_DAYS = 30  # a new lot of each product every month


def _copy_value(value):
    if value is None:
        return "\\N"
    if isinstance(value, list | dict):
        return json.dumps(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    return value


def signature_png(rng):
    """A drawn signature about the size the signing page uploads (a few KB),
    so pages that load consent records move realistic amounts of data."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 200), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    x, y = 40, 120
    for _ in range(60):
        nx, ny = x + rng.randrange(4, 12), max(30, min(170, y + rng.randrange(-40, 41)))
        draw.line([(x, y), (nx, ny)], fill=(20, 20, 60, 255), width=3)
        x, y = nx, ny
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Fill an empty database with a large clinic group (for benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--practitioners", type=int, default=20)
        parser.add_argument("--patients", type=int, default=200_000)
        parser.add_argument("--appointments", type=int, default=1_000_000)
        parser.add_argument(
            "--records",
            type=float,
            default=0.15,
            help="Share of completed appointments that get a consent and a signed record.",
        )
        parser.add_argument("--future-days", type=int, default=60)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, **options):
        if Patient.objects.exists():
            raise CommandError("seed_scale fills an empty database: this one has patients.")
        rng = random.Random(options["seed"])
        today = timezone.localdate()
        with transaction.atomic():
            staff = self.practitioners(options["practitioners"])
            patients = self.patients(rng, options["patients"])
            self.histories(patients, today)
            appointments = self.appointments(
                rng, staff, patients, options["appointments"], today, options["future_days"]
            )
            first_day = date.fromisoformat(appointments[0][4][:10]) if appointments else today
            lots = self.lots(first_day, today)
            self.records(rng, appointments, lots, options["records"])
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(
            f"Seeded {len(staff)} practitioners, {len(patients)} patients, "
            f"{len(appointments)} appointments."
        )

    # Writing rows fast

    def copy(self, model, fields, rows):
        """Insert rows: COPY on PostgreSQL, bulk_create elsewhere. Columns not
        named get the field's default, as Django would give them."""
        defaults = [
            (field.attname, field.get_default())
            for field in model._meta.concrete_fields
            if not field.primary_key and field.attname not in fields
        ]
        names = [*fields, *(name for name, _ in defaults)]
        tail = [value for _, value in defaults]
        if connection.vendor != "postgresql":
            model.objects.bulk_create(
                [model(**dict(zip(names, [*row, *tail], strict=True))) for row in rows],
                batch_size=2000,
            )
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:
            writer.writerow([_copy_value(value) for value in [*row, *tail]])
        if not buffer.tell():
            return
        buffer.seek(0)
        columns = ", ".join(f'"{model._meta.get_field(name).column}"' for name in names)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f"COPY {model._meta.db_table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                buffer,
            )

    def ids(self, model, count):
        return list(model.objects.order_by("-pk").values_list("pk", flat=True)[:count])[::-1]

    # The clinic

    def practitioners(self, count):
        group = Group.objects.get(name=str(Role.PRACTITIONER))
        # Hashed with the settings' first hasher (Argon2id since issue 20), so
        # the load run's logins cost what a clinic's do.
        password = make_password("vermilion-demo")
        staff = []
        for n in range(count):
            user = User.objects.create(
                email=f"practitioner{n}@scale.test",
                full_name=f"Practitioner {n:03d}",
                password=password,
            )
            user.groups.add(group)
            staff.append(
                Practitioner.objects.create(user=user, display_name=f"Practitioner {n:03d}")
            )
        hours = [WorkingHours(weekday=d, starts=time(9), ends=time(19)) for d in range(6)]
        hours += [
            WorkingHours(practitioner=p, weekday=d, starts=time(9), ends=time(19))
            for p in staff
            for d in range(6)
        ]
        WorkingHours.objects.bulk_create(hours)
        desk = User.objects.create(
            email="frontdesk@scale.test", full_name="Front Desk", password=password
        )
        desk.groups.add(Group.objects.get(name=str(Role.FRONT_DESK)))
        manager = User.objects.create(
            email="manager@scale.test", full_name="Manager", password=password, is_staff=True
        )
        manager.groups.add(Group.objects.get(name=str(Role.MANAGER)))
        return staff

    def patients(self, rng, count):
        now = timezone.now().isoformat()
        fields = [
            "first_name",
            "last_name",
            "date_of_birth",
            "phone",
            "email",
            "search_text",
            "created_at",
            "updated_at",
        ]

        def rows():
            for n in range(count):
                first, last = rng.choice(FIRST), rng.choice(LAST)
                born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
                # E.164, as Patient.save keeps it; searchable in both forms
                # (clinic.phones.search_digits, written out for speed).
                mobile = f"{rng.randrange(10**9):09d}"
                phone = f"+447{mobile}"
                email = f"{search_key(first)}.{n}@example.test"
                digits = f"447{mobile} 07{mobile}"
                text = " ".join([search_key(first), search_key(last), digits, email])
                yield [first, last, born, phone, email, text, now, now]

        self.copy(Patient, fields, rows())
        return self.ids(Patient, count)

    def histories(self, patients, today):
        booker = User.objects.get(email="frontdesk@scale.test")
        submitted = timezone.make_aware(datetime.combine(today - timedelta(days=30), time(12)))
        flags = [
            f.name for f in MedicalHistory._meta.fields if f.get_internal_type() == "BooleanField"
        ]
        fields = [
            "patient_id",
            "submitted_at",
            "submitted_by_id",
            "source",
            "prescribed_anticoagulants",
            "otc_blood_thinners",
            *flags,
        ]
        rows = (
            [pk, submitted, booker.pk, "staff", [], [], *([False] * len(flags))]
            for index, pk in enumerate(patients)
            if index % 10 < 7  # three in ten have no history on file
        )
        self.copy(MedicalHistory, fields, rows)

    def lots(self, first_day, today):
        """A new lot of each product every LOT_DAYS, as deliveries would come:
        {product: [(first day of use, lot), ...]} in date order."""
        manager = User.objects.get(email="manager@scale.test")
        lots, day, n = [], first_day - timedelta(days=LOT_DAYS), 0
        while day <= today:
            for product in Product.objects.all():
                lots.append(
                    Lot(
                        product=product,
                        lot_number=f"S{product.pk}-{n:04d}",
                        expiry_date=day + timedelta(days=365 * 2),
                        quantity_received=999999,
                        quantity_remaining=999999,
                        received_on=day,
                        received_by=manager,
                    )
                )
            day += timedelta(days=LOT_DAYS)
            n += 1
        Lot.objects.bulk_create(lots, batch_size=2000)
        by_product = {}
        for lot in Lot.objects.select_related("product").order_by("received_on", "pk"):
            by_product.setdefault(lot.product, []).append((lot.received_on, lot.pk, lot))
        return {
            product: [(received, lot) for received, _, lot in entries]
            for product, entries in by_product.items()
        }

    def appointments(self, rng, staff, patients, count, today, future_days):
        """`count` appointments, back to back with small gaps in each
        practitioner's 09:00-19:00 day (Monday to Saturday): up to a fifth of
        them booked over the next `future_days`, fewer the further ahead, and
        the rest as history going back as far as they need. A patient has at
        most one a day, so no two can overlap; neither can a practitioner's."""
        flip, filler = (
            Procedure.objects.get(code="lip-flip"),
            Procedure.objects.get(code="lip-filler"),
        )
        booker = User.objects.get(email="frontdesk@scale.test")
        fields = [
            "patient_id",
            "practitioner_id",
            "procedure_id",
            "starts_at",
            "ends_at",
            "blocked_until",
            "status",
            "booked_at",
            "booked_by_id",
            "precare_stop_date",
            "precare_flag",
            "screening_outcome",
            "screening_codes",
            "history_state",
            "on_anticoagulants",
            "notes",
            "cancel_reason",
            "updated_at",
            "attestation",
        ]
        gaps = [0, 0, 5, 10, 15, 30]

        def one_day(day, fill):
            """A day's appointments, each practitioner's day `fill` full."""
            rows, used = [], set()
            opening, closing = (
                timezone.make_aware(datetime.combine(day, t)) for t in (time(9), time(19))
            )
            last_start = opening + (closing - opening) * fill
            for practitioner in staff:
                starts = opening + timedelta(minutes=rng.choice(gaps))
                while starts < last_start:
                    procedure = flip if rng.random() < 0.6 else filler
                    timing = procedure.timing
                    blocked = starts + timedelta(minutes=timing.occupied_minutes)
                    if blocked > closing:
                        break
                    patient = rng.choice(patients)
                    while patient in used:
                        patient = rng.choice(patients)
                    used.add(patient)
                    if day < today:
                        status = rng.choices(["completed", "cancelled", "no_show"], [85, 8, 7])[0]
                    else:
                        status = rng.choices(["booked", "cancelled"], [95, 5])[0]
                    rows.append(
                        [
                            patient,
                            practitioner.pk,
                            procedure.pk,
                            starts.isoformat(),
                            (starts + timedelta(minutes=timing.chair_minutes)).isoformat(),
                            blocked.isoformat(),
                            status,
                            (starts - timedelta(days=10)).isoformat(),
                            booker.pk,
                            day - timedelta(days=4),
                            "",
                            "clear",
                            "[]",
                            "current",
                            False,
                            "",
                            "",
                            starts.isoformat(),
                            "",
                        ]
                    )
                    starts = blocked + timedelta(minutes=rng.choice(gaps))
            return rows

        # The diary ahead: full this week, thinning out over `future_days`,
        # and no more than a fifth of the whole.
        ahead, day = [], today
        while len(ahead) < count // 5 and day < today + timedelta(days=future_days):
            if day.weekday() != 6:  # the clinic is closed on Sundays
                fill = max(0.1, 1 - (day - today).days / future_days)
                ahead.extend(one_day(day, fill))
            day += timedelta(days=1)
        del ahead[count // 5 :]
        # History, going back from yesterday until there are `count` in all.
        past, day = [], today - timedelta(days=1)
        while len(ahead) + sum(map(len, past)) < count:
            if day.weekday() != 6:
                past.append(one_day(day, 1))
            day -= timedelta(days=1)
        rows = [row for history in reversed(past) for row in history] + ahead
        rows = rows[-count:]  # in date order, as they would have been booked
        meta = [(row[0], row[1], row[2], row[3], row[6]) for row in rows]
        self.copy(Appointment, fields, rows)
        return [(pk, *row) for pk, row in zip(self.ids(Appointment, count), meta, strict=True)]

    def records(self, rng, appointments, lots, share):
        """A consent and a signed record with three injection lines for a share
        of the completed appointments."""
        forms = {form.procedure_id: form for form in ConsentForm.objects.current()}
        procedures = {p.pk: p for p in Procedure.objects.with_parts()}
        histories = dict(MedicalHistory.objects.values_list("patient_id", "pk"))
        botox = Product.objects.get(name="Botox Cosmetic")
        dysport = Product.objects.get(name="Dysport")
        fillers = list(Product.objects.filter(agent="filler"))
        chosen = [
            a
            for a in appointments
            if a[5] == "completed" and a[1] in histories and rng.random() < share
        ]
        # Most of the coming week's patients have signed online already.
        week_ahead = (timezone.localdate() + timedelta(days=7)).isoformat()
        signed_ahead = [
            a for a in appointments if a[5] == "booked" and a[4] < week_ahead and rng.random() < 0.7
        ]
        practitioner_users = dict(Practitioner.objects.values_list("pk", "user_id"))
        png = signature_png(rng)
        texts = {pk: form.full_text() for pk, form in forms.items()}
        yesterday = (timezone.now() - timedelta(days=1)).isoformat()
        consent_rows, record_rows = [], []
        for pk, patient, _, procedure_pk, starts, status in chosen + signed_ahead:
            form = forms[procedure_pk]
            consent_rows.append(
                [
                    "signed",
                    patient,
                    pk,
                    form.pk,
                    texts[procedure_pk],
                    "0" * 64,
                    form.statement,
                    "Scale Patient",
                    True,
                    png,
                    "",
                    starts if status == "completed" else yesterday,
                    "",
                    "portal",
                    "0" * 64,
                ]
            )
        for pk, patient, practitioner, procedure_pk, starts, _ in chosen:
            record_rows.append(
                [
                    pk,
                    patient,
                    practitioner,
                    procedure_pk,
                    "draft",
                    starts,
                    histories[patient],
                    True,
                    "",
                    "none",
                    True,
                    "",
                    "",
                    "",
                    "",
                    starts,
                    practitioner_users[practitioner],
                    "0" * 64,
                ]
            )
        self.copy(
            ConsentSignature,
            [
                "kind",
                "patient_id",
                "appointment_id",
                "form_id",
                "text_shown",
                "text_sha256",
                "statement",
                "typed_name",
                "agreed_to_sign_electronically",
                "signature_png",
                "reason",
                "signed_at",
                "user_agent",
                "via",
                "record_sha256",
            ],
            consent_rows,
        )
        self.copy(
            TreatmentRecord,
            [
                "appointment_id",
                "patient_id",
                "practitioner_id",
                "procedure_id",
                "status",
                "started_at",
                "medical_history_id",
                "precare_kept",
                "supervising_prescriber",
                "anaesthetic",
                "no_adverse_events",
                "adverse_events",
                "notes",
                "over_maximum_reason",
                "postcare_given",
                "signed_at",
                "signed_by_id",
                "content_sha256",
            ],
            record_rows,
        )
        record_ids = self.ids(TreatmentRecord, len(record_rows))
        line_rows = []
        for record_id, (_, _, _, procedure_pk, starts, _) in zip(record_ids, chosen, strict=True):
            procedure = procedures[procedure_pk]
            if procedure.agent == "toxin":
                product = botox if rng.random() < 0.7 else dysport
                sites, amount, depth, needle, dilution = (
                    ["TX-L1", "TX-C", "TX-R1"],
                    "2",
                    "intramuscular",
                    "33G needle",
                    product.default_dilution,
                )
            else:
                product = rng.choice(fillers)
                sites, amount, depth, needle, dilution = (
                    ["FB-UL", "FB-UR", "FB-LL"],
                    "0.3",
                    "submucosal",
                    "30G needle",
                    "",
                )
            # The lot in use on that day: the newest received before it.
            received = lots[product]
            index = bisect.bisect_right(
                received, date.fromisoformat(starts[:10]), key=lambda entry: entry[0]
            )
            lot = received[index - 1][1]
            for site in sites:
                line_rows.append(
                    [
                        record_id,
                        lot.pk,
                        product.pk,
                        site,
                        amount,
                        dilution,
                        depth,
                        "",
                        needle,
                        starts,
                    ]
                )
        self.copy(
            InjectionLine,
            [
                "record_id",
                "lot_id",
                "product_id",
                "site",
                "amount",
                "dilution",
                "depth",
                "technique",
                "needle",
                "created_at",
            ],
            line_rows,
        )
        # Lines go in while the records are drafts (a signed record refuses new
        # lines, on PostgreSQL by trigger); then they are signed in one go.
        TreatmentRecord.objects.filter(pk__in=record_ids).update(status="signed")


if __name__ == "__main__":
    Command().run_from_argv(["bench.seed_scale", "seed_scale", *sys.argv[1:]])
