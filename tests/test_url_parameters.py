"""Query parameters never crash a page: a bad one is ignored, or answers 400.

The cases below each answered 500 once (issue 14). The fuzz test further down
throws generated values at every GET parameter of every URL in the access
matrix, as each persona."""

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_access_matrix import MATRIX, OK, PERSONAS, world  # noqa: F401 (world: a fixture)

pytestmark = pytest.mark.django_db

LONG_LOT = "L" * 50


def crashing_requests(w):
    """(persona, url) pairs that once answered 500."""
    patient, appointment = w["a"].pk, w["future"].pk
    book = reverse("bookings:book_patient", args=[patient])
    confirm = reverse("bookings:book_confirm", args=[patient])
    flip, practitioner = w["flip"].pk, w["practitioner"].pk
    return [
        ("front_desk", reverse("bookings:day") + "?date=2026-02-30"),
        ("front_desk", reverse("bookings:day") + "?date=9999-12-31"),
        ("front_desk", reverse("bookings:week") + "?date=2026-02-30"),
        ("front_desk", reverse("bookings:week") + "?date=9999-12-31"),
        ("front_desk", book + f"?procedure={flip}&on_or_after=9999-12-31"),
        (
            "front_desk",
            confirm + f"?procedure={flip}&practitioner={practitioner}&start=9999-12-31T23:59:59",
        ),
        ("front_desk", reverse("patients:list") + "?page=99999999999999999999"),
        ("front_desk", reverse("outbox") + "?page=99999999999999999999"),
        ("manager", reverse("audit_log") + "?page=99999999999999999999"),
        ("front_desk", reverse("patients:list") + "?q=%00"),
        ("front_desk", reverse("bookings:book") + "?q=%00"),
        ("manager", reverse("treatments:recall") + "?lot=%00"),
        ("manager", reverse("treatments:recall") + f"?lot={LONG_LOT}"),
        ("patient_a", reverse("portal_move", args=[appointment]) + "?from=2026-02-30"),
        ("patient_a", reverse("portal_move", args=[appointment]) + "?from=9999-12-31"),
        ("front_desk", reverse("bookings:move", args=[appointment]) + "?on_or_after=9999-12-31"),
    ]


def test_parameters_that_once_crashed_now_answer(client, world):  # noqa: F811
    crashed = []
    for persona, url in crashing_requests(world):
        client.force_login(world["users"][persona])
        status = client.get(url).status_code
        if not 200 <= status < 500:
            crashed.append((url, status))
    assert crashed == []


def test_an_unreadable_date_answers_400_and_says_which(client, world):  # noqa: F811
    client.force_login(world["users"]["front_desk"])
    response = client.get(reverse("bookings:day") + "?date=2026-02-30")
    assert response.status_code == 400
    assert "date: Enter a valid date." in response.content.decode()
    far = client.get(reverse("bookings:week") + "?date=9999-12-31")
    assert far.status_code == 400 and "between 2000 and 2099" in far.content.decode()


def test_a_search_with_a_nul_byte_is_refused(client, world):  # noqa: F811
    client.force_login(world["users"]["front_desk"])
    assert client.get(reverse("patients:list") + "?q=a%00b").status_code == 400


def test_a_lot_recall_is_audited_whatever_the_lot_number_length(client, world):  # noqa: F811
    from clinic.models import AuditEvent

    client.force_login(world["users"]["manager"])
    lot = "L" * 40
    assert client.get(reverse("treatments:recall") + f"?lot={lot}").status_code == 200
    event = AuditEvent.objects.get(what="lot recall")
    assert event.object_id == lot
    assert client.get(reverse("treatments:recall") + f"?lot={LONG_LOT}").status_code == 400


# Every query parameter each page reads. `test_the_table_names_every_parameter_read`
# fails when a page starts reading one that is not here, so the fuzz test
# below cannot silently miss it.
PARAMETERS = {
    "audit_log": ["tab", "person", "patient", "kind", "from", "to", "page"],
    "manager_appointments": ["from", "to", "status", "flag", "refused", "gap", "page"],
    "patients:list": ["q", "page"],
    "patients:create": ["next"],
    "portal_move": ["from"],
    "portal_move_confirm": ["procedure", "practitioner", "start"],
    "portal_book": ["procedure", "practitioner", "on_or_after"],
    "portal_book_confirm": ["procedure", "practitioner", "start"],
    "portal_waitlist": ["procedure"],
    "online_book": ["procedure", "practitioner", "on_or_after"],
    "online_details": ["procedure", "practitioner", "start"],
    "treatments:stock": ["show"],
    "treatments:recall": ["lot"],
    "treatments:reports": ["show", "page"],
    "treatments:complication_summary": ["format"],
    "treatments:complications": ["from", "to"],
    "treatments:photo_compare": ["view"],
    "treatments:photo_library": ["use"],
    "bookings:day": ["date"],
    "bookings:week": ["date", "practitioner"],
    "bookings:book": ["q", "practitioner", "date", "time"],
    "outbox": ["show", "page"],
    "bookings:book_patient": ["procedure", "practitioner", "on_or_after", "date", "time"],
    "bookings:book_chosen_time": ["procedure", "practitioner", "on_or_after", "date", "time"],
    "bookings:book_confirm": ["procedure", "practitioner", "start"],
    "bookings:move": ["procedure", "practitioner", "on_or_after", "date", "time"],
    "bookings:move_chosen_time": ["practitioner", "date", "time"],
    "bookings:move_confirm": ["procedure", "practitioner", "start"],
    "accounts:two_factor": ["next"],
    "accounts:verify": ["next"],
    "accounts:setup": ["next"],
    "accounts:codes": ["next"],
}
GET_URLS = sorted(name for name, (method, _, _) in MATRIX.items() if method == "get")
# A page that reads no parameter must also ignore one it does not expect.
STRAY = "page"

NASTY = [
    "",
    "\x00",
    "a\x00b",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59",
    "2026-03-29T01:30:00",  # a London time that does not exist
    "0",
    "-1",
    "99999999999999999999",
    "1e309",
    "NaN",
    "x" * 5000,
    "https://evil.example/",
    "//evil.example",
    "%",
    "' OR 1=1 --",
]
# Dates and times shaped right but often wrong: 30 February, month 13, hour
# 24, the first and last years a date can have.
years = st.one_of(st.sampled_from([1, 1999, 2026, 2099, 2100, 9999]), st.integers(0, 9999))
dates_shaped = st.builds(
    "{:04d}-{:02d}-{:02d}".format, years, st.integers(0, 13), st.integers(0, 32)
)
times_shaped = st.builds("{:02d}:{:02d}".format, st.integers(0, 25), st.integers(0, 61))
values = st.one_of(
    st.sampled_from(NASTY),
    dates_shaped,
    st.builds("{}T{}:00".format, dates_shaped, times_shaped),
    times_shaped,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=60),
)


@pytest.fixture
def clients(world):  # noqa: F811
    signed_in = {}
    for persona in PERSONAS:
        client = Client()
        if persona != "anonymous":
            client.force_login(world["users"][persona])
        signed_in[persona] = client
    return signed_in


@pytest.fixture
def refused_once():
    """(page, persona) pairs where the page turns the persona away before it
    reads a parameter (the access matrix shows which): asked once, not once
    per example."""
    return set()


def test_every_parameter_survives_the_known_bad_values(world, clients):  # noqa: F811
    """Each known-bad value on every parameter of every page, as one persona
    the page lets in (the generated test below asks every persona)."""
    crashed = []
    for name, params in PARAMETERS.items():
        url = reverse(name, kwargs=MATRIX[name][1](world))
        persona = next(p for p in PERSONAS if MATRIX[name][2][p] == OK)
        for param in params:
            for value in NASTY:
                with transaction.atomic():
                    status = clients[persona].get(url, {param: value}).status_code
                    transaction.set_rollback(True)
                if status >= 500:
                    crashed.append((persona, url, param, value))
    assert crashed == []


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_url_parameter_crashes_a_page(world, clients, refused_once, data):  # noqa: F811
    """Generated values for every parameter of every page, as every persona
    (a page with none gets a stray one): a page may refuse (4xx) or redirect,
    never answer 5xx. One example covers every page, so the world is built
    once."""
    valid = [str(world["flip"].pk), str(world["practitioner"].pk)]
    for name in GET_URLS:
        params = {
            param: data.draw(st.one_of(values, st.sampled_from(valid)), label=f"{name} {param}")
            for param in PARAMETERS.get(name, [STRAY])
        }
        url = reverse(name, kwargs=MATRIX[name][1](world))
        for persona, client in clients.items():
            if MATRIX[name][2][persona] != OK:
                if (name, persona) in refused_once:
                    continue
                refused_once.add((name, persona))
            with transaction.atomic():
                response = client.get(url, params)
                transaction.set_rollback(True)
            assert response.status_code < 500, (persona, url, params)


def test_the_table_names_every_parameter_read(world, clients, monkeypatch):  # noqa: F811
    read = set()
    original_get, original_getitem = MultiValueDict.get, MultiValueDict.__getitem__

    # A template's {{ request.GET.items }} tries GET["items"] first: not a parameter.
    def get(self, key, default=None):
        if not hasattr(MultiValueDict, key):
            read.add(key)
        return original_get(self, key, default)

    def getitem(self, key):
        if not hasattr(MultiValueDict, key):
            read.add(key)
        return original_getitem(self, key)

    monkeypatch.setattr(MultiValueDict, "get", get)
    monkeypatch.setattr(MultiValueDict, "__getitem__", getitem)
    missing = {}
    for name in GET_URLS:
        url = reverse(name, kwargs=MATRIX[name][1](world))
        for client in clients.values():
            read.clear()
            with transaction.atomic():
                client.get(url, {"unlisted": "1"})  # a query string binds the forms
                transaction.set_rollback(True)
            extra = read - set(PARAMETERS.get(name, [])) - {"unlisted"}
            if extra:
                missing.setdefault(name, set()).update(extra)
    assert missing == {}
