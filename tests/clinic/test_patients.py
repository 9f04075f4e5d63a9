from datetime import date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic import services
from clinic.models import Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
NOW = datetime.fromisoformat("2026-11-26T10:00:00+00:00")


def new_patient(front_desk, **changes):
    fields = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": date(1990, 12, 10),
        "phone": "07700 900555",
        "email": "Ada@Example.TEST",
    }
    fields.update(changes)
    return services.patient_create(created_by=front_desk, now=NOW, **fields)


def test_create_normalises_and_indexes_the_patient(front_desk):
    patient = new_patient(front_desk, first_name=" Zoë ", last_name="O'Brien")
    assert (patient.first_name, patient.email) == ("Zoë", "ada@example.test")
    assert patient.search_text == "zoe obrien 447700900555 07700900555 ada@example.test"
    assert patient.created_by == front_desk


def test_the_same_person_twice_is_refused(front_desk):
    new_patient(front_desk)
    with pytest.raises(ValidationError) as exc:
        new_patient(front_desk, first_name="ADA", phone="07700 900000")
    assert exc.value.code == "duplicate_patient"
    assert "Open their record" in exc.value.messages[0]
    assert Patient.objects.count() == 1


@pytest.mark.parametrize(
    ("born", "code"), [(date(2026, 11, 27), "born_in_future"), (date(1900, 1, 1), "too_old")]
)
def test_impossible_dates_of_birth_are_refused(front_desk, born, code):
    with pytest.raises(ValidationError) as exc:
        new_patient(front_desk, date_of_birth=born)
    assert exc.value.code == code
    assert not Patient.objects.exists()


@pytest.mark.parametrize("phone", ["call me", "12", "0770 090", "07700 900123 4567", "+99 123"])
def test_a_bad_phone_number_is_refused_with_an_example(front_desk, phone):
    with pytest.raises(ValidationError) as exc:
        new_patient(front_desk, phone=phone)
    assert "e.g. 07700 900123" in exc.value.message_dict["phone"][0]
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("typed", "kept", "shown"),
    [
        ("07700 900555", "+447700900555", "07700 900555"),
        ("+44 (0)7700 900555", "+447700900555", "07700 900555"),
        ("0044 7700-900-555", "+447700900555", "07700 900555"),
        ("020 7946 0018", "+442079460018", "020 7946 0018"),
        ("+33 6 12 34 56 78", "+33612345678", "+33 6 12 34 56 78"),
    ],
)
def test_phone_numbers_are_kept_in_e164_and_shown_as_people_write_them(
    front_desk, typed, kept, shown
):
    patient = new_patient(front_desk, phone=typed)
    patient.refresh_from_db()
    assert (patient.phone, patient.phone_display, patient.phone_unreadable) == (kept, shown, False)


@pytest.mark.parametrize("query", ["07700 900555", "07700900555", "+44 7700 900555", "900555"])
def test_a_patient_is_found_by_their_number_however_it_is_typed(front_desk, query):
    patient = new_patient(front_desk, phone="+447700900555")
    assert list(Patient.objects.search(query)) == [patient]


def test_a_number_typed_before_checks_is_kept_and_flagged(client, front_desk):
    patient = PatientFactory()
    Patient.objects.filter(pk=patient.pk).update(phone="ask reception")
    client.force_login(front_desk)
    page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "“ask reception”, is not one we can read" in page
    assert "Correct it" in page


def test_unreadable_phones_lists_them(db):
    from io import StringIO

    from django.core.management import call_command

    kept = PatientFactory(first_name="Kept")
    odd = PatientFactory(first_name="Odd")
    Patient.objects.filter(pk=odd.pk).update(phone="n/a")
    out = StringIO()
    call_command("unreadable_phones", stdout=out)
    assert f"{odd.pk}\tOdd" in out.getvalue()
    assert "Kept" not in out.getvalue() and kept.phone.startswith("+44")
    assert "1 unreadable phone number(s)." in out.getvalue()


@pytest.fixture
def people(db):
    return [
        PatientFactory(
            first_name="Zoë",
            last_name="O'Brien",
            phone="07700 900105",
            email="zoe@example.test",
            date_of_birth=date(2004, 6, 15),
        ),
        PatientFactory(
            first_name="Priya",
            last_name="Raman",
            phone="+44 7700 900102",
            email="priya@example.test",
            date_of_birth=date(1987, 9, 3),
        ),
        PatientFactory(
            first_name="Zachary",
            last_name="Obi",
            phone="07700 900999",
            email="zach@example.test",
            date_of_birth=date(1987, 9, 4),
        ),
        PatientFactory(
            first_name="Mai",
            last_name="Ng",
            phone="07700 900333",
            email="mai@example.test",
            date_of_birth=date(1990, 1, 1),
        ),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("zoe", ["Zoë"]),
        ("ZOË o'b", ["Zoë"]),
        ("raman priya", ["Priya"]),
        ("7700 900102", ["Priya"]),
        ("07700900105", ["Zoë"]),
        ("zach@example", ["Zachary"]),
        ("03/09/1987", ["Priya"]),
        ("1987-09-04", ["Zachary"]),
        ("obi", ["Zachary"]),
        ("ob", []),  # a short word is a whole surname, not a fragment
        ("NG", ["Mai"]),
        ("ng mai", ["Mai"]),
        ("07", []),
        ("nobody", []),
    ],
)
def test_search_by_name_phone_email_or_date_of_birth(people, query, expected):
    found = Patient.objects.search(query)
    assert sorted(p.first_name for p in found) == expected


def test_search_results_are_in_name_order_whatever_the_case(db):
    for first, last in [("Ann", "de Silva"), ("Bea", "Dean"), ("Cy", "Davies"), ("Al", "Dean")]:
        PatientFactory(first_name=first, last_name=last, phone="07700 900555")
    found = Patient.objects.search("900555")
    assert [(p.first_name, p.last_name) for p in found] == [
        ("Cy", "Davies"),
        ("Ann", "de Silva"),
        ("Al", "Dean"),
        ("Bea", "Dean"),
    ]


def test_search_list_is_a_bounded_number_of_queries(
    client, front_desk, django_assert_max_num_queries
):
    client.force_login(front_desk)
    PatientFactory.create_batch(5)
    with django_assert_max_num_queries(13) as small:  # 13: the search is audited
        client.get(reverse("patients:list"), {"q": "07700"})
    PatientFactory.create_batch(60)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("patients:list"), {"q": "07700"})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 25
    assert "More than 25 patients match “07700”" in response.content.decode()


def test_front_desk_registers_a_patient_through_the_form(client, front_desk):
    client.force_login(front_desk)
    response = client.post(
        reverse("patients:create"),
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "date_of_birth": "1990-12-10",
            "phone": "07700 900555",
            "email": "",
        },
    )
    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("patients:detail", args=[patient.pk])


def test_the_form_marks_the_field_to_fix_and_saves_nothing(client, front_desk):
    client.force_login(front_desk)
    response = client.post(
        reverse("patients:create"),
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "date_of_birth": "2099-01-01",
            "phone": "07700 900555",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["date_of_birth"] == [services.BORN_IN_FUTURE.message]
    assert not Patient.objects.exists()


def test_editing_contact_details(client, front_desk, patient):
    client.force_login(front_desk)
    response = client.post(
        reverse("patients:edit", args=[patient.pk]),
        {
            "first_name": "Alice",
            "last_name": "Patient",
            "date_of_birth": "1990-05-17",
            "phone": "07700 111222",
            "email": "new@example.test",
        },
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.phone, patient.search_text.split()[-1]) == ("+447700111222", "new@example.test")


def test_the_edit_form_shows_the_number_as_people_write_it(client, front_desk, patient):
    client.force_login(front_desk)
    form = client.get(reverse("patients:edit", args=[patient.pk])).context["form"]
    assert form.initial["phone"] == patient.phone_display
    assert not form.initial["phone"].startswith("+")


@pytest.mark.parametrize("query", ["obrien", "O'Brien", "o’brien", "zoe obrien"])
def test_search_ignores_apostrophes(front_desk, query):
    # Issue 15: "obrien" did not find O'Brien.
    patient = new_patient(front_desk, first_name="Zoë", last_name="O'Brien")
    assert list(Patient.objects.search(query)) == [patient]


def test_the_migration_recomputes_names_with_apostrophes(front_desk):
    from importlib import import_module

    from django.apps import apps

    patient = new_patient(front_desk, first_name="Zoë", last_name="O'Brien")
    plain = new_patient(front_desk, first_name="Ann", last_name="Lee")
    Patient.objects.filter(pk=patient.pk).update(search_text="zoe o'brien old")
    Patient.objects.filter(pk=plain.pk).update(search_text="kept as it was")
    import_module("clinic.migrations.0009_search_without_apostrophes").recompute(apps, None)
    patient.refresh_from_db()
    plain.refresh_from_db()
    assert patient.search_text.startswith("zoe obrien ")
    assert plain.search_text == "kept as it was"
