"""Issue 17 in a real browser: a prescriber assesses face to face and
prescribes, a nurse treats under the prescription, and the signed record shows
it."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import Practitioner
from tests.browser.conftest import log_in, shot
from tests.browser.test_flows import answer_same_day, checked_in_today
from tests.factories import PASSWORD, LotFactory, MedicalHistoryFactory, PatientFactory
from tests.factories import PractitionerFactory as Practitioners
from tests.helpers import NOW
from treatments.models import Prescription, Product, TreatmentRecord

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


def test_a_prescriber_prescribes_and_a_nurse_treats_under_it(
    browser, live_server, front_desk, injector, flip
):
    doctor = Practitioners(
        user__full_name="Dr Dee Prescriber",
        profession=Practitioner.Profession.DOCTOR,
        regulator=Practitioner.Regulator.GMC,
        registration_number="7654321",
        independent_prescriber=True,
    )
    patient = PatientFactory(first_name="Nora", last_name="New", prescribed=False)
    MedicalHistoryFactory(patient=patient, submitted_at=NOW - timedelta(days=20))
    vistabel = Product.objects.get(name="Vistabel")
    lot = LotFactory(product=vistabel, lot_number="VISBROWSER")
    appointment = checked_in_today(front_desk, patient, injector, flip)
    prescriptions_url = live_server.url + reverse("treatments:prescriptions", args=[patient.pk])
    until = (timezone.localdate() + timedelta(days=30)).isoformat()

    def prescribe(page):
        log_in(page, live_server.url, doctor.user.email, PASSWORD)
        page.goto(prescriptions_url)
        page.check('input[name="mode"][value="in_person"]')
        page.fill("#id_findings", "Seen in clinic: wants a subtle lip flip; suitable.")
        page.fill(f"#id_most_{vistabel.pk}", "6")
        page.fill("#id_directions", "Lip flip: 3 points along the upper border.")
        page.fill("#id_valid_until", until)
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Sign the prescription").click()
        page.wait_for_url(re.compile(r"/prescriptions/\d+/$"))
        shot(page, "17-1-prescription")
        return page.locator("main").inner_text()

    written = browser.run(prescribe)
    assert "Vistabel: at most 6 U a session" in written
    assert "Face to face, in the clinic" in written
    prescription = Prescription.objects.get(patient=patient)

    def treat(page):
        log_in(page, live_server.url, injector.user.email, PASSWORD)
        page.goto(f"{live_server.url}/appointments/{appointment.pk}/")
        page.get_by_role("link", name=re.compile("Today's check")).click()
        page.wait_for_load_state()
        answer_same_day(page)
        for site in ("TX-L1", "TX-C", "TX-R1"):
            page.locator(f'.lip-chart [data-site="{site}"]').click()
            page.select_option("#id_lot", value=str(lot.pk))
            page.fill("#id_amount", "2")
            page.fill("#id_dilution", "50 U in 1.25 mL saline")
            page.select_option("#id_depth", "intramuscular")
            page.get_by_role("button", name="Add the injection").click()
            page.wait_for_load_state()
        page.select_option("#id_anaesthetic", "none")
        page.check("#id_no_adverse_events")
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Save and sign", exact=True).click()
        page.locator("#addenda").wait_for()
        shot(page, "17-2-record-under-prescription")
        return page.locator("#record-prescription").inner_text()

    shown = browser.run(treat)
    assert "by Dr Dee Prescriber" in shown
    record = TreatmentRecord.objects.get(appointment=appointment)
    assert record.is_signed and record.prescription == prescription
    assert record.verify()
