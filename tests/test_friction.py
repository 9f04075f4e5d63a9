"""Issue 15's findings on the patient's side, each a test."""

from datetime import date

import pytest
from django.urls import reverse

from clinic.models import Notification
from tests.factories import PASSWORD, LotFactory
from tests.helpers import at, book
from tests.treatments.test_records import D5, DAY, add, complete, ready
from treatments import services

pytestmark = pytest.mark.django_db


def confirmation(appointment):
    return Notification.objects.get(appointment=appointment, kind="confirmation")


def test_emails_mention_the_portal_only_to_patients_who_have_one(
    healthy, injector, flip, patient_user
):
    without = book(healthy, injector, flip, at(D5, "10:00"))
    assert "portal" not in confirmation(without).body_text
    assert "call us on" in confirmation(without).body_text
    healthy.user = patient_user
    healthy.save()
    later = book(healthy, injector, flip, at(date(2027, 3, 10), "10:00"))
    assert "log in to your portal" in confirmation(later).body_text


def test_booking_again_withdraws_the_recall(monkeypatch, healthy, injector, flip, filler):
    monkeypatch.setattr("django.utils.timezone.now", lambda: DAY)
    record = services.treatment_start(
        appointment=ready(healthy, injector, flip), by=injector.user, now=DAY
    )
    add(record, LotFactory(lot_number="RC1"))
    complete(record)
    services.treatment_sign(record=record, by=injector.user, password=PASSWORD, now=DAY)
    recall = Notification.objects.get(kind="recall")
    book(healthy, injector, filler, at(date(2027, 1, 5), "10:00"), now=DAY)
    recall.refresh_from_db()
    assert recall.status == "pending"  # filler does not answer a lip flip's recall
    book(healthy, injector, flip, at(date(2027, 3, 2), "10:00"), now=DAY)
    recall.refresh_from_db()
    assert recall.status == "cancelled"


@pytest.fixture
def portal(client, healthy, patient_user):
    healthy.user = patient_user
    healthy.save()
    client.force_login(patient_user)
    return client


def test_past_appointments_are_headed_so(portal, healthy, injector, flip, front_desk):
    from bookings.services import appointment_cancel

    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    appointment_cancel(appointment=appointment, by=front_desk, reason="Flu")
    page = portal.get(reverse("portal_home")).content.decode()
    assert "Past appointments" in page and ">Before<" not in page


def test_saving_the_history_goes_back_to_the_portal(portal):
    from clinic.medical import YES_NO_FIELDS

    data = dict.fromkeys(YES_NO_FIELDS, "no")
    response = portal.post(reverse("portal_history"), data)
    assert response.status_code == 302 and response["Location"] == reverse("portal_home")


def test_signing_the_last_form_thanks_the_patient_once(portal, healthy, injector, flip):
    from tests.helpers import drawn_signature

    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    url = reverse("treatments:portal_consent", args=[appointment.pk])
    form = portal.get(url).context["part"].form
    response = portal.post(
        url,
        {
            "form_version": form.pk,
            "agreed": "on",
            "typed_name": healthy.full_name,
            "signature": drawn_signature(),
        },
        follow=True,
    )
    page = response.content.decode()
    assert page.count("Thank you") == 1, page


def test_a_refused_consent_submit_opens_at_the_form(portal, healthy, injector, flip):
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    page = portal.get(reverse("treatments:portal_consent", args=[appointment.pk]))
    assert 'action="#consent-form"' in page.content.decode()


def test_one_click_check_in_from_the_arrivals_list(client, front_desk, healthy, injector, flip):
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    client.force_login(front_desk)
    from django.utils import timezone

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: at(D5, "09:40"))
        page = client.get(reverse("desk_home")).content.decode()
        assert f'action="{reverse("bookings:check_in", args=[appointment.pk])}"' in page
        response = client.post(
            reverse("bookings:check_in", args=[appointment.pk]), {"from": "arrivals"}
        )
        assert response["Location"] == reverse("desk_home")
        assert timezone.now() == at(D5, "09:40")
    appointment.refresh_from_db()
    assert appointment.status == "checked_in"


def test_the_patient_page_is_the_hub(client, injector, healthy, flip, filler, monkeypatch):
    # Issue 15: the patient page listed no appointments.
    monkeypatch.setattr("django.utils.timezone.now", lambda: DAY)
    record = services.treatment_start(
        appointment=ready(healthy, injector, flip), by=injector.user, now=DAY
    )
    add(record, LotFactory(lot_number="HUB1"), amount="4")
    complete(record)
    services.treatment_sign(record=record, by=injector.user, password=PASSWORD, now=DAY)
    book(healthy, injector, filler, at(date(2027, 1, 5), "10:00"), now=DAY)
    client.force_login(injector.user)
    page = client.get(healthy.get_absolute_url()).content.decode()
    assert "Tue 5 Jan" in page  # coming up
    assert "Tue 1 Dec" in page  # past
    assert "4 U Botox Cosmetic (lot HUB1)" in page
    assert "Booking confirmation" in page  # the emails sent


@pytest.mark.parametrize("name", ["patients:list", "bookings:book"])
def test_typing_in_the_search_box_returns_the_results_only(client, front_desk, name):
    from tests.factories import PatientFactory

    PatientFactory(first_name="Niamh", last_name="O'Brien")
    client.force_login(front_desk)
    full = client.get(reverse(name), {"q": "obrien"})
    partial = client.get(reverse(name), {"q": "obrien"}, headers={"HX-Request": "true"})
    assert "<html" in full.content.decode() and 'hx-get="' in full.content.decode()
    body = partial.content.decode()
    assert "<html" not in body and "O&#x27;Brien" in body
    assert "HX-Request" in partial["Vary"]


def test_the_record_and_the_chart_print_with_their_header(client, healthy, injector, flip):
    from django.utils import timezone as tz

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: DAY)
        record = services.treatment_start(
            appointment=ready(healthy, injector, flip), by=injector.user, now=DAY
        )
        add(record, LotFactory(lot_number="PR1"), amount="4")
        complete(record)
        services.treatment_sign(record=record, by=injector.user, password=PASSWORD, now=DAY)
        assert tz.now() == DAY
    client.force_login(injector.user)
    for url in (record.get_absolute_url(), reverse("treatments:chart", args=[healthy.pk])):
        page = client.get(url).content.decode()
        assert 'class="d-none d-print-block print-header' in page, url
        assert 'id="print-button"' in page and "js/print.js" in page, url
    record_page = client.get(record.get_absolute_url()).content.decode()
    assert "unchanged since it was signed (SHA-256 checked)" in record_page


@pytest.mark.parametrize(
    ("name", "persona"), [("treatments:stock", "manager"), ("outbox", "manager")]
)
def test_an_unknown_list_filter_is_a_clear_400(client, manager, name, persona):
    client.force_login(manager)
    assert client.get(reverse(name), {"show": "everything"}).status_code == 400
    assert client.get(reverse(name), {"show": ""}).status_code == 200
