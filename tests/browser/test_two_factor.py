"""A member of staff sets up two-factor login and logs in with a code, in a
real browser (issue 14)."""

import base64

import pytest
from django_otp.oath import totp

from clinic.accounts.services import two_factor_mark
from tests.browser.conftest import log_in, shot
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def code(secret, offset=0):
    return f"{totp(base64.b32decode(secret), drift=offset):06d}"


def test_a_member_of_staff_enrols_then_logs_in_with_a_code(
    browser, live_server, front_desk, manager
):
    two_factor_mark(user=front_desk, by=manager, required=True)

    def steps(page):
        log_in(page, live_server.url, front_desk.email, PASSWORD)
        assert "/account/two-factor/setup/" in page.url
        assert page.locator("[data-testid=qr-code] svg").count() == 1
        shot(page, "two-factor-setup")
        secret = page.locator("[data-testid=totp-secret]").inner_text().strip()
        page.fill("input[name=token]", code(secret))
        page.get_by_role("button", name="Turn on two-factor login").click()
        page.wait_for_load_state()
        codes = page.locator("[data-testid=recovery-codes] li").all_inner_texts()
        shot(page, "two-factor-recovery-codes")
        page.get_by_role("link", name="I have kept them: continue").click()
        page.wait_for_url("**/desk/")
        landed = page.url
        page.get_by_role("button", name="Log out").click()
        page.wait_for_load_state()

        log_in(page, live_server.url, front_desk.email, PASSWORD)
        asked = page.url
        # The code of the next 30 seconds: the one above may not be used twice.
        page.fill("input[name=token]", code(secret, offset=1))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/desk/")  # a click does not wait for the navigation
        shot(page, "two-factor-logged-in")
        return codes, landed, asked, page.url, page.csp_violations

    codes, landed, asked, final, violations = browser.run(steps)
    assert len(codes) == 10
    assert landed.endswith("/desk/")
    assert "/account/two-factor/verify/" in asked
    assert final.endswith("/desk/")
    assert violations == []
