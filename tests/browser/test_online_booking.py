"""A new patient books online on a phone (issue 16): picks a time on the
public page, gives their details, opens the emailed link (read from the test
outbox), answers the medical history, books, and signs the consent."""

import re

import pytest
from django.core import mail

from bookings.models import Appointment
from tests.browser.conftest import shot
from tests.helpers import NOW
from treatments.models import ConsentSignature

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


def test_a_new_patient_verifies_answers_books_and_signs_on_a_phone(
    browser, live_server, injector, flip
):
    def steps(page):
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{live_server.url}/book-online/")
        shot(page, "online-1-procedures")
        page.get_by_role("link", name=re.compile("Lip flip")).first.click()
        page.wait_for_load_state()
        shot(page, "online-2-times")
        page.locator(".slot-btn").first.click()
        page.wait_for_url("**/book-online/details/**")
        page.fill("#id_first_name", "Nia")
        page.fill("#id_last_name", "Newcomer")
        page.fill("#id_date_of_birth", "1990-05-04")
        page.fill("#id_phone", "07700 900123")
        page.fill("#id_email", "nia@example.com")
        shot(page, "online-3-details")
        page.get_by_role("button", name="Send me the link").click()
        page.wait_for_url("**/book-online/check-email/")
        shot(page, "online-4-check-email")
        link = re.search(r"https?://\S+/book-online/verify/\S+/", mail.outbox[-1].body).group(0)
        page.goto(live_server.url + "/book-online/" + link.split("/book-online/", 1)[1])
        page.wait_for_url("**/book-online/history/")
        for radio in page.locator("input[type=radio][value=no]").all():
            radio.check()
        shot(page, "online-5-history")
        page.get_by_role("button", name="Save the answers").click()
        page.wait_for_url("**/book-online/confirm/")
        before = page.locator(".precare-box").inner_text()
        shot(page, "online-6-confirm")
        page.get_by_role("button", name="Book it").click()
        page.wait_for_url("**/book-online/done/")
        shot(page, "online-7-booked")
        page.get_by_role("link", name="Sign the consent form now").click()
        page.wait_for_load_state()
        page.check("#id_agreed")
        page.fill("#id_date_of_birth", "1990-05-04")
        page.fill("#id_typed_name", "Nia Newcomer")
        pad = page.locator("#signature-pad")
        pad.scroll_into_view_if_needed()
        box = pad.bounding_box()
        page.mouse.move(box["x"] + 20, box["y"] + 100)
        page.mouse.down()
        for step in range(1, 20):
            page.mouse.move(
                box["x"] + 20 + step * 15, box["y"] + 80 + (30 if step % 2 else -30), steps=3
            )
        page.mouse.up()
        shot(page, "online-8-consent")
        page.get_by_role("button", name="Sign", exact=True).click()
        page.get_by_text("everything is signed").wait_for()
        shot(page, "online-9-signed")
        return before, page.csp_violations

    before, violations = browser.run(steps)
    appointment = Appointment.objects.get()
    assert appointment.patient.email == "nia@example.com"
    assert "From" in before
    assert ConsentSignature.objects.get(appointment=appointment).verify()
    assert violations == []
