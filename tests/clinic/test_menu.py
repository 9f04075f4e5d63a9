"""The main menu: grouped so a manager's eleven pages fit on one line, and
no one gets a menu of one item."""

import pytest
from django.urls import reverse

from clinic.menu import Group, menu_for

pytestmark = pytest.mark.django_db


def _labels(items):
    return [
        (item.label, [e.label for e in item.entries]) if isinstance(item, Group) else item.label
        for item in items
    ]


def test_a_manager_sees_four_pages_and_three_groups(manager):
    assert _labels(menu_for(manager)) == [
        "Manage",
        "Calendar",
        "Book",
        "Patients",
        (
            "Clinic",
            ["Waitlist", "Stock", "Emergency kit", "Lot recall", "Catalog", "Consent forms"],
        ),
        ("Records", ["Patient reports", "Complications", "Emails", "Audit"]),
        ("Admin", ["Staff security", "Admin site"]),
    ]


def test_a_group_of_one_page_is_that_page(front_desk, practitioner):
    assert _labels(menu_for(front_desk)) == [
        "Front desk",
        "Calendar",
        "Book",
        "Patients",
        "Waitlist",
        ("Records", ["Patient reports", "Emails"]),
    ]
    assert _labels(menu_for(practitioner.user)) == [
        "My day",
        "Calendar",
        "Book",
        "Patients",
        ("Clinic", ["Stock", "Emergency kit"]),
        ("Records", ["Patient reports", "Complications"]),
    ]


def test_a_patient_sees_only_their_own_pages(patient_a):
    assert _labels(menu_for(patient_a.user)) == ["My appointments", "My medical history"]


def test_the_page_open_is_marked_and_only_that_one(manager):
    items = menu_for(manager, reverse("audit_log"))
    records = next(item for item in items if getattr(item, "label", "") == "Records")
    assert records.active
    assert [e.label for e in records.entries if e.active] == ["Audit"]
    manage = items[0]
    assert not manage.active  # /manage/ is a prefix of /manage/audit/, but not the page


def test_the_menu_renders_dropdowns_without_inline_script(client, manager):
    client.force_login(manager)
    page = client.get(reverse("manager_home")).content.decode()
    assert page.count('data-bs-toggle="dropdown"') == 3
    assert 'aria-current="page"' in page
    assert "onclick" not in page
