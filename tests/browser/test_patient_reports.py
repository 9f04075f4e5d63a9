"""A patient reports a problem after a treatment (issue 18), on a phone: the
aftercare email's link opens the form with no login; a red flag answered yes
leads to a page whose first thing, on screen without scrolling, is "Call 999
now" with a tel: link; the practitioner then sees the report at the desk and
marks it reviewed."""

import re
from urllib.parse import urlsplit

import pytest

from clinic.models import Notification
from tests.browser.conftest import log_in, shot
from tests.factories import PASSWORD, LotFactory
from tests.helpers import history
from tests.treatments.test_records import DAY, add, complete, ready
from treatments import services
from treatments.models import PatientReport

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 800}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: DAY)


@pytest.fixture
def treated(patient_a, injector, filler):
    history(patient_a)
    appointment = ready(patient_a, injector, filler)
    record = services.treatment_start(appointment=appointment, by=injector.user, now=DAY)
    lot = LotFactory(product=record.procedure.products.first(), lot_number="VB1")
    add(record, lot, "FB-UL", amount="0.5", depth="submucosal", needle="30G needle", dilution="")
    complete(record)
    return services.treatment_sign(record=record, by=injector.user, password=PASSWORD, now=DAY)


def aftercare_link(record):
    email = Notification.objects.get(kind="aftercare", appointment=record.appointment)
    url = re.search(r"\S+/report/\S+/", email.body_text).group(0)
    return urlsplit(url).path


def test_a_patient_opens_the_aftercare_link_ticks_a_red_flag_and_sees_call_999_first(
    browser, live_server, treated
):
    path = aftercare_link(treated)

    def steps(page):
        page.set_viewport_size(PHONE)
        page.goto(live_server.url + path)
        shot(page, "report-1-form-phone")
        page.get_by_text("Has your sight changed?").wait_for()
        page.locator("label[for=id_vision_0]").click()  # "Yes"
        page.fill("#id_description", "My left eye went blurry an hour ago.")
        page.get_by_role("button", name="Send to the clinic").click()
        page.wait_for_url("**/sent/")
        shot(page, "report-2-call-999-phone")
        heading = page.locator("main h1").first
        call = page.locator("a.call-999-button")
        box = call.bounding_box()
        return {
            "first_heading": heading.inner_text().strip(),
            "href": call.get_attribute("href"),
            "on_screen": box["y"] + box["height"] <= PHONE["height"],
            "order": page.locator("main").inner_text().index("Call 999 now")
            < page.locator("main").inner_text().index("The clinic has been told"),
            "csp": page.csp_violations,
        }

    seen = browser.run(steps)
    assert seen["first_heading"] == "Call 999 now"
    assert seen["href"] == "tel:999" and seen["on_screen"] and seen["order"]
    assert seen["csp"] == []
    report = PatientReport.objects.get()
    assert report.urgent and report.vision and report.via == "link"
    assert Notification.objects.filter(kind="report_alert").count() == 2


def test_the_practitioner_reviews_it_at_the_desk_and_the_pages_on_each_screen(
    browser, live_server, treated
):
    routine = services.patient_report_submit(
        record=treated,
        via="portal",
        answers={"vision": False, "pain": False, "skin": False, "breathing": False},
        concern="lump",
        description="A small firm lump in the upper lip, not painful.",
        now=DAY,
    )
    services.patient_report_submit(
        record=treated, via="link", answers={"skin": True}, description="White patch", now=DAY
    )
    practitioner = treated.practitioner.user
    patient = treated.patient.user

    def steps(page):
        page.set_viewport_size(PHONE)
        log_in(page, live_server.url, patient.email, PASSWORD)
        page.goto(f"{live_server.url}/portal/")
        shot(page, "report-3-portal-phone")
        page.get_by_role("link", name="Report a problem").first.click()
        page.wait_for_load_state()
        page.get_by_role("button", name="Send to the clinic").click()
        page.wait_for_load_state()
        shot(page, "report-4-form-errors-phone")
        errors = page.locator(".invalid-feedback").count()
        page.goto(f"{live_server.url}/portal/reports/{routine.pk}/")
        shot(page, "report-5-thanks-phone")
        page.context.clear_cookies()
        page.set_viewport_size(DESK)
        log_in(page, live_server.url, practitioner.email, PASSWORD)
        page.goto(f"{live_server.url}/practice/")
        shot(page, "report-6-my-day-desk")
        page.goto(f"{live_server.url}/reports/")
        shot(page, "report-7-list-desk")
        page.set_viewport_size(PHONE)
        shot(page, "report-7-list-phone")
        page.set_viewport_size(DESK)
        page.get_by_role("link", name=str(treated.patient)).last.click()
        page.wait_for_load_state()
        shot(page, "report-8-detail-desk")
        page.fill("#id_note", "Called: warm compress advice; seen in clinic tomorrow.")
        page.get_by_role("button", name="Mark reviewed").click()
        page.wait_for_url("**/reports/")
        shot(page, "report-9-after-review-desk")
        page.get_by_role("link", name=str(treated.patient)).first.click()
        page.wait_for_load_state()
        shot(page, "report-10-red-flag-desk")
        return errors

    assert browser.run(steps) >= 4  # three questions and what is wrong
    assert PatientReport.objects.awaiting_review().count() == 1
