"""A suspected vascular occlusion at the chair (issue 18), on a tablet
(820x1180): from the treatment record the practitioner opens a complication
record and runs the steps in order, one tap each (stopped, signs, a
hyaluronidase dose from the kit, 999 called, the outcome), then signs. Each
step's time is the server's, and the dose uses up the kit's stock."""

import pytest

from tests.browser.conftest import log_in, shot
from tests.factories import PASSWORD, LotFactory
from tests.helpers import history
from tests.treatments.test_records import DAY, add, ready
from treatments import services
from treatments.models import Complication, KitMedicine

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TABLET = {"width": 820, "height": 1180}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: DAY)


@pytest.fixture
def record(patient_a, injector, filler):
    history(patient_a)
    record = services.treatment_start(
        appointment=ready(patient_a, injector, filler), by=injector.user, now=DAY
    )
    lot = LotFactory(product=record.procedure.products.first(), lot_number="VB1")
    add(record, lot, "FB-UL", amount="0.5", depth="submucosal", needle="30G needle", dilution="")
    return record


def test_a_vascular_occlusion_is_recorded_step_by_step_on_a_tablet(browser, live_server, record):
    user = record.practitioner.user
    kit = services.kit_lot_receive(
        medicine=KitMedicine.objects.get(kind="hyaluronidase"),
        lot_number="HYL1",
        expiry_date=DAY.date().replace(year=2027),
        quantity=3,
        received_by=user,
        now=DAY,
    )

    def steps(page):
        page.set_viewport_size(TABLET)
        log_in(page, live_server.url, user.email, PASSWORD)
        page.goto(live_server.url + record.get_absolute_url())
        page.select_option("select[name=kind]", "vascular_occlusion")
        page.locator("#complication-open").click()
        page.wait_for_url("**/complications/*/")
        shot(page, "18-occlusion-1-opened-tablet")
        page.locator("#step-stopped").click()
        page.wait_for_load_state()
        page.locator("label[for=sign-blanching]").click()
        page.locator("label[for=sign-vision]").click()
        page.locator("#step-signs").click()
        page.wait_for_load_state()
        seen = {"alert": page.locator("#call-999").count()}
        shot(page, "18-occlusion-2-call-999-tablet")
        page.locator("#step-hyaluronidase").click()
        page.wait_for_load_state()
        page.locator("[id='escalated-999']").click()
        page.wait_for_load_state()
        seen["alert_after"] = page.locator("#call-999").count()
        page.locator("#outcome-referred").click()
        page.wait_for_load_state()
        seen["timeline"] = page.locator("#timeline .step-line").all_inner_texts()
        seen["times"] = page.locator("#timeline time").evaluate_all(
            "els => els.map(e => e.getAttribute('datetime'))"
        )
        shot(page, "18-occlusion-3-steps-tablet")
        page.fill("textarea[name=summary]", "Blanching of the upper lip and blurred vision.")
        page.select_option("select[name=patient_sex]", "female")
        page.fill("#sign input[name=password]", PASSWORD)
        page.locator("#sign button[type=submit]").click()
        page.get_by_text("Complication record signed.").wait_for()
        shot(page, "18-occlusion-4-signed-tablet")
        page.fill("input[name=reference]", "YC-2026-0042")
        page.get_by_role("button", name="Record the report").click()
        page.get_by_text("Recorded: reported to the MHRA Yellow Card YC-2026-0042").wait_for()
        page.locator("#summary-link").click()
        page.wait_for_url("**/summary/")
        seen["summary"] = page.locator("#summary").inner_text()
        shot(page, "18-occlusion-5-summary-tablet")
        page.goto(live_server.url + "/complications/")
        seen["overview"] = page.locator("h1 + div").inner_text()
        shot(page, "18-occlusion-6-overview-tablet")
        seen["csp"] = page.csp_violations
        return seen

    seen = browser.run(steps)
    assert seen["alert"] == 1 and seen["alert_after"] == 0
    # Each line: the time (09:50:00), then what was done.
    assert [line.split(" ", 1)[1].split(":")[0].split(" · ")[0] for line in seen["timeline"]] == [
        "Stopped injecting",
        "Signs seen",
        "Hyaluronidase given",
        "Escalated",
        "Outcome",
    ]
    assert "Any change in vision" in seen["timeline"][1]
    assert "lot HYL1" in seen["timeline"][2]
    assert set(seen["times"]) == {DAY.isoformat()}  # the server's clock, frozen here
    assert seen["csp"] == []
    assert "YC-2026-0042" in seen["summary"] and "sex: Female" in seen["summary"]
    assert "1 complication over 0 signed treatments" in seen["overview"]
    complication = Complication.objects.get()
    assert complication.is_signed and complication.verify()
    assert list(complication.steps.values_list("at", flat=True)) == [DAY] * 5
    kit.refresh_from_db()
    assert kit.quantity_remaining == 2
