"""Clinical photos at the chair (issue 19), on a tablet (820x1180): the
practitioner opens the treatment record, goes to its photos, uploads a
before and an after photo of the front view, and sees both thumbnails load
through the checked view. The same page is screenshotted at the desk."""

import pytest

from tests.browser.conftest import log_in, shot
from tests.factories import PASSWORD, LotFactory
from tests.helpers import history, photo_file
from tests.treatments.test_records import DAY, add, ready
from treatments import services
from treatments.models import Photo

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TABLET = {"width": 820, "height": 1180}
DESK = {"width": 1366, "height": 900}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: DAY)


@pytest.fixture
def record(patient_a, injector, filler):
    history(patient_a)
    appointment = ready(patient_a, injector, filler)
    record = services.treatment_start(appointment=appointment, by=injector.user, now=DAY)
    lot = LotFactory(product=record.procedure.products.first(), lot_number="VB1")
    add(record, lot, "FB-UL", amount="0.5", depth="submucosal", needle="30G needle", dilution="")
    return record


def test_a_practitioner_uploads_before_and_after_photos_on_a_tablet(
    browser, live_server, record, tmp_path
):
    before, after = tmp_path / "before.jpg", tmp_path / "after.jpg"
    before.write_bytes(photo_file(size=(800, 600)).read())
    after.write_bytes(photo_file(size=(800, 600), gps=True).read())
    email = record.practitioner.user.email

    def upload(page, phase, path):
        page.locator("label.photo-choice", has_text=phase).click()
        page.locator("label.photo-choice", has_text="Front").click()
        page.set_input_files("input[name=files]", str(path))
        page.get_by_role("button", name="Upload").click()
        page.wait_for_load_state()

    def steps(page):
        page.set_viewport_size(TABLET)
        log_in(page, live_server.url, email, PASSWORD)
        page.goto(live_server.url + record.get_absolute_url())
        page.locator("#record-photos").click()
        page.wait_for_url("**/photos/")
        camera = page.locator("input[name=camera]")
        seen = {name: camera.get_attribute(name) for name in ("capture", "accept")}
        shot(page, "photos-1-empty-tablet")
        upload(page, "Before", before)
        upload(page, "After", after)
        page.get_by_text("1 photo added.").wait_for()
        shot(page, "photos-2-before-after-tablet")
        thumbs = page.locator(".photo-thumb img")
        thumbs.first.wait_for()
        seen["thumbs"] = thumbs.count()
        seen["loaded"] = page.evaluate(
            "() => [...document.querySelectorAll('.photo-thumb img')]"
            ".every(img => img.complete && img.naturalWidth > 0)"
        )
        page.set_viewport_size(DESK)
        shot(page, "photos-3-desk")
        seen["csp"] = page.csp_violations
        return seen

    seen = browser.run(steps)
    assert seen["capture"] == "environment" and seen["accept"] == "image/*"
    assert seen["thumbs"] == 2 and seen["loaded"]
    assert seen["csp"] == []
    assert sorted(Photo.objects.values_list("phase", flat=True)) == ["after", "before"]
