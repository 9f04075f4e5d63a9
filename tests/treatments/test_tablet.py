"""The clinic's tablet in a patient's hands (issue 15): only that
appointment's consent, then the lock; a staff login ends it."""

import pytest
from django.urls import reverse

from tests.helpers import NOW, at, book, drawn_signature
from tests.treatments.test_records import D5
from treatments.models import ConsentSignature

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


@pytest.fixture
def handed_over(client, front_desk, healthy, injector, flip):
    appointment = book(healthy, injector, flip, at(D5, "10:00"))
    client.force_login(front_desk)
    response = client.post(reverse("treatments:tablet_start", args=[appointment.pk]))
    assert response["Location"] == reverse("treatments:tablet_sign")
    return appointment


def test_handing_over_logs_the_staff_member_out(client, handed_over):
    assert "_auth_user_id" not in client.session
    page = client.get(reverse("treatments:tablet_sign"))
    assert page.status_code == 200
    assert page.context["appointment"] == handed_over


@pytest.mark.parametrize(
    "name", ["desk_home", "patients:list", "bookings:day", "portal_home", "treatments:stock"]
)
def test_no_staff_page_is_reachable_from_the_tablet(client, handed_over, name):
    response = client.get(reverse(name))
    assert response["Location"] == reverse("treatments:tablet_locked")


def test_the_patient_signs_and_the_clinic_is_recorded(client, handed_over, front_desk, healthy):
    url = reverse("treatments:tablet_sign")
    form = client.get(url).context["part"].form
    client.post(
        url,
        {
            "form_version": form.pk,
            "agreed": "on",
            "typed_name": healthy.full_name,
            "signature": drawn_signature(),
        },
    )
    signature = ConsentSignature.objects.get()
    assert (signature.via, signature.recorded_by) == ("clinic", front_desk)
    done = client.get(url).content.decode()
    assert "Please hand the tablet back" in done


def test_a_staff_login_ends_tablet_mode(client, handed_over, front_desk):
    client.force_login(front_desk)
    assert client.get(reverse("desk_home")).status_code == 200
    assert "tablet" not in client.session


def test_the_tablet_locks_itself_after_its_time(client, handed_over, monkeypatch):
    import time

    later = time.time() + 31 * 60
    monkeypatch.setattr("treatments.tablet.time.time", lambda: later)
    response = client.get(reverse("treatments:tablet_sign"))
    assert response["Location"] == reverse("treatments:tablet_locked")
