"""The emergency kit (issue 18) in the browser: the practitioner's day warns
that no filler can start, today's check refuses the start and says why, a
delivery of hyaluronidase and a full kit check at tablet size clear it, and
asked again, the treatment record opens."""

import pytest

from bookings import services as bookings
from tests.browser.conftest import log_in, shot
from tests.browser.test_flows import answer_same_day
from tests.factories import PASSWORD
from tests.helpers import history
from tests.treatments.test_records import DAY, ready
from treatments.models import KitCheck, KitMedicine, TreatmentRecord

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.real_kit,
]

TABLET = {"width": 820, "height": 1180}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: DAY)


def test_a_practitioner_restocks_and_checks_the_kit_then_starts_filler(
    browser, live_server, patient_a, injector, filler
):
    history(patient_a)
    appointment = ready(patient_a, injector, filler, check_in=False)
    bookings.appointment_check_in(appointment=appointment, by=injector.user, now=DAY)
    same_day = f"{live_server.url}/appointments/{appointment.pk}/same-day/"
    medicines = list(KitMedicine.objects.all())

    def steps(page):
        page.set_viewport_size(TABLET)
        log_in(page, live_server.url, injector.user.email, PASSWORD)
        seen = {"alert": page.locator("#kit-alert").inner_text()}
        page.goto(same_day)
        answer_same_day(page)
        seen["refusal"] = page.locator("#refusal").inner_text()
        shot(page, "18-kit-0-start-refused-tablet")
        page.goto(live_server.url + "/")
        page.locator("#kit-alert a").click()
        page.wait_for_url("**/kit/")
        shot(page, "18-kit-1-never-checked-tablet")
        page.get_by_role("link", name="Record a delivery").click()
        page.wait_for_url("**/kit/receive/")
        page.select_option("select[name=medicine]", label="Hyaluronidase 1500 IU")
        page.fill("input[name=lot_number]", "hyl501")
        page.fill("input[name=expiry_date]", "2027-08-31")
        page.fill("input[name=quantity]", "2")
        page.get_by_role("button", name="Add to the kit's stock").click()
        page.wait_for_url("**/kit/")
        seen["delivered"] = page.get_by_text("Recorded: Hyaluronidase 1500 IU lot HYL501").count()
        for medicine in medicines:
            page.fill(f"input[name=count_{medicine.pk}]", str(medicine.needed))
        page.get_by_role("button", name="Record the kit check").click()
        page.get_by_text("Kit check recorded: everything present and in date.").wait_for()
        seen["state"] = page.locator("#kit-state").inner_text()
        shot(page, "18-kit-2-checked-tablet")
        page.set_viewport_size(PHONE)
        shot(page, "18-kit-3-phone")
        page.goto(live_server.url + "/")
        seen["alert_after"] = page.locator("#kit-alert").count()
        page.set_viewport_size(TABLET)
        page.goto(same_day)
        answer_same_day(page)
        page.wait_for_url("**/treatments/*/")
        seen["csp"] = page.csp_violations
        return seen

    seen = browser.run(steps)
    assert "No filler treatment can start" in seen["alert"]
    assert seen["delivered"] == 1
    assert "the emergency kit has never been checked" in seen["refusal"]
    assert seen["state"].strip().startswith("Ready: checked on")
    assert seen["alert_after"] == 0
    assert seen["csp"] == []
    assert KitCheck.objects.get().complete
    assert TreatmentRecord.objects.filter(appointment=appointment).exists()
