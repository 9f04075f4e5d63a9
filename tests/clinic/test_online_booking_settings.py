"""Issue 16: the clinic's online-booking settings are the manager's, in the
admin (whether new patients may book online, how far ahead, the least
notice), and every online step follows them."""

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings.availability import Slot
from bookings.models import Appointment
from bookings.online import offered_online
from clinic.models import OnlineBookingSettings
from tests.bookings.test_portal_booking import confirm_url, portal  # noqa: F401 (fixture)
from tests.helpers import NOW, at
from tests.two_factor import verified_login

pytestmark = pytest.mark.django_db
ADMIN = "admin:clinic_onlinebookingsettings_change"


def test_the_migration_writes_the_environments_settings_into_the_row():
    row = OnlineBookingSettings.objects.get()
    assert (row.pk, row.new_patients, row.days_ahead, row.min_notice_hours) == (1, True, 90, 24)


def test_without_the_row_the_environment_answers_and_nothing_is_written(settings):
    OnlineBookingSettings.objects.all().delete()
    settings.ONLINE_BOOKING_DAYS_AHEAD = 30
    settings.ONLINE_BOOKING_MIN_NOTICE_HOURS = 0
    current = OnlineBookingSettings.current()
    assert (current.days_ahead, current.min_notice_hours) == (30, 0)
    assert not OnlineBookingSettings.objects.exists()


def test_a_manager_changes_them_in_the_admin(client, manager):
    verified_login(client, manager)
    listing = client.get(reverse("admin:clinic_onlinebookingsettings_changelist"))
    assert listing.status_code == 302 and listing.url == reverse(ADMIN, args=[1])
    page = client.get(reverse(ADMIN, args=[1]))
    assert page.status_code == 200
    assert "Least notice (hours)" in page.content.decode()
    response = client.post(
        reverse(ADMIN, args=[1]), {"new_patients": "", "days_ahead": 60, "min_notice_hours": 48}
    )
    assert response.status_code == 302
    row = OnlineBookingSettings.objects.get()
    assert (row.new_patients, row.days_ahead, row.min_notice_hours) == (False, 60, 48)


@pytest.mark.parametrize(
    ("field", "value"), [("days_ahead", 6), ("days_ahead", 366), ("min_notice_hours", 337)]
)
def test_out_of_range_values_are_refused_with_the_range(client, manager, field, value):
    verified_login(client, manager)
    data = {"new_patients": "on", "days_ahead": 90, "min_notice_hours": 24, field: value}
    response = client.post(reverse(ADMIN, args=[1]), data)
    assert response.status_code == 200
    assert "Ensure this value is" in response.content.decode()
    assert OnlineBookingSettings.objects.get().days_ahead == 90


def test_no_second_row_and_no_deletion(client, manager):
    verified_login(client, manager)
    assert client.get(reverse("admin:clinic_onlinebookingsettings_add")).status_code == 403
    assert client.get(reverse(ADMIN, args=[2])).status_code == 302  # "doesn't exist"
    delete = reverse("admin:clinic_onlinebookingsettings_delete", args=[1])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert OnlineBookingSettings.objects.exists()


def test_front_desk_cannot_change_them(client, front_desk):
    front_desk.is_staff = True  # even with admin access: not a manager
    front_desk.save()
    verified_login(client, front_desk)
    # The clinic's admin site lets managers in only: back to its login page.
    response = client.get(reverse(ADMIN, args=[1]))
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    response = client.post(reverse(ADMIN, args=[1]), {"days_ahead": 365, "min_notice_hours": 0})
    assert response.status_code == 302
    assert OnlineBookingSettings.objects.get().days_ahead == 90


def _slot(hours):
    start = int((NOW + timedelta(hours=hours)).timestamp())
    return Slot(None, start, start + 900)


def test_offered_times_keep_the_least_notice_and_the_days_ahead():
    policy = OnlineBookingSettings(days_ahead=7, min_notice_hours=120)
    slots = [_slot(h) for h in (119, 120, 24 * 7, 24 * 8 + 1)]
    offered = offered_online(slots, recommended_date=NOW.date(), now=NOW, policy=policy)
    assert offered == [slots[1], slots[2]]


def test_the_portal_offers_nothing_inside_the_notice_and_refuses_it_if_posted(
    portal,  # noqa: F811
    flip,
    injector,
    healthy,
):
    OnlineBookingSettings.objects.update_or_create(pk=1, defaults={"min_notice_hours": 7 * 24})
    page = portal.get(reverse("portal_book"), {"procedure": flip.pk})
    assert min(page.context["days"]) == NOW.date() + timedelta(days=7)
    response = portal.post(confirm_url(flip, injector, at(NOW.date() + timedelta(days=5), "10:00")))
    codes = [e.code for e in response.context["form"].non_field_errors().data]
    assert "too_short_notice" in codes
    assert "at least 168 hours ahead" in response.content.decode()
    assert not Appointment.objects.filter(patient=healthy).exists()
