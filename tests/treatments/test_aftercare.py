"""Aftercare red flags and the out-of-hours number, everywhere a patient reads
their aftercare: the emails, the portal and the printed treatment record."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.template import Context, Template
from django.urls import reverse

from clinic.models import Notification
from tests.factories import PASSWORD, LotFactory
from tests.helpers import at, book, history
from tests.treatments.test_records import D5, DAY, add, complete, ready
from treatments import messages as treatment_messages
from treatments import services
from treatments.aftercare import FILLER_RED_FLAGS, TOXIN_RED_FLAGS, red_flags_for
from treatments.rules import Agent

pytestmark = pytest.mark.django_db

OUT_OF_HOURS = "07700 900 111"
# A line of each set, as a patient reads it.
FILLER_SIGN = "skin on or around your lips that turns pale or white, or dusky, blue or blotchy"
FILLER_ACTION = "Call 999 or go to A&E now"
TOXIN_SIGN = "trouble swallowing, breathing or speaking"


@pytest.fixture(autouse=True)
def out_of_hours(settings):
    settings.CLINIC_OUT_OF_HOURS_PHONE = OUT_OF_HOURS


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: DAY)


@pytest.fixture
def signed(healthy, injector, flip):
    appointment = ready(healthy, injector, flip)
    record = services.treatment_start(appointment=appointment, by=injector.user, now=DAY)
    add(record, LotFactory(lot_number="R1"))
    complete(record)
    return services.treatment_sign(record=record, by=injector.user, password=PASSWORD, now=DAY)


def shows(text, *, filler, toxin):
    assert (FILLER_SIGN in text, FILLER_ACTION in text) == (filler, filler)
    assert (TOXIN_SIGN in text) == toxin
    assert OUT_OF_HOURS in text
    assert "020 7946 0000" in text  # the clinic's own number


def plain(text):
    """The red flags in a plain-text email are not HTML-escaped."""
    start = text.index("IF SOMETHING IS WRONG AFTER YOUR TREATMENT")
    section = text[start : text.index(" out of hours.", start)]
    assert "&" not in section.replace("A&E", "")
    return text


@pytest.mark.parametrize(
    ("agents", "expected"),
    [
        ({Agent.TOXIN}, [TOXIN_RED_FLAGS]),
        ({Agent.FILLER}, [FILLER_RED_FLAGS]),
        ({Agent.TOXIN, Agent.FILLER}, [FILLER_RED_FLAGS, TOXIN_RED_FLAGS]),
        (set(), []),
    ],
)
def test_red_flags_follow_the_agents(agents, expected):
    assert red_flags_for(agents) == expected


def _out_of_hours_setting(**env):
    """CLINIC_OUT_OF_HOURS_PHONE as the real settings read it from `env`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CLINIC_")}
    result = subprocess.run(
        [sys.executable, "-c", "import clinic.settings as s; print(s.CLINIC_OUT_OF_HOURS_PHONE)"],
        cwd=Path(__file__).resolve().parents[2],
        env={**environ, "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_the_out_of_hours_number_is_read_from_the_environment():
    assert _out_of_hours_setting(CLINIC_OUT_OF_HOURS_PHONE=" 07700 900222 ") == "07700 900222"


@pytest.mark.parametrize("env", [{}, {"CLINIC_OUT_OF_HOURS_PHONE": ""}])
def test_without_an_out_of_hours_number_the_clinics_is_used(env):
    assert _out_of_hours_setting(CLINIC_PHONE="01632 960000", **env) == "01632 960000"


# Emails


def test_the_aftercare_email_of_a_lip_flip_shows_the_toxin_red_flags(signed):
    email = Notification.objects.get(kind="aftercare", appointment=signed.appointment)
    shows(plain(email.body_text), filler=False, toxin=True)
    assert TOXIN_SIGN in email.body_html and OUT_OF_HOURS in email.body_html


def test_a_combined_procedure_shows_both_sets(healthy, injector, combined):
    appointment = ready(healthy, injector, combined)
    record = services.treatment_start(appointment=appointment, by=injector.user, now=DAY)
    treatment_messages.treatment_signed(record, now=DAY)
    email = Notification.objects.get(kind="aftercare", appointment=appointment)
    shows(plain(email.body_text), filler=True, toxin=True)
    html = email.body_html
    assert FILLER_SIGN in html and TOXIN_SIGN in html and "A&amp;E" in html


@pytest.mark.parametrize(
    ("procedure", "filler_flags", "toxin_flags"),
    [("flip", False, True), ("filler", True, False), ("combined", True, True)],
)
def test_the_booking_confirmation_shows_the_red_flags(
    request, healthy, injector, procedure, filler_flags, toxin_flags
):
    appointment = book(healthy, injector, request.getfixturevalue(procedure), at(D5, "10:00"))
    email = Notification.objects.get(kind="confirmation", appointment=appointment)
    shows(plain(email.body_text), filler=filler_flags, toxin=toxin_flags)
    assert "IF SOMETHING IS WRONG AFTER YOUR TREATMENT" in email.body_text
    assert "If something is wrong after your treatment" in email.body_html


# Pages


def test_the_portal_shows_the_box_with_both_numbers(client, patient_a, injector, combined):
    history(patient_a)
    book(patient_a, injector, combined, at(D5, "10:00"))
    client.force_login(patient_a.user)
    page = client.get(reverse("portal_home")).content.decode()
    assert "If something is wrong after your treatment" in page
    shows(page.replace("A&amp;E", "A&E"), filler=True, toxin=True)


def test_the_portal_shows_no_box_without_a_treatment(client, patient_a):
    client.force_login(patient_a.user)
    page = client.get(reverse("portal_home")).content.decode()
    assert "If something is wrong after your treatment" not in page


def test_the_printed_record_shows_the_red_flags(client, signed):
    client.force_login(signed.practitioner.user)
    page = client.get(reverse("treatments:record", args=[signed.pk])).content.decode()
    shows(page, filler=False, toxin=True)


def test_the_tag_shows_both_sets_for_a_combined_procedure(combined):
    html = Template("{% load aftercare %}{% red_flags procedure %}").render(
        Context({"procedure": combined})
    )
    shows(html.replace("A&amp;E", "A&E"), filler=True, toxin=True)


def test_without_an_out_of_hours_number_the_clinic_number_shows_once(settings):
    from django.template.loader import render_to_string

    from treatments.aftercare import red_flags_for

    settings.CLINIC_PHONE = settings.CLINIC_OUT_OF_HOURS_PHONE = "020 7946 0000"
    text = render_to_string(
        "emails/_red_flags.txt",
        {
            "red_flags": red_flags_for({"toxin"}),
            "CLINIC_PHONE": settings.CLINIC_PHONE,
            "CLINIC_OUT_OF_HOURS_PHONE": settings.CLINIC_OUT_OF_HOURS_PHONE,
        },
    )
    assert text.count("020 7946 0000") == 1 and "out of hours" not in text
