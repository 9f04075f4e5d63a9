"""Clinical photos at the chair (issue 19), on a tablet (820x1180): the
practitioner opens the treatment record, goes to its photos, uploads a
before and an after photo of the front view, and sees both thumbnails load
through the checked view. The same page is screenshotted at the desk. Then
the comparison with the patient's June visit, on the tablet and a phone
(390x844), and the chart's thumbnails."""

from datetime import date

import pytest

from tests.browser.conftest import log_in, shot
from tests.factories import PASSWORD, LotFactory
from tests.helpers import at, history, past_visit, photo_file
from tests.treatments.test_records import DAY, add, ready
from treatments import services
from treatments.models import Photo

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TABLET = {"width": 820, "height": 1180}
DESK = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


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


@pytest.fixture
def june(record, patient_a, injector, filler):
    """The patient's first filler, in June: before and after, front and lips."""
    lot = LotFactory(product=record.procedure.products.first(), lot_number="VB0")
    return past_visit(
        patient_a,
        injector,
        filler,
        at(date(2026, 6, 10), "10:00"),
        lines=[(lot, "FB-UL", "0.3"), (lot, "FB-LL", "0.3")],
        photos=[("before", "front"), ("after", "front"), ("before", "lips"), ("after", "lips")],
    )


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


LOADED = (
    "sel => [...document.querySelectorAll(sel)].every(img => img.complete && img.naturalWidth > 0)"
)


def loaded(page, selector):
    """Whether every image `selector` finds has loaded (lazy ones are
    scrolled to first), within five seconds."""
    for image in page.locator(selector).all():
        image.scroll_into_view_if_needed()
    try:
        page.wait_for_function(LOADED, arg=selector, timeout=5000)
    except Exception:  # Playwright's TimeoutError: reported as False
        return False
    return True


def test_the_comparison_on_a_tablet_and_a_phone(browser, live_server, record, june, tmp_path):
    email = record.practitioner.user.email
    today_photo = tmp_path / "today.jpg"
    today_photo.write_bytes(photo_file(size=(600, 800)).read())
    today = record.appointment

    def steps(page):
        page.set_viewport_size(TABLET)
        log_in(page, live_server.url, email, PASSWORD)
        page.goto(live_server.url + today.get_absolute_url() + "photos/")
        page.locator("label.photo-choice", has_text="Before").click()
        page.locator("label.photo-choice", has_text="Front").click()
        page.set_input_files("input[name=files]", str(today_photo))
        page.get_by_role("button", name="Upload").click()
        page.get_by_text("1 photo added.").wait_for()
        page.locator("#photos-compare").click()
        page.wait_for_url("**/patients/*/photos/")
        seen = {
            "visits": page.locator("th.compare-visit").all_inner_texts(),
            "phases": page.locator("th.compare-phase").all_inner_texts(),
            "views": page.locator("tr.compare-view th").all_inner_texts(),
            "loaded": loaded(page, "#photo-compare img"),
            "fits": page.evaluate("() => document.documentElement.scrollWidth <= innerWidth"),
        }
        page.evaluate("() => window.scrollTo(0, 0)")
        shot(page, "photos-4-compare-tablet")
        page.set_viewport_size(PHONE)
        seen["phone_fits"] = page.evaluate(
            "() => document.documentElement.scrollWidth <= innerWidth"
        )
        shot(page, "photos-5-compare-phone")
        page.set_viewport_size({"width": 1123, "height": 794})  # A4 landscape, 96 dpi
        page.emulate_media(media="print")
        shot(page, "photos-8-compare-print")
        page.emulate_media(media="screen")
        page.set_viewport_size(PHONE)
        page.get_by_role("link", name="Lips close-up", exact=True).click()
        page.wait_for_url("**?view=lips")
        seen["lips"] = page.locator("tr.compare-view th").all_inner_texts()
        shot(page, "photos-6-compare-lips-phone")
        page.set_viewport_size(TABLET)
        page.goto(live_server.url + f"/patients/{today.patient_id}/chart/")
        seen["chart_thumbs"] = page.locator(".chart-photos img").count()
        seen["chart_loaded"] = loaded(page, ".chart-photos img")
        shot(page, "photos-7-chart-tablet")
        seen["csp"] = page.csp_violations
        return seen

    seen = browser.run(steps)
    assert len(seen["visits"]) == 2 and "10 Jun 2026" in seen["visits"][0]
    assert "Juvederm Ultra XC: 0.60 mL" in seen["visits"][0]
    assert "1 Dec 2026" in seen["visits"][1] and "0.50 mL" in seen["visits"][1]
    assert [p.strip() for p in seen["phases"]] == ["Before", "After", "Before"]
    assert [v.strip() for v in seen["views"]] == ["Front", "Lips close-up"]
    assert seen["loaded"] and seen["fits"] and seen["phone_fits"]
    assert [v.strip() for v in seen["lips"]] == ["Lips close-up"]
    assert seen["chart_thumbs"] == 4 and seen["chart_loaded"]
    assert seen["csp"] == []
