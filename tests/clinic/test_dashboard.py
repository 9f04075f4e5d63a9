"""The manager's dashboard: each figure is the length of the list it links to,
in a fixed number of queries however much data there is."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from bookings import services as booking_services
from bookings.models import Appointment
from clinic.models import Notification
from clinic.pages.dashboard import dashboard
from tests.factories import LotFactory, PatientFactory
from tests.helpers import NOW, SAME_DAY_CLEAR, at, book, history, sign_consents
from treatments.models import Product, SameDayCheck

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 26)  # Thursday: the week is Monday 23 to Sunday 29 November
TOMORROW = TODAY + timedelta(days=1)


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


def _patient(name, *, with_history=True):
    first, last = name.split()
    patient = PatientFactory(first_name=first, last_name=last)
    if with_history:
        history(patient)
    return patient


def _set(appointment, **fields):
    Appointment.objects.filter(pk=appointment.pk).update(**fields)


@pytest.fixture
def clinic(injector, flip, filler, front_desk):
    """Today: two bookings (one on a statement inside the window), a
    cancellation and a no-show; tomorrow: one signed and current, one without
    consent, one without a history; Saturday: one more; a treatment stopped at
    the same-day check; stock and emails with problems."""
    today_a = book(_patient("Ann Able"), injector, flip, at(TODAY, "15:00"), attestation="none")
    today_b = book(_patient("Ben Bold"), injector, filler, at(TODAY, "16:00"), attestation="none")
    cancelled = book(_patient("Cat Cole"), injector, flip, at(TODAY, "11:00"), attestation="none")
    booking_services.appointment_cancel(appointment=cancelled, by=front_desk, reason="Ill")
    no_show = book(_patient("Dan Dee"), injector, flip, at(TODAY, "12:00"), attestation="none")
    _set(no_show, status=Appointment.Status.NO_SHOW)
    signed = book(_patient("Eve Even"), injector, flip, at(TOMORROW, "09:00"), attestation="none")
    sign_consents(signed)
    book(_patient("Fay Fox"), injector, flip, at(TOMORROW, "10:00"), attestation="none")
    unsigned_no_history = book(
        _patient("Gus Gray", with_history=False),
        injector,
        flip,
        at(TOMORROW, "11:00"),
        attestation="none",
    )
    sign_consents(unsigned_no_history)
    book(_patient("Hal Hay"), injector, filler, at(date(2026, 11, 28), "09:00"), attestation="-")
    SameDayCheck.objects.create(
        appointment=today_a,
        asked_by=injector.user,
        asked_on=TODAY,
        window_from=TODAY - timedelta(days=3),
        outcome="refuse",
        codes=["same_day_window", "same_day_flags"],
        **{**SAME_DAY_CLEAR, "window_kept": False},
    )
    botox = Product.objects.get(name="Botox Cosmetic")
    botox.low_stock_threshold = Decimal("50")
    botox.save()
    LotFactory(product=botox, quantity_received=40, quantity_remaining=40)
    dysport = Product.objects.get(name="Dysport")
    LotFactory(product=dysport, expiry_date=TODAY + timedelta(days=10))
    LotFactory(product=dysport, expiry_date=TODAY - timedelta(days=1))
    Notification.objects.filter(pk=Notification.objects.first().pk).update(status="failed")
    return {"today_b": today_b}


def _figures(html):
    """{key: (count, url)} of every figure on the dashboard."""
    figures = {}
    for url, key, body in re.findall(
        r'href="([^"]+)" data-figure="([^"]+)">(.*?)</a>', html, flags=re.S
    ):
        count = re.search(r"(?:data-count>|dash-number\">)(\d+)<", body).group(1)
        figures[key] = (int(count), url.replace("&amp;", "&"))
    return figures


def _listed(client, url):
    """How many rows the list behind a figure shows."""
    response = client.get(url)
    assert response.status_code == 200, url
    context = response.context
    if context.get("low") is not None:
        return len(context["low"])
    if "lots" in context:
        return len(context["lots"])
    assert not context["page"].has_next, url
    return len(context["page"].object_list)


EXPECTED = {
    "today": 2,
    "week": 6,  # 2 today, 3 tomorrow, 1 on Saturday
    "no_show": 1,
    "cancelled": 1,
    "refused_same_day_window": 1,
    "flag_attested": 8,  # every booking here is inside the window, on a statement
    "flag_history": 1,
    "gap_consent": 1,
    "gap_history": 1,
    "stock_low": 1,
    "stock_expiring": 1,
    "stock_expired": 1,
    "emails_failed": 1,
}


def test_each_figure_is_the_length_of_the_list_behind_it(client, clinic, manager):
    client.force_login(manager)
    figures = _figures(client.get(reverse("manager_home")).content.decode())
    for key, expected in EXPECTED.items():
        assert figures[key][0] == expected, key
    for key, (count, url) in figures.items():
        assert _listed(client, url) == count, key
    assert "same_day_flags" not in str(figures)  # a flag is not a rule that stopped anything


def test_utilisation_is_booked_chair_time_over_working_time(clinic):
    figures = dashboard(now=NOW)
    (_, today), (_, week) = figures["bookings"]
    chair = {
        a.pk: (a.ends_at - a.starts_at).total_seconds() // 60 for a in Appointment.objects.active()
    }
    today_ids = (
        Appointment.objects.active().starting_between(TODAY, TODAY).values_list("pk", flat=True)
    )
    assert today.booked_minutes == sum(chair[pk] for pk in today_ids)
    assert today.working_minutes == 7 * 60  # 09:00-13:00 and 14:00-17:00
    assert week.working_minutes == 7 * 7 * 60
    assert week.booked_minutes == sum(chair.values())
    assert today.percent == round(100 * today.booked_minutes / (7 * 60))


def test_the_dashboard_says_what_refusals_it_counts(client, clinic, manager):
    client.force_login(manager)
    page = client.get(reverse("manager_home")).content.decode()
    assert "A booking the rules refuse is never saved" in page
    assert "Pre-care window not kept" in page


def test_the_dashboard_is_a_fixed_number_of_queries(
    client, clinic, manager, injector, flip, django_assert_max_num_queries
):
    client.force_login(manager)
    client.get(reverse("manager_home"))
    with django_assert_max_num_queries(30) as small:
        client.get(reverse("manager_home"))
    for hour in range(14, 17):
        for day in (TOMORROW, date(2026, 11, 28), date(2026, 11, 29)):
            patient = _patient(f"More Patient{hour}{day.day}")
            book(patient, injector, flip, at(day, f"{hour}:00"), attestation="none")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("manager_home"))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-02-30",
        "from=2026-11-26&to=2026-11-01",
        "from=2026-01-01&to=2027-12-31",
        "gap=consent&from=2026-11-01&to=2026-11-30",
        "status=lost",
        "refused=made_up",
    ],
)
def test_a_list_address_it_cannot_use_answers_400(client, manager, query):
    client.force_login(manager)
    response = client.get(reverse("manager_appointments") + "?" + query)
    assert response.status_code == 400


def test_the_list_says_what_it_shows(client, clinic, manager):
    client.force_login(manager)
    response = client.get(
        reverse("manager_appointments") + "?status=cancelled&from=2026-11-01&to=2026-11-30"
    )
    assert "Sun 1 Nov 2026 – Mon 30 Nov 2026 · cancelled" in response.content.decode()
    assert [a.patient.full_name for a in response.context["page"].object_list] == ["Cat Cole"]
