"""Version 1 of the two consent forms (lip flip, lip filler; the combined
procedure needs both), their append-only guards, and who may do what."""

from django.db import migrations
from django.utils import timezone

from clinic.db import append_only_trigger
from clinic.roles import Role, grant_permissions

LIP_FLIP = """\
What the treatment is
A lip flip uses a very small dose of botulinum toxin (Botox or Dysport) injected into the muscle just above the upper lip. The muscle relaxes a little, so the upper lip turns slightly outwards and more of its pink part shows. It does not add volume: that is what filler does.

What to expect
The injections take a few minutes. The effect starts after a few days, is complete after about two weeks, and wears off gradually, usually after two to three months. A repeat treatment should be at least 90 days after the last one.

Common effects, which usually pass within days
- Bruising, redness, tenderness or swelling where the needle went in
- A mild headache

Effects of the relaxed lip muscle, which last until the toxin wears off
- Difficulty drinking through a straw, whistling or spitting
- Finding the sounds "p" and "b" slightly harder to make
- Some dribbling or drooling
- An uneven result, or a result that is weaker or stronger than hoped; a weak result can sometimes be adjusted at a review, an overly strong one cannot be reversed and has to wear off

Rare but serious
- The toxin can spread beyond the area treated and weaken other muscles. Seek medical help at once if you have difficulty swallowing, speaking or breathing, or new weakness anywhere in the body, in the days or weeks after treatment.
- An allergic reaction to the product, which can be severe.

Before and after
I have been told to avoid alcohol and blood thinners I can stop myself (such as aspirin, ibuprofen and fish oil) for the days before treatment, and never to stop a blood thinner prescribed by a doctor. I have been given aftercare instructions and know how to contact the clinic.

My answers
I have answered the medical questions truthfully and completely, including about pregnancy, breastfeeding, nerve or muscle conditions and the medicines I take. I have had the chance to ask questions and have had them answered. I know I can change my mind at any time before the treatment."""

LIP_FLIP_STATEMENT = (
    "I consent to a lip flip with botulinum toxin (Botox or Dysport) at the clinic, "
    "and I understand the effects and risks described above."
)

LIP_FILLER = """\
What the treatment is
Lip filler is a gel of hyaluronic acid (Juvederm or Restylane) injected into the lips to add volume, shape and hydration. Hyaluronic acid occurs naturally in the body; the gel also contains lidocaine, a local anaesthetic, to make the treatment more comfortable.

What to expect
The result shows straight away, though the lips will look fuller than the final result for the first days while swelling settles. It usually lasts six to twelve months. A review is offered about two weeks after treatment.

Common effects, which usually settle within one to two weeks
- Swelling, sometimes uneven, which can last up to two weeks
- Bruising, redness and tenderness
- Small lumps that can be felt, which usually soften with time
- Some unevenness between the two sides

Less common
- Infection at the injection sites
- A flare-up of cold sores in people who get them
- An allergic reaction to the gel or to lidocaine
- Discolouration of the skin, including a bluish tinge if gel sits close to the surface
- Firm lumps or inflammation appearing weeks or months later (delayed reactions, granulomas), which may need treatment

Rare but serious
- Filler can block a blood vessel. This can damage the skin over it and, very rarely, cause loss of sight or a stroke. Call the clinic immediately, day or night, if the skin turns pale, white, blotchy or dusky, if pain is severe or increasing, or if your vision changes in any way.
- Hyaluronic acid filler can be dissolved with an enzyme called hyaluronidase if a problem needs it; this has its own small risk of allergy.

Before and after
I have been told to avoid alcohol and blood thinners I can stop myself (such as aspirin, ibuprofen and fish oil) for the days before treatment, and never to stop a blood thinner prescribed by a doctor. I have been given aftercare instructions and know how to contact the clinic urgently.

My answers
I have answered the medical questions truthfully and completely, including about pregnancy, breastfeeding, allergies, cold sores, recent or planned dental work and the medicines I take. I have had the chance to ask questions and have had them answered. I know I can change my mind at any time before the treatment."""

LIP_FILLER_STATEMENT = (
    "I consent to lip filler with hyaluronic acid (Juvederm or Restylane) at the clinic, "
    "and I understand the effects and risks described above, including the rare risk of a "
    "blocked blood vessel."
)


def create_forms(apps, schema_editor):
    Procedure = apps.get_model("treatments", "Procedure")
    ConsentForm = apps.get_model("treatments", "ConsentForm")
    # Whole seconds: Django's JSON serializer (used to restore data between
    # transactional tests) keeps milliseconds only, and rewriting a final row
    # with a rounded time would be a change the PostgreSQL trigger refuses.
    published = timezone.now().replace(microsecond=0)
    for code, title, body, statement in [
        ("lip-flip", "Consent to a lip flip (botulinum toxin)", LIP_FLIP, LIP_FLIP_STATEMENT),
        ("lip-filler", "Consent to lip filler (hyaluronic acid)", LIP_FILLER, LIP_FILLER_STATEMENT),
    ]:
        procedure = Procedure.objects.filter(code=code).first()
        if procedure is not None:
            ConsentForm.objects.create(
                procedure=procedure,
                version=1,
                title=title,
                body=body,
                statement=statement,
                created_at=published,
            )


def grant(apps, schema_editor):
    staff = [
        "treatments.view_consentform",
        "treatments.view_consentsignature",
        "treatments.add_consentrequest",
    ]
    grant_permissions(
        apps,
        {
            Role.FRONT_DESK: staff,
            Role.PRACTITIONER: [*staff, "treatments.void_consentsignature"],
            Role.MANAGER: [
                *staff,
                "treatments.void_consentsignature",
                "treatments.add_consentform",
            ],
        },
    )


class Migration(migrations.Migration):
    dependencies = [("treatments", "0003_consent"), ("clinic", "0002_roles")]

    operations = [
        append_only_trigger("treatments_consentform"),
        append_only_trigger("treatments_consentsignature"),
        migrations.RunPython(create_forms, migrations.RunPython.noop),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
