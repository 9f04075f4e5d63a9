from django.test import RequestFactory
from django.urls import reverse

from clinic.models import AuditEvent, Patient
from clinic.paging import Window
from tests.factories import PatientFactory


def window(page, **params):
    request = RequestFactory().get("/patients/", {"page": page, **params})
    return Window(Patient.objects.order_by("pk"), request, per_page=25)


def test_pages_through_without_counting(db, django_assert_num_queries):
    PatientFactory.create_batch(60)
    with django_assert_num_queries(1):
        first = window(1)
    assert (len(first.object_list), first.has_previous, first.has_next) == (25, False, True)
    last = window(3)
    assert (len(last.object_list), last.has_previous, last.has_next) == (10, True, False)
    assert last.object_list[-1] == Patient.objects.order_by("pk").last()


def test_exactly_full_pages_have_no_empty_next_page(db):
    PatientFactory.create_batch(50)
    assert not window(2).has_next


def test_a_bad_or_stale_page_number_shows_the_first_page(db):
    PatientFactory.create_batch(3)
    for page in ("0", "-1", "two", "", "99"):
        shown = window(page)
        assert (shown.number, len(shown.object_list)) == (1, 3)


def test_links_keep_the_search_and_filters(db):
    PatientFactory.create_batch(30)
    shown = window(2, q="smith & sons", tab="reads")
    assert shown.previous_url == "?q=smith+%26+sons&tab=reads&page=1"
    assert shown.next_url == "?q=smith+%26+sons&tab=reads&page=3"


def test_audit_log_pages_keep_the_patient_filter(client, manager):
    patient = PatientFactory()
    AuditEvent.objects.bulk_create(
        [AuditEvent(user=manager, patient=patient, what="chart", path="/") for _ in range(51)]
    )
    client.force_login(manager)
    response = client.get(reverse("audit_log"), {"patient": patient.pk})
    assert f'href="?patient={patient.pk}&amp;page=2"' in response.content.decode()
