"""Comparing a patient's photos across visits (issue 19): the same view side
by side, with the dates and what was injected; on the chart and the record."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from tests.factories import LotFactory
from tests.helpers import at, past_visit, take_photos
from tests.test_access_matrix import world  # noqa: F401 (a fixture)
from tests.treatments.test_photos import photo_root  # noqa: F401 (a fixture)
from treatments.models import Photo, Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def june(world, filler):  # noqa: F811
    """A filler visit in June, photographed before and after, front and lips."""
    volbella = LotFactory(
        product=Product.objects.get(name="Juvederm Volbella XC"), lot_number="VB7"
    )
    return past_visit(
        world["a"],
        world["practitioner"],
        filler,
        at(date(2026, 6, 10), "10:00"),
        lines=[(volbella, "FB-UL", "0.4"), (volbella, "FB-UR", "0.4")],
        photos=[("before", "front"), ("after", "front"), ("after", "lips")],
    )


def compare(client, user, patient, query=""):
    client.force_login(user)
    return client.get(reverse("treatments:photo_compare", args=[patient.pk]) + query)


def test_visits_side_by_side_aligned_by_view(client, world, june):  # noqa: F811
    response = compare(client, world["users"]["practitioner"], world["a"])
    assert response.status_code == 200
    columns, rows = response.context["columns"], response.context["rows"]
    # Oldest visit first; a column per phase photographed at that visit.
    assert [(c.visit.appointment, c.phase) for c in columns] == [
        (june.appointment, "before"),
        (june.appointment, "after"),
        (world["record"].appointment, "before"),
    ]
    assert [row.label for row in rows] == ["Front", "Lips close-up"]
    front, lips = rows
    assert all(len(row.cells) == len(columns) for row in rows)
    june_front = list(Photo.objects.filter(appointment=june.appointment, view="front"))
    expected = [[june_front[0]], [june_front[1]], [world["photo"]]]
    assert [cell.photos for cell in front.cells] == expected
    assert [len(cell.photos) for cell in lips.cells] == [0, 1, 0]
    page = response.content.decode()
    assert "10 Jun 2026" in page and "26 Nov 2026" in page
    assert "Juvederm Volbella XC: 0.80 mL" in page  # the June record's total
    assert "Botox Cosmetic: 2 U" in page  # today's (a draft)
    assert "draft" in page
    for photo in [*june_front, world["photo"]]:
        assert reverse("treatments:photo_thumbnail", args=[photo.pk]) in page


def test_one_view_at_a_time(client, world, june):  # noqa: F811
    response = compare(client, world["users"]["practitioner"], world["a"], "?view=lips")
    (row,) = response.context["rows"]
    assert row.label == "Lips close-up"
    assert [(c.visit.appointment, c.phase) for c in response.context["columns"]] == [
        (june.appointment, "after")
    ]
    assert (
        compare(client, world["users"]["practitioner"], world["a"], "?view=up").status_code == 400
    )


def test_a_review_visit_names_the_treatment_it_reviews(client, world, june):  # noqa: F811
    take_photos(world["future"], phase="review", view="front", by=world["users"]["practitioner"])
    response = compare(client, world["users"]["practitioner"], world["a"])
    (last,) = [c for c in response.context["columns"] if c.visit.appointment == world["future"]]
    assert last.visit.reviewed == world["signed"] and last.visit.record is None
    assert "Review of the treatment of 25 Nov 2026" in response.content.decode()


def test_hidden_photos_are_not_compared(client, world, june):  # noqa: F811
    Photo.objects.filter(appointment=june.appointment).update(
        hidden_at=timezone.now(), hidden_by=world["users"]["manager"], hidden_reason="wrong patient"
    )
    response = compare(client, world["users"]["practitioner"], world["a"])
    assert [c.visit.appointment for c in response.context["columns"]] == [
        world["record"].appointment
    ]


@pytest.mark.parametrize("persona", ["patient_a", "patient_b", "front_desk", "anonymous"])
def test_patients_and_the_front_desk_cannot_compare(client, world, june, persona):  # noqa: F811
    if persona != "anonymous":
        client.force_login(world["users"][persona])
    response = client.get(reverse("treatments:photo_compare", args=[world["a"].pk]))
    assert response.status_code in (302, 403, 404)
    assert b"photo-compare" not in response.content
    assert not AuditEvent.objects.filter(what__startswith="photo").exists()


@pytest.mark.parametrize("persona", ["practitioner", "other", "manager"])
def test_a_clinicians_comparison_is_audited(client, world, june, persona):  # noqa: F811
    user = world["users"][persona]
    assert compare(client, user, world["a"]).status_code == 200
    event = AuditEvent.objects.get(what="photo comparison")
    assert (event.user, event.patient, event.action) == (user, world["a"], AuditEvent.Action.VIEW)


def test_the_comparison_does_not_grow_with_visits(
    client,
    world,  # noqa: F811
    june,
    filler,
    django_assert_max_num_queries,
):
    client.force_login(world["users"]["practitioner"])
    url = reverse("treatments:photo_compare", args=[world["a"].pk])
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    lot = LotFactory(product=Product.objects.get(name="Juvederm Volbella XC"))
    for month in (7, 8, 9):
        past_visit(
            world["a"],
            world["practitioner"],
            filler,
            at(date(2026, month, 10), "10:00"),
            lines=[(lot, "FB-LL", "0.5")],
            photos=[("before", "front"), ("after", "left_oblique")],
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(url).context["columns"]) == 9


def test_the_comparison_prints(client, world, june):  # noqa: F811
    page = compare(client, world["users"]["practitioner"], world["a"]).content.decode()
    assert 'id="print-button"' in page and "photo-compare-print.css" in page
    assert "print-header" in page  # who, what and when, on paper


def test_the_photos_page_and_the_chart_lead_to_the_comparison(client, world, june):  # noqa: F811
    client.force_login(world["users"]["practitioner"])
    url = reverse("treatments:photo_compare", args=[world["a"].pk])
    photos = reverse("treatments:photos", args=[world["record"].appointment_id])
    assert url in client.get(photos).content.decode()
    assert url in client.get(reverse("treatments:chart", args=[world["a"].pk])).content.decode()


# The chart and the record


def test_the_chart_shows_each_visits_thumbnails(client, world, june):  # noqa: F811
    client.force_login(world["users"]["practitioner"])
    response = client.get(reverse("treatments:chart", args=[world["a"].pk]))
    records = {record.pk: record for record in response.context["records"]}
    assert [p.phase for p in records[june.pk].photo_list] == ["before", "after", "after"]
    assert records[world["signed"].pk].photo_list == []
    page = response.content.decode()
    for photo in records[june.pk].photo_list:
        assert reverse("treatments:photo_thumbnail", args=[photo.pk]) in page


def test_a_signed_record_lists_the_photos_taken(client, world, june):  # noqa: F811
    client.force_login(world["users"]["other"])
    page = client.get(june.get_absolute_url()).content.decode()
    assert 'id="record-photo-list"' in page
    for photo in Photo.objects.filter(appointment=june.appointment):
        assert reverse("treatments:photo_image", args=[photo.pk]) in page
    assert "After · Lips close-up" in page
