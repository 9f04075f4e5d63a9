"""The waitlist's pages (issue 16): a portal patient joins and leaves it; the
front desk sees and edits it, and adds a patient to it."""

from datetime import date

import pytest
from django.urls import reverse

from bookings import waitlist
from bookings.models import WaitlistEntry
from tests.factories import PatientFactory
from tests.helpers import NOW, at, book, history

pytestmark = pytest.mark.django_db


@pytest.fixture
def now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


@pytest.fixture
def portal(client, patient_a, now):
    history(patient_a)
    client.force_login(patient_a.user)
    return client


def join(patient, procedure, by, **kwargs):
    return waitlist.waitlist_join(
        patient=patient,
        procedure=procedure,
        earliest=kwargs.pop("earliest", date(2026, 12, 1)),
        latest=kwargs.pop("latest", date(2026, 12, 10)),
        by=by,
        now=NOW,
        **kwargs,
    )


# The portal


def test_the_portal_links_to_the_waitlist_from_home_and_booking(portal, flip, injector):
    assert reverse("portal_waitlist") in portal.get(reverse("portal_home")).content.decode()
    page = portal.get(reverse("portal_book"), {"procedure": flip.pk}).content.decode()
    assert f"{reverse('portal_waitlist')}?procedure={flip.pk}" in page


def test_a_patient_joins_the_waitlist(portal, patient_a, flip):
    page = portal.get(reverse("portal_waitlist"), {"procedure": flip.pk})
    assert page.context["form"].initial == {"procedure": flip.pk}
    response = portal.post(
        reverse("portal_waitlist"),
        {"procedure": flip.pk, "earliest": "2026-12-01", "latest": "2026-12-10"},
    )
    assert response.status_code == 302
    entry = WaitlistEntry.objects.get()
    assert (entry.patient, entry.procedure, entry.created_by) == (patient_a, flip, patient_a.user)
    page = portal.get(response["Location"]).content.decode()
    assert "we will email you a link" in page
    assert "1 December to 10 December 2026" in page


def test_a_refusal_shows_under_the_field(portal, flip):
    response = portal.post(
        reverse("portal_waitlist"),
        {"procedure": flip.pk, "earliest": "2026-12-10", "latest": "2026-12-01"},
    )
    assert response.status_code == 200
    errors = str(response.context["form"]["latest"].errors)
    assert "The last day must be on or after the first day" in errors
    assert not WaitlistEntry.objects.exists()


def test_only_procedures_booked_online_can_be_waited_for(portal, flip):
    flip.online_booking = False
    flip.save()
    response = portal.post(
        reverse("portal_waitlist"),
        {"procedure": flip.pk, "earliest": "2026-12-01", "latest": "2026-12-10"},
    )
    assert "procedure" in response.context["form"].errors
    assert not WaitlistEntry.objects.exists()


def test_a_patient_leaves_the_waitlist_but_not_someone_elses(portal, patient_a, patient_b, flip):
    mine = join(patient_a, flip, patient_a.user)
    theirs = join(patient_b, flip, patient_b.user)
    assert portal.post(reverse("portal_waitlist_remove", args=[theirs.pk])).status_code == 404
    response = portal.post(reverse("portal_waitlist_remove", args=[mine.pk]))
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == ("removed", "waiting")


def test_the_portal_lists_only_the_patients_own_entries(portal, patient_a, patient_b, flip):
    join(patient_b, flip, patient_b.user)
    assert list(portal.get(reverse("portal_waitlist")).context["entries"]) == []


# The front desk


@pytest.fixture
def desk(client, front_desk, now):
    client.force_login(front_desk)
    return client


def test_the_front_desk_sees_who_is_waiting_oldest_first(desk, flip, filler, front_desk):
    first = join(PatientFactory(first_name="Ann"), flip, front_desk)
    second = join(PatientFactory(first_name="Ben"), filler, front_desk)
    gone = join(PatientFactory(first_name="Cat"), flip, front_desk)
    waitlist.waitlist_remove(entry=gone)
    page = desk.get(reverse("bookings:waitlist"))
    assert list(page.context["waiting"]) == [first, second]
    assert list(page.context["closed"]) == [gone]
    assert reverse("bookings:waitlist_edit", args=[first.pk]) in page.content.decode()


def test_the_list_is_a_fixed_number_of_queries(
    desk, flip, front_desk, django_assert_max_num_queries
):
    join(PatientFactory(), flip, front_desk)
    desk.get(reverse("bookings:waitlist"))
    with django_assert_max_num_queries(15) as one:
        desk.get(reverse("bookings:waitlist"))
    for _ in range(5):
        join(PatientFactory(), flip, front_desk)
    with django_assert_max_num_queries(len(one.captured_queries)):
        desk.get(reverse("bookings:waitlist"))


def test_the_front_desk_edits_an_entry(desk, flip, front_desk, second_injector):
    entry = join(PatientFactory(), flip, front_desk)
    response = desk.post(
        reverse("bookings:waitlist_edit", args=[entry.pk]),
        {
            "practitioner": second_injector.pk,
            "earliest": "2026-12-03",
            "latest": "2026-12-20",
            "notes": "mornings only",
            "status": "waiting",
        },
    )
    assert response["Location"] == reverse("bookings:waitlist")
    entry.refresh_from_db()
    assert (entry.practitioner, entry.earliest, entry.latest, entry.notes) == (
        second_injector,
        date(2026, 12, 3),
        date(2026, 12, 20),
        "mornings only",
    )


def test_the_front_desk_takes_someone_off_the_list(desk, flip, front_desk):
    entry = join(PatientFactory(), flip, front_desk)
    desk.post(
        reverse("bookings:waitlist_edit", args=[entry.pk]),
        {"earliest": "2026-12-01", "latest": "2026-12-10", "status": "removed"},
    )
    entry.refresh_from_db()
    assert entry.status == "removed"


def test_the_front_desk_adds_a_patient_from_their_page(desk, flip, front_desk, patient):
    history(patient)
    page = desk.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert reverse("bookings:waitlist_add", args=[patient.pk]) in page
    response = desk.post(
        reverse("bookings:waitlist_add", args=[patient.pk]),
        {"procedure": flip.pk, "earliest": "2026-12-01", "latest": "2026-12-10", "notes": "x"},
    )
    assert response["Location"] == reverse("bookings:waitlist")
    entry = WaitlistEntry.objects.get()
    assert (entry.patient, entry.created_by, entry.notes) == (patient, front_desk, "x")
    again = desk.post(
        reverse("bookings:waitlist_add", args=[patient.pk]),
        {"procedure": flip.pk, "earliest": "2026-12-01", "latest": "2026-12-10"},
    )
    assert "already on the waitlist" in str(again.context["form"]["procedure"].errors)


def test_a_practitioner_is_not_shown_the_waitlist(client, practitioner):
    client.force_login(practitioner.user)
    assert client.get(reverse("bookings:waitlist")).status_code == 403


def test_a_portal_patient_asks_for_earlier_than_a_booking(
    portal, patient_a, patient_b, flip, injector
):
    mine = book(patient_a, injector, flip, at(date(2026, 12, 10), "10:00"))
    theirs = book(patient_b, injector, flip, at(date(2026, 12, 10), "11:00"))
    home = portal.get(reverse("portal_home")).content.decode()
    assert reverse("portal_waitlist_earlier", args=[mine.pk]) in home
    assert portal.post(reverse("portal_waitlist_earlier", args=[theirs.pk])).status_code == 404
    response = portal.post(reverse("portal_waitlist_earlier", args=[mine.pk]))
    assert response["Location"] == reverse("portal_home")
    entry = WaitlistEntry.objects.get()
    assert (entry.patient, entry.replaces, entry.latest) == (patient_a, mine, date(2026, 12, 9))
    again = portal.post(reverse("portal_waitlist_earlier", args=[mine.pk]), follow=True)
    assert "already on the waitlist" in again.content.decode()
