"""The manager's dashboard in a real browser: every figure, clicked, opens a
list of exactly that many rows; the grouped menu fits on one line at 1366 px
and opens from the hamburger on a phone."""

import pytest

from tests.browser.conftest import log_in, shot
from tests.clinic.test_dashboard import EXPECTED, clinic  # noqa: F401 (clinic: a fixture)
from tests.factories import PASSWORD
from tests.helpers import NOW

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# What each list shows one row per counted thing as.
ROWS = "main .list-group-item a[href^='/appointments/'], main tbody tr:not(.empty)"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


def test_every_figure_opens_a_list_of_that_many(browser, live_server, manager, clinic):  # noqa: F811
    def steps(page):
        page.set_viewport_size({"width": 1366, "height": 900})
        log_in(page, live_server.url, manager.email, PASSWORD)
        page.goto(f"{live_server.url}/manage/")
        shot(page, "manager-dashboard-1366")
        nav = page.locator("nav.navbar").bounding_box()
        figures = {}
        for link in page.locator("[data-figure]").all():
            key = link.get_attribute("data-figure")
            if link.get_attribute("href"):
                count = link.locator("[data-count], .dash-number").inner_text()
                figures[key] = (int(count), link.get_attribute("href"))
        listed = {}
        for key, (count, href) in figures.items():
            if count:
                page.goto(live_server.url + href)
                listed[key] = page.locator(ROWS).count()
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{live_server.url}/manage/")
        page.get_by_role("button", name="Show menu").click()
        # The menu slides open, then the group drops down: wait for each, or a
        # click on a loaded machine lands while they are still moving.
        page.locator(".navbar-collapse.show").wait_for()
        page.get_by_role("button", name="Records").click()
        page.locator(".dropdown-menu.show").wait_for()
        page.get_by_role("link", name="Audit", exact=True).click()
        page.wait_for_url("**/manage/audit/")  # a click does not wait for the navigation
        shot(page, "manager-audit-390")
        return nav["height"], figures, listed, page.url

    nav_height, figures, listed, last = browser.run(steps)
    assert nav_height < 70  # one line (two lines were about 110 px)
    assert {key: count for key, (count, _) in figures.items() if key in EXPECTED} == EXPECTED
    assert listed == {key: count for key, (count, _) in figures.items() if count}
    assert last.endswith("/manage/audit/")
