import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from clinic.models import Practitioner, User
from tests.factories import PASSWORD
from tests.two_factor import verified_login

pytestmark = pytest.mark.django_db

LANDING = {
    "front_desk": "desk_home",
    "practitioner": "practitioner_home",
    "manager": "manager_home",
    "patient_user": "portal_home",
}


def _user(request, persona):
    obj = request.getfixturevalue(persona)
    return obj.user if isinstance(obj, Practitioner) else obj


@pytest.mark.parametrize("persona", LANDING)
@pytest.mark.parametrize("page", LANDING.values())
def test_each_landing_page_opens_only_for_its_role(client, request, persona, page):
    client.force_login(_user(request, persona))
    response = client.get(reverse(page))
    assert response.status_code == (200 if LANDING[persona] == page else 403)


@pytest.mark.parametrize("page", LANDING.values())
def test_anonymous_visitors_are_sent_to_log_in(client, page):
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={reverse(page)}"


@pytest.mark.parametrize("persona", LANDING)
def test_home_sends_each_role_to_its_landing_page(client, request, persona):
    client.force_login(_user(request, persona))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse(LANDING[persona])


def test_a_user_without_a_role_is_told_to_ask_the_manager(client):
    client.force_login(User.objects.create_user("nobody@example.test", "x", full_name="No One"))
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert b"has no role yet" in response.content


def test_log_in_with_email_and_out(client, front_desk):
    response = client.post(reverse("login"), {"username": front_desk.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("desk_home")).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("desk_home")).status_code == 302


def test_a_wrong_password_says_what_to_do(client, front_desk):
    response = client.post(reverse("login"), {"username": front_desk.email, "password": "nope"})
    assert response.status_code == 200
    assert "Forgot your password?" in response.content.decode()
    assert "do not match an account" in response.content.decode()


def test_password_reset_by_email_end_to_end(client, front_desk):
    client.post(reverse("password_reset"), {"email": front_desk.email})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0]
    new = "a new and long passphrase 42"
    response = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert response.status_code == 302
    front_desk.refresh_from_db()
    assert front_desk.check_password(new)


def test_admin_is_for_managers_only(client, manager, front_desk):
    front_desk.is_staff = True  # given by mistake: the role still keeps them out
    front_desk.save()
    client.force_login(front_desk)
    assert client.get(reverse("admin:index")).status_code == 302
    verified_login(client, manager)  # the admin asks for a second factor too
    assert client.get(reverse("admin:index")).status_code == 200


def test_seed_demo_is_idempotent_and_its_logins_reach_their_landing_pages(client, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    counts = (User.objects.count(), Practitioner.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Practitioner.objects.count()) == counts
    for email, page in [
        ("frontdesk@vermilion.test", "desk_home"),
        ("dr.okafor@vermilion.test", "practitioner_home"),
        ("manager@vermilion.test", "manager_home"),
    ]:
        client.logout()
        response = client.post(reverse("login"), {"username": email, "password": "vermilion-demo"})
        assert response.status_code == 302, email
        assert client.get(reverse("home")).url == reverse(page)


def test_seed_demo_refuses_to_run_with_debug_off(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="only runs with DEBUG=1"):
        call_command("seed_demo")
    assert not User.objects.filter(email="manager@vermilion.test").exists()


@pytest.mark.parametrize("weekday", range(7))
def test_the_demo_has_a_working_day_whatever_the_day(monkeypatch, weekday):
    # Issue 15: on a Sunday the demo's calendar was empty. Every day, Sunday
    # included, has appointments that can be checked in, treated and signed.
    from datetime import datetime, timedelta

    from bookings import services as bookings
    from bookings.models import Appointment
    from clinic import demo
    from tests.helpers import LONDON, same_day, sign_consents
    from treatments import services as treatments
    from treatments.models import Lot

    now = datetime(2026, 11, 30, 8, 0, tzinfo=LONDON) + timedelta(days=weekday)  # a Monday on
    monkeypatch.setattr("django.utils.timezone.now", lambda: now)
    demo.seed_demo()
    today = Appointment.objects.filter(starts_at__date=now.date()).order_by("starts_at")
    assert today.count() >= 2, now.strftime("%A")
    appointment = today.first()
    sign_consents(appointment, now=now)
    bookings.appointment_check_in(appointment=appointment, by=appointment.practitioner.user)
    same_day(appointment, now=now)
    record = treatments.treatment_start(appointment=appointment, by=appointment.practitioner.user)
    part = appointment.procedure.parts()[0]
    lot = (
        Lot.objects.filter(product__doses__procedure=part, quantity_remaining__gte=1)
        .order_by("-quantity_remaining")
        .first()
    )
    site = "TX-C" if part.agent == "toxin" else "FB-UL"
    treatments.injection_add(
        record=record,
        by=record.practitioner.user,
        lot=lot,
        site=site,
        amount=1,
        depth="intramuscular" if part.agent == "toxin" else "submucosal",
        needle="33G needle",
        dilution="100 U in 2.5 mL saline",
    )
    signed = treatments.treatment_sign(
        record=record,
        by=record.practitioner.user,
        password=demo.DEMO_PASSWORD,
        anaesthetic="none",
        no_adverse_events=True,
    )
    assert signed.is_signed
