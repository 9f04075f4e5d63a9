"""The three flows of the security and browser-tests issue, in a real browser.

Data is prepared and checked in the test (database) thread; the clicking runs
in the browser thread (see conftest.py)."""

import re
from datetime import time, timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from bookings import services as bookings
from tests.browser.conftest import ARTIFACTS, log_in, shot
from tests.factories import PASSWORD, LotFactory
from tests.helpers import NOW, history, sign_consents
from treatments import services
from treatments.models import ConsentSignature, TreatmentRecord

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    """Thursday 26 November 2026, 09:00 in London, for the test and the live
    server's thread alike: the flows do not depend on when CI runs."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


def local(day, hhmm):
    hours, minutes = map(int, hhmm.split(":"))
    return timezone.make_aware(timezone.datetime.combine(day, time(hours, minutes)))


def test_front_desk_is_refused_two_days_out_then_books_five_days_out(
    browser, live_server, front_desk, healthy, injector
):
    today = timezone.localdate()
    earliest = date_format(today + timedelta(days=3), "l j F Y")
    stop = date_format(today + timedelta(days=1), "l j F")

    def steps(page):
        log_in(page, live_server.url, front_desk.email, PASSWORD)
        page.goto(f"{live_server.url}/book/?q=healthy")
        page.get_by_role("link", name=re.compile("Hana Healthy")).click()
        page.wait_for_load_state()

        def try_day(days):
            page.select_option("#id_chosen_practitioner", label=str(injector))
            page.fill("#id_chosen_date", (today + timedelta(days=days)).isoformat())
            page.fill("#id_chosen_time", "10:00")
            page.get_by_role("button", name="Check", exact=True).click()
            page.wait_for_load_state()

        try_day(2)
        refusal = page.locator("#refusal").inner_text()
        shot(page, "1-refused-two-days-out")
        page.get_by_role("link", name=re.compile("Pick another time")).first.click()
        page.wait_for_load_state()
        try_day(5)
        before = page.locator(".precare-box").inner_text()
        page.get_by_role("button", name="Confirm the booking").click()
        page.wait_for_url("**/appointments/*/")  # a click does not wait for the navigation
        shot(page, "2-booked-five-days-out")
        return refusal, before, page.content(), page.csp_violations

    refusal, before, booked, violations = browser.run(steps)
    assert "Too soon" in refusal and earliest in refusal
    assert f"From {stop}" in before
    assert "Booked." in booked and f"From {stop}" in booked
    assert healthy.appointments.get().precare_stop_date == today + timedelta(days=1)
    assert violations == []


def test_a_patient_signs_the_consent_by_drawing_with_the_mouse(
    browser, live_server, front_desk, patient_a, injector, flip
):
    history(patient_a)
    start = local(timezone.localdate() + timedelta(days=5), "11:00")
    appointment = bookings.appointment_book(
        patient=patient_a,
        practitioner=injector,
        procedure=flip,
        starts_at=start,
        booked_by=front_desk,
    )
    _, url = services.consent_request_send(appointment=appointment, by=front_desk)

    def steps(page):
        page.goto(live_server.url + urlsplit(url).path)
        text = page.content()
        page.check("#id_agreed")
        page.fill("#id_date_of_birth", patient_a.date_of_birth.isoformat())
        page.fill("#id_typed_name", patient_a.full_name)
        pad = page.locator("#signature-pad")
        pad.scroll_into_view_if_needed()
        box = pad.bounding_box()
        page.mouse.move(box["x"] + 30, box["y"] + 120)
        page.mouse.down()
        for step in range(1, 30):
            page.mouse.move(
                box["x"] + 30 + step * 15, box["y"] + 100 + (35 if step % 2 else -35), steps=3
            )
        page.mouse.up()
        shot(page, "3-consent-drawn")
        page.get_by_role("button", name="Sign", exact=True).click()
        page.get_by_text("everything is signed").wait_for()
        shot(page, "4-consent-signed")
        return text, page.content(), page.csp_violations

    form, done, violations = browser.run(steps)
    assert "A lip flip uses" in form
    assert "everything is signed" in done
    record = ConsentSignature.objects.get(appointment=appointment)
    assert bytes(record.signature_png).startswith(b"\x89PNG") and record.verify()
    assert record.via == "link"
    assert violations == []


def checked_in_today(front_desk, patient, practitioner, procedure):
    """A lip flip at 15:00 today, booked late on the patient's word,
    consented and checked in: ready for the practitioner."""
    appointment = bookings.appointment_book(
        patient=patient,
        practitioner=practitioner,
        procedure=procedure,
        starts_at=local(timezone.localdate(), "15:00"),
        booked_by=front_desk,
        attestation="No alcohol or painkillers since the weekend.",
    )
    sign_consents(appointment, now=NOW)
    bookings.appointment_check_in(appointment=appointment, by=front_desk)
    return appointment


def test_a_practitioner_logs_injections_on_the_lip_chart_and_signs(
    browser, live_server, front_desk, healthy, injector, flip
):
    appointment = checked_in_today(front_desk, healthy, injector, flip)
    lot = LotFactory(lot_number="BROWSER1")

    def steps(page):
        log_in(page, live_server.url, injector.user.email, PASSWORD)
        page.goto(f"{live_server.url}/appointments/{appointment.pk}/")
        page.get_by_role("link", name=re.compile("Today's check")).click()
        page.wait_for_load_state()
        answer_same_day(page)
        chosen = []
        for site in ("TX-L1", "TX-C", "TX-R1"):
            page.locator(f'.lip-chart [data-site="{site}"]').click()
            chosen.append(page.input_value("#id_site"))
            page.select_option("#id_lot", value=str(lot.pk))
            page.fill("#id_amount", "2")
            page.select_option("#id_depth", "intramuscular")
            page.get_by_role("button", name="Add the injection").click()
            page.wait_for_load_state()
        lines = page.locator("#lines").inner_text()
        # Filled in, then signed without pressing Save: nothing is lost.
        page.select_option("#id_anaesthetic", "none")
        page.check("#id_no_adverse_events")
        page.fill("#id_notes", "Even result; no bruising.")
        shot(page, "5-record-draft")
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Save and sign", exact=True).click()
        page.locator("#addenda").wait_for()  # only a signed record has addenda
        shot(page, "6-record-signed")
        # On paper: the header with the integrity check, no forms or buttons.
        page.emulate_media(media="print")
        printed = (
            page.locator(".print-header").inner_text(),
            page.get_by_role("button", name="Print").is_visible(),
        )
        page.pdf(path=str(ARTIFACTS / "6-record-signed.pdf"))
        page.emulate_media(media="screen")
        return chosen, lines, page.content(), page.csp_violations, printed

    chosen, lines, signed, violations, printed = browser.run(steps)
    header, print_button_on_paper = printed
    assert "unchanged since it was signed" in header and "Hana Healthy" in header
    assert not print_button_on_paper
    assert chosen == ["TX-L1", "TX-C", "TX-R1"]  # picked on the chart
    assert "6 U" in lines
    assert "Unchanged since it was signed" in signed
    record = TreatmentRecord.objects.get(appointment=appointment)
    assert record.is_signed and record.lines.count() == 3
    assert (record.anaesthetic, record.notes) == ("none", "Even result; no bruising.")
    lot.refresh_from_db()
    assert lot.quantity_remaining == 94
    assert violations == []


SAME_DAY_QUESTIONS = (
    "window_kept",
    "pregnant_or_breastfeeding",
    "active_cold_sore",
    "infection_at_site",
    "antibiotics_now",
    "dental_work_recent",
    "illness_or_vaccination_recent",
)


def answer_same_day(page, **answers):
    """Answer today's safety questions (the window kept, everything else no,
    unless `answers` says otherwise) and submit."""
    for name in SAME_DAY_QUESTIONS:
        value = answers.get(name, "yes" if name == "window_kept" else "no")
        page.check(f'input[name="{name}"][value="{value}"]')
    page.get_by_role("button", name=re.compile("Record the answers")).click()
    page.wait_for_load_state()


def test_a_blocking_answer_on_the_day_stops_the_treatment_and_offers_a_date(
    browser, live_server, front_desk, healthy, injector, flip
):
    appointment = checked_in_today(front_desk, healthy, injector, flip)

    def steps(page):
        log_in(page, live_server.url, injector.user.email, PASSWORD)
        page.goto(f"{live_server.url}/appointments/{appointment.pk}/same-day/")
        question = page.locator("#same-day-form").inner_text()
        answer_same_day(page, window_kept="no")
        shot(page, "7-same-day-blocked")
        page.set_viewport_size({"width": 390, "height": 844})
        shot(page, "7-same-day-blocked-phone")
        return (
            question,
            page.locator("#refusal").inner_text(),
            page.locator("#earliest").inner_text(),
            page.csp_violations,
        )

    question, refusal, earliest, violations = browser.run(steps)
    window_from = timezone.localdate() - timedelta(days=3)
    assert f"since {window_from:%A} {window_from.day} {window_from:%B}?" in question
    assert "Do not treat today" in refusal
    new_date = timezone.localdate() + timedelta(days=3)
    assert f"{new_date:%A} {new_date.day} {new_date:%B %Y}" in earliest
    assert not TreatmentRecord.objects.filter(appointment=appointment).exists()
    assert violations == []


def test_search_as_you_type_finds_obrien_without_the_apostrophe(browser, live_server, front_desk):
    from tests.factories import PatientFactory

    PatientFactory(first_name="Niamh", last_name="O'Brien")
    PatientFactory(first_name="Ola", last_name="Obi")

    def steps(page):
        log_in(page, live_server.url, front_desk.email, PASSWORD)
        page.goto(f"{live_server.url}/patients/")
        page.locator("input[name=q]").press_sequentially("obrien", delay=40)
        page.wait_for_url("**/patients/?q=obrien")
        page.wait_for_load_state("networkidle")
        shot(page, "8-search-as-you-type")
        return page.locator("#patient-results").inner_text(), page.url, page.csp_violations

    results, url, violations = browser.run(steps)
    assert "O'Brien, Niamh" in results and "Obi" not in results
    assert url.endswith("?q=obrien")  # the address follows, for Back and bookmarks
    assert violations == []


def _mark_cell(page, *, date, time, mark):
    """Put data-test=`mark` on the free cell of the column for `date` (and,
    on the day view, the first practitioner) at `time`."""
    found = page.evaluate(
        """([date, time, mark]) => {
          const rows = [...document.querySelectorAll('table.calendar-grid tbody tr')];
          const start = rows.findIndex(r => r.querySelector('th').textContent.trim() === time);
          const head = [...document.querySelectorAll('th.cal-head')]
            .find(h => h.dataset.date === date);
          const h = head.getBoundingClientRect();
          const cell = [...rows[start].querySelectorAll('td')].find(td => {
            const b = td.getBoundingClientRect();
            const middle = b.left + b.width / 2;
            return h.left <= middle && middle < h.right;
          });
          if (!cell || !cell.classList.contains('free')) return false;
          cell.dataset.test = mark;
          return true;
        }""",
        [date, time, mark],
    )
    assert found, (date, time)
    return page.locator(f'td[data-test="{mark}"]')


def test_click_an_empty_calendar_cell_to_book_there(
    browser, live_server, front_desk, healthy, injector
):
    def steps(page):
        log_in(page, live_server.url, front_desk.email, PASSWORD)
        page.goto(f"{live_server.url}/calendar/?date=2026-12-04")
        _mark_cell(page, date="2026-12-04", time="11:00", mark="here").click()
        page.wait_for_load_state()
        page.locator("input[name=q]").press_sequentially("healthy", delay=30)
        page.wait_for_selector("#patient-matches a:has-text('Hana Healthy')")
        page.locator("#patient-matches a:has-text('Hana Healthy')").click()
        page.wait_for_load_state()
        notice = page.locator(".alert-info").first.inner_text()
        page.get_by_role("button", name="Check", exact=True).click()
        page.wait_for_load_state()
        shot(page, "9-booked-from-a-cell")
        page.get_by_role("button", name="Confirm the booking").click()
        page.wait_for_url("**/appointments/*/")
        return notice, page.csp_violations

    notice, violations = browser.run(steps)
    assert "Friday 4 December at 11:00" in notice
    appointment = healthy.appointments.get()
    assert timezone.localtime(appointment.starts_at).strftime("%d %H:%M") == "04 11:00"
    assert appointment.practitioner == injector
    assert violations == []


def test_drag_an_appointment_refused_inside_the_window_accepted_outside(
    browser, live_server, front_desk, healthy, injector, flip, monkeypatch
):
    from datetime import datetime

    appointment = bookings.appointment_book(
        patient=healthy,
        practitioner=injector,
        procedure=flip,
        starts_at=local(timezone.datetime(2026, 12, 4).date(), "10:00"),
        booked_by=front_desk,
    )
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=NOW.tzinfo)
    monkeypatch.setattr("django.utils.timezone.now", lambda: saturday)
    week = f"{live_server.url}/calendar/week/?practitioner={injector.pk}&date=2026-12-01"

    def steps(page):
        log_in(page, live_server.url, front_desk.email, PASSWORD)
        page.goto(week)
        block = page.locator("a.appt-block").first
        block.drag_to(_mark_cell(page, date="2026-11-30", time="11:00", mark="monday"))
        page.wait_for_load_state()
        refused = page.locator("#refusal").inner_text()
        shot(page, "10-drag-refused")
        page.goto(week)
        block = page.locator("a.appt-block").first
        block.drag_to(_mark_cell(page, date="2026-12-03", time="11:00", mark="thursday"))
        page.wait_for_load_state()
        shot(page, "11-drag-accepted")
        page.get_by_role("button", name="Move to this time").click()
        page.wait_for_url("**/appointments/*/")
        return refused, page.csp_violations

    refused, violations = browser.run(steps)
    assert "Too soon" in refused
    appointment.refresh_from_db()
    assert timezone.localtime(appointment.starts_at).strftime("%a %H:%M") == "Thu 11:00"
    assert violations == []


def test_each_persona_main_pages_at_desk_and_phone_size(
    browser, live_server, front_desk, manager, healthy, injector, flip, patient_user
):
    """Screenshots for people to look at (artifacts/browser/), and axe-core on
    every page each persona opens (the conftest fails the test on a serious or
    critical finding)."""
    healthy.user = patient_user
    healthy.save()
    appointment = bookings.appointment_book(
        patient=healthy,
        practitioner=injector,
        procedure=flip,
        starts_at=local(timezone.datetime(2026, 12, 1).date(), "10:00"),
        booked_by=front_desk,
    )
    personas = {
        "desk": (
            front_desk.email,
            ["/desk/", "/calendar/?date=2026-12-01", "/patients/", "/book/"],
        ),
        "practitioner": (
            injector.user.email,
            ["/practice/", f"/patients/{healthy.pk}/", f"/appointments/{appointment.pk}/"],
        ),
        "manager": (manager.email, ["/manage/", "/manage/audit/", "/stock/", "/emails/"]),
        "patient": (patient_user.email, ["/portal/", "/portal/history/"]),
    }
    for persona, (email, paths) in personas.items():

        def steps(page, email=email, paths=paths, persona=persona):
            log_in(page, live_server.url, email, PASSWORD)
            statuses = {}
            for width, height, size in ((1366, 900, "desk"), (390, 844, "phone")):
                page.set_viewport_size({"width": width, "height": height})
                for path in paths:
                    response = page.goto(live_server.url + path)
                    statuses[path] = response.status
                    name = path.strip("/").split("?")[0].replace("/", "-") or "home"
                    shot(page, f"persona-{persona}-{size}-{name}")
            return statuses, page.csp_violations

        statuses, violations = browser.run(steps)
        assert set(statuses.values()) == {200}, (persona, statuses)
        assert violations == [], persona


def test_tablet_mode_shows_only_the_consent_and_then_locks(
    browser, live_server, front_desk, healthy, injector, flip
):
    appointment = bookings.appointment_book(
        patient=healthy,
        practitioner=injector,
        procedure=flip,
        starts_at=local(timezone.datetime(2026, 12, 1).date(), "10:00"),
        booked_by=front_desk,
    )

    def steps(page):
        log_in(page, live_server.url, front_desk.email, PASSWORD)
        page.goto(f"{live_server.url}/appointments/{appointment.pk}/")
        page.get_by_role("button", name="Sign on the clinic's tablet").click()
        page.wait_for_url("**/tablet/")
        page.set_viewport_size({"width": 820, "height": 1180})  # a tablet
        shot(page, "12-tablet-consent")
        signing = page.url
        page.goto(f"{live_server.url}/desk/")
        locked_from_desk = page.url
        page.goto(f"{live_server.url}/patients/{healthy.pk}/")
        locked_from_patient = page.url
        shot(page, "13-tablet-locked")
        return signing, locked_from_desk, locked_from_patient, page.content(), page.csp_violations

    signing, desk, patient, locked, violations = browser.run(steps)
    assert signing.endswith("/tablet/")
    assert desk.endswith("/tablet/locked/") and patient.endswith("/tablet/locked/")
    assert "This tablet is locked" in locked and "Hana Healthy" not in locked
    assert violations == []
